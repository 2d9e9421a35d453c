"""The example programs (examples/c/generate_image.c over libhorde.so, examples/cpp/
generate_text.cpp over the C++ library) built and run against the server with a scripted worker.

When the build has the examples (top-level add_subdirectory(examples)) their binaries are used;
otherwise they are compiled here from the sources and the libraries of $HORDE_BUILD.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess

import pytest

from .client_harness import BUILD, REPO, UUID, Server, sanitized_build

LIB_DIR = BUILD / "src" / "client"


def _compile(cmd: list[str]) -> None:
    if sanitized_build():  # an ASan library needs an ASan program (runtime first)
        cmd = [cmd[0], "-fsanitize=address,undefined", *cmd[1:]]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr[-3000:]}"


def _c_example(tmp: pathlib.Path) -> pathlib.Path:
    built = BUILD / "examples" / "c" / "generate_image"
    if built.exists():
        return built
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    if not (LIB_DIR / "libhorde.so").exists():
        pytest.fail(f"libhorde.so not found in {LIB_DIR} (set HORDE_BUILD=...)")
    out = tmp / "generate_image"
    _compile([cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
              "-I", str(REPO / "src" / "client"), str(REPO / "examples" / "c" / "generate_image.c"),
              "-L", str(LIB_DIR), "-lhorde", f"-Wl,-rpath,{LIB_DIR}", "-o", str(out)])
    return out


def _cpp_example(tmp: pathlib.Path) -> pathlib.Path:
    built = BUILD / "examples" / "cpp" / "generate_text"
    if built.exists():
        return built
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    libs = [BUILD / "src" / "client" / "libhorde_client.a",
            BUILD / "src" / "httpclient" / "libhorde_httpclient.a",
            BUILD / "src" / "common" / "libhorde_common.a"]
    for lib in libs:
        if not lib.exists():
            pytest.fail(f"{lib} not found (set HORDE_BUILD=...)")
    out = tmp / "generate_text"
    _compile([cxx, "-std=c++20", "-Wall", "-Wextra", "-Werror", "-I", str(REPO / "src"),
              str(REPO / "examples" / "cpp" / "generate_text.cpp"), *map(str, libs),
              "-lcurl", "-lboost_json", "-lsodium", "-lfmt", "-pthread", "-o", str(out)])
    return out


def _env(server: Server, key: str) -> dict[str, str]:
    return {**os.environ, "HORDE_URL": server.url, "HORDE_API_KEY": key}


def test_c_example_generates_and_saves_an_image(server: Server, account, worker_factory,
                                                tmp_path: pathlib.Path):
    exe = _c_example(tmp_path)
    w = worker_factory("image")
    out_dir = tmp_path / "images"
    out_dir.mkdir()
    r = subprocess.run([str(exe), "a red fox in the snow", str(out_dir)], capture_output=True,
                       text=True, timeout=60, env=_env(server, account.key))
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(rf"({UUID})_(\d+)\.webp \(model stable_diffusion, worker {w.name}\)", r.stdout)
    assert m, r.stdout
    saved = out_dir / f"{m.group(1)}_{m.group(2)}.webp"
    assert saved.read_bytes() == w.uploads[m.group(2)]
    assert re.search(rf"request {m.group(1)} queued", r.stderr)
    assert "queue " in r.stderr  # the progress callback ran
    payload = w.jobs[0]["payload"]
    assert payload["prompt"] == "a red fox in the snow"
    assert (payload["width"], payload["height"], payload["ddim_steps"]) == (512, 512, 20)


def test_c_example_reports_the_servers_error(server: Server, tmp_path: pathlib.Path):
    exe = _c_example(tmp_path)
    r = subprocess.run([str(exe), "a fox"], capture_output=True, text=True, timeout=60,
                       env=_env(server, "bad-key-456"))
    assert r.returncode == 1
    assert "HORDE_ERR_AUTH" in r.stderr
    assert "No user matching sent API Key" in r.stderr


def test_cpp_example_generates_text(server: Server, account, worker_factory,
                                    tmp_path: pathlib.Path):
    exe = _cpp_example(tmp_path)
    worker_factory("text", text="The fox slept.")
    r = subprocess.run([str(exe), "Write about a fox"], capture_output=True, text=True,
                       timeout=60, env=_env(server, account.key))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "The fox slept.\n"
    assert re.search(rf"request {UUID} queued", r.stderr)
