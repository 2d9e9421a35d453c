"""`horde text` and `horde image` against a real horded and a scripted worker: happy paths,
--json, and every failure exit code (auth 4, network 3, rejected 5, faulted/timeout 6, Ctrl-C 130).
"""

from __future__ import annotations

import json
import pathlib
import re
import signal

from .client_harness import UUID, Cli, Server, closed_port_url


def test_text_prints_the_generated_text(cli: Cli, account, worker_factory):
    worker_factory("text", text="It was a dark and stormy night.")
    r = cli.run("text", "Once upon a time", "--max-length", "64", "--context", "1024",
                "--temperature", "0.7", "--top-p", "0.9", "--top-k", "40", "--rep-pen", "1.1",
                "--stop", "\nUser:", "--stop", "###", key=account.key)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "It was a dark and stormy night.\n"
    # Not a terminal: plain progress lines on stderr, never on stdout.
    assert re.search(rf"request {UUID} queued", r.stderr), r.stderr
    assert "1/1 done" in r.stderr


def test_text_sends_every_option_to_the_worker(cli: Cli, account, worker_factory):
    w = worker_factory("text")
    r = cli.run("text", "Hello", "--max-length", "48", "--context", "1024", "--temperature",
                "0.5", "--top-p", "0.8", "--top-k", "30", "--rep-pen", "1.2", "--stop", "END",
                "-m", "koboldcpp/TestModel-7B", key=account.key)
    assert r.returncode == 0, r.stderr
    payload = w.jobs[-1]["payload"]
    assert payload["prompt"] == "Hello"
    assert payload["max_length"] == 48
    assert payload["max_context_length"] == 1024
    assert payload["temperature"] == 0.5
    assert payload["top_p"] == 0.8
    assert payload["top_k"] == 30
    assert payload["rep_pen"] == 1.2
    assert payload["stop_sequence"] == ["END"]
    assert w.jobs[-1]["model"] == "koboldcpp/TestModel-7B"


def test_text_several_generations_and_json(cli: Cli, account, worker_factory):
    worker_factory("text", text="Twice told.")
    r = cli.run("--json", "text", "Tell it", "-n", "2", key=account.key)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert re.fullmatch(UUID, out["id"])
    assert out["done"] is True and out["faulted"] is False
    assert [g["text"] for g in out["generations"]] == ["Twice told.", "Twice told."]
    assert out["generations"][0]["model"] == "koboldcpp/TestModel-7B"
    assert r.stderr == ""  # --json without a terminal: no progress chatter


def test_image_saves_files_named_by_request_and_seed(cli: Cli, account, worker_factory,
                                                     tmp_path: pathlib.Path):
    w = worker_factory("image")
    out_dir = tmp_path / "out"
    r = cli.run("image", "a lighthouse at dusk", "-n", "2", "--width", "576", "--height", "448",
                "--steps", "12", "--seed", "77", "--seed-variation", "1", "--sampler",
                "k_dpmpp_2m", "--cfg", "6.5", "--negative", "blurry", "-m", "stable_diffusion",
                "-o", str(out_dir), key=account.key)
    assert r.returncode == 0, r.stderr
    request_id = re.search(rf"request ({UUID}) queued", r.stderr).group(1)
    paths = r.stdout.split()
    assert len(paths) == 2, r.stdout
    for p in paths:
        path = pathlib.Path(p)
        assert path.parent == out_dir
        m = re.fullmatch(rf"({UUID})_(\d+)\.webp", path.name)
        assert m, path.name
        assert m.group(1) == request_id
        assert path.read_bytes() == w.uploads[m.group(2)]  # the bytes the worker uploaded
    payload = w.jobs[0]["payload"]
    assert payload["prompt"] == "a lighthouse at dusk ### blurry"
    assert (payload["width"], payload["height"], payload["ddim_steps"]) == (576, 448, 12)
    assert payload["sampler_name"] == "k_dpmpp_2m"
    assert payload["cfg_scale"] == 6.5
    assert payload["seed"] in ("77", "78")


def test_image_json_and_base64_results(cli: Cli, account, worker_factory,
                                       tmp_path: pathlib.Path):
    w = worker_factory("image")
    r = cli.run("image", "a fox", "--no-r2", "--json", "-o", str(tmp_path), key=account.key)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert re.fullmatch(UUID, out["id"])
    [img] = out["images"]
    path = pathlib.Path(img["path"])
    assert path.name == f"{out['id']}_{img['seed']}.webp"
    assert path.read_bytes() == w.uploads[img["seed"]]
    assert img["model"] == "stable_diffusion"
    assert img["worker_name"] == w.name


def test_bad_key_is_an_auth_error(cli: Cli, worker_factory):
    worker_factory("text")
    r = cli.run("text", "hello", key="not-a-key")
    assert r.returncode == 4, (r.returncode, r.stderr)
    assert "InvalidAPIKey" in r.stderr
    assert "No user matching sent API Key" in r.stderr  # the server's own message
    assert r.stdout == ""


def test_unreachable_server_is_a_network_error(cli: Cli):
    r = cli.run("--url", closed_port_url(), "text", "hello")
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "cannot reach" in r.stderr


def test_rejected_request_shows_the_servers_reason(cli: Cli, account):
    r = cli.run("image", "a cat", "--width", "100", key=account.key)
    assert r.returncode == 5, (r.returncode, r.stderr)
    assert "HTTP 400" in r.stderr
    assert "width" in r.stderr


def test_faulted_request_exits_6(cli: Cli, account, worker_factory):
    w = worker_factory("text", mode="fault")
    r = cli.run("text", "doomed", key=account.key)
    assert r.returncode == 6, (r.returncode, r.stderr)
    assert "faulted" in r.stderr
    assert len(w.jobs) >= 3


def test_timeout_cancels_and_exits_6(cli: Cli, server: Server, account):
    r = cli.run("--timeout", "1", "image", "nobody serves this", key=account.key)
    assert r.returncode == 6, (r.returncode, r.stderr)
    request_id = re.search(rf"request ({UUID}) queued", r.stderr).group(1)
    check = server.get(f"/generate/check/{request_id}").json()
    assert check["done"] is True and check["waiting"] == 0


def _interrupt_while_waiting(cli: Cli, server: Server, account, kind: str) -> None:
    live = cli.popen(kind, "nobody serves this", key=account.key)
    request_id = live.wait_line(rf"request ({UUID}) queued").group(1)
    live.wait_line(r"done")  # a progress line: the CLI is polling
    live.proc.send_signal(signal.SIGINT)
    assert live.proc.wait(15) == 130, "".join(live.stderr)
    path = "/generate/check/" if kind == "image" else "/generate/text/status/"
    status = server.get(path + request_id).json()
    assert status["done"] is True, status
    assert status["waiting"] == 0, status
    assert "cancel" in "".join(live.stderr)


def test_ctrl_c_cancels_an_image_request_on_the_server(cli: Cli, server: Server, account):
    _interrupt_while_waiting(cli, server, account, "image")


def test_ctrl_c_cancels_a_text_request_on_the_server(cli: Cli, server: Server, account):
    _interrupt_while_waiting(cli, server, account, "text")


def test_usage_errors_exit_2(cli: Cli):
    r = cli.run("text")
    assert r.returncode == 2
    assert "prompt" in r.stderr
    r = cli.run("frobnicate")
    assert r.returncode == 2
    r = cli.run("--help")
    assert r.returncode == 0
    for code in ("0 ", "2 ", "3 ", "4 ", "5 ", "6 ", "130"):
        assert f"  {code}" in r.stdout
