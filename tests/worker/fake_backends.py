"""Small stand-ins for the model servers horde-worker drives, speaking their real HTTP APIs.

Each one runs a ThreadingHTTPServer on 127.0.0.1 in a background thread, records every request,
validates request bodies the way the real server would reject them (unknown sampler, missing
prompt, bad link in a ComfyUI graph, ...) and can be told to misbehave:

  delay_s      each generation takes this long (sleeps in small steps; an abort/interrupt ends it)
  fail_next    the next N generations answer HTTP 500
  busy_next    the next N generations answer HTTP 503 (KoboldCpp "busy", llama.cpp "loading")
  stop()/start(port) take the server away and bring it back on the same port

Shapes follow the backends' documented APIs:
  KoboldCpp   GET /api/v1/model {"result"}, GET /api/extra/version {"result","version"},
              GET /api/extra/true_max_context_length {"value"}, GET /api/v1/config/* {"value"},
              POST /api/v1/generate -> {"results":[{"text","finish_reason"}]},
              POST /api/extra/abort {"genkey"} -> {"success"}
  OpenAI      GET /v1/models {"object":"list","data":[{"id","object","created","owned_by"}]},
              GET /props (llama.cpp), POST /v1/completions -> {"choices":[{"text",...}],"usage"}
  A1111       GET /sdapi/v1/sd-models, /samplers, /schedulers, /upscalers, /face-restorers,
              GET/POST /sdapi/v1/options, POST /sdapi/v1/txt2img|img2img -> {"images":[b64 PNG],
              "parameters","info": "<json text>"}, POST /sdapi/v1/extra-single-image -> {"image"},
              POST /sdapi/v1/interrupt
  ComfyUI     GET /system_stats, /object_info[/{node}], POST /upload/image (multipart),
              POST /prompt -> {"prompt_id","number","node_errors"}, GET /history/{id},
              GET /view?filename&subfolder&type -> PNG bytes, POST /queue, /interrupt, /history
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import struct
import threading
import time
import urllib.parse
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


# ------------------------------------------------------------------------------------------------
# Images


def make_png(width: int, height: int, alpha_hole: bool = False, seed: int = 0) -> bytes:
    """An RGB(A) PNG with a gradient; with alpha_hole the centre quarter is transparent."""
    channels = 4 if alpha_hole else 3
    color_type = 6 if alpha_hole else 2
    base = seed % 200
    rows = []
    for y in range(height):
        g = (y * 255 // max(1, height - 1)) & 0xFF
        if alpha_hole and height // 4 <= y < 3 * height // 4:
            left = bytes([base, g, 128, 255]) * (width // 4)
            hole = bytes([base, g, 128, 0]) * (width // 2)
            right = bytes([base, g, 128, 255]) * (width - width // 4 - width // 2)
            row = left + hole + right
        else:
            row = bytes([base, g, 128] + ([255] if alpha_hole else [])) * width
        rows.append(b"\x00" + row)
    raw = b"".join(rows)
    assert len(raw) == height * (1 + width * channels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 1)) +
            chunk(b"IEND", b""))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    return struct.unpack(">II", data[16:24])


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or WebP (VP8, VP8L or VP8X)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return png_size(data)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", data[:16]
    kind = data[12:16]
    if kind == b"VP8 ":
        assert data[23:26] == b"\x9d\x01\x2a", data[20:30]
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if kind == b"VP8L":
        b = data[21:25]
        w = 1 + (((b[1] & 0x3F) << 8) | b[0])
        h = 1 + (((b[3] & 0xF) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
        return w, h
    if kind == b"VP8X":
        w = 1 + int.from_bytes(data[24:27], "little")
        h = 1 + int.from_bytes(data[27:30], "little")
        return w, h
    raise AssertionError(f"unknown WebP chunk {kind!r}")


# ------------------------------------------------------------------------------------------------
# The HTTP plumbing


class HttpError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(status)
        self.status = status
        self.body = body


class FakeBackend:
    """Base class: a threaded HTTP server whose subclasses implement `route`."""

    name = "fake"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, parsed JSON or bytes)
        self.delay_s = 0.0
        self.fail_next = 0
        self.busy_next = 0
        self.generations = 0
        self.generation_started = threading.Event()
        self.abort = threading.Event()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.port: int | None = None

    # Lifecycle ---------------------------------------------------------------------------------

    def start(self, port: int = 0) -> "FakeBackend":
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
                ctype = self.headers.get("Content-Type", "")
                body: Any = raw
                if "application/json" in ctype and raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        self._reply(400, {"detail": "bad JSON"})
                        return
                with backend.lock:
                    backend.requests.append((method, parsed.path, body))
                try:
                    status, payload = backend.route(method, parsed.path, query, body,
                                                    dict(self.headers))
                except HttpError as e:
                    status, payload = e.status, e.body
                except Exception as e:  # noqa: BLE001 - a bug in the fake shows as a 500
                    status, payload = 500, {"detail": f"fake backend error: {e!r}"}
                self._reply(status, payload)

            def _reply(self, status: int, payload: Any) -> None:
                if isinstance(payload, (bytes, bytearray)):
                    data, ctype = bytes(payload), "image/png"
                else:
                    data, ctype = json.dumps(payload).encode(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._serve("PUT")

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Helpers for subclasses and tests ------------------------------------------------------------

    def calls(self, method: str, path: str) -> list[Any]:
        with self.lock:
            return [b for (m, p, b) in self.requests if m == method and p == path]

    def begin_generation(self) -> None:
        """Applies busy_next / fail_next / delay_s to one generation call."""
        with self.lock:
            if self.busy_next > 0:
                self.busy_next -= 1
                raise HttpError(503, {"detail": {"msg": "Server is busy; please try again later.",
                                                 "type": "service_unavailable"}})
            if self.fail_next > 0:
                self.fail_next -= 1
                raise HttpError(500, {"detail": "CUDA error: an illegal memory access"})
            self.generations += 1
            delay = self.delay_s
        self.abort.clear()
        self.generation_started.set()
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not self.abort.is_set():
            time.sleep(0.02)

    def route(self, method: str, path: str, query: dict, body: Any,
              headers: dict) -> tuple[int, Any]:
        raise NotImplementedError


def require(cond: bool, status: int = 422, message: str = "invalid request") -> None:
    if not cond:
        raise HttpError(status, {"detail": message})


# ------------------------------------------------------------------------------------------------
# KoboldCpp


class KoboldCpp(FakeBackend):
    name = "koboldcpp"

    def __init__(self, model: str = "koboldcpp/TestModel-7B", context: int = 4096,
                 reply: str = " and they lived happily ever after.") -> None:
        super().__init__()
        self.model = model
        self.context = context
        self.reply = reply
        self.aborted_keys: list[str] = []

    def route(self, method, path, query, body, headers):
        if method == "GET" and path == "/api/v1/model":
            return 200, {"result": self.model}
        if method == "GET" and path == "/api/extra/version":
            return 200, {"result": "KoboldCpp", "version": "1.75.2", "protected": False}
        if method == "GET" and path == "/api/extra/true_max_context_length":
            return 200, {"value": self.context}
        if method == "GET" and path == "/api/v1/config/max_context_length":
            return 200, {"value": self.context}
        if method == "GET" and path == "/api/v1/config/max_length":
            return 200, {"value": 100}
        if method == "POST" and path == "/api/extra/abort":
            require(isinstance(body, dict), 400)
            self.aborted_keys.append(body.get("genkey", ""))
            self.abort.set()
            return 200, {"success": "true", "done": "true"}
        if method == "POST" and path == "/api/v1/generate":
            require(isinstance(body, dict), 400, "body must be a JSON object")
            require(isinstance(body.get("prompt"), str), 422, "prompt must be a string")
            ml = body.get("max_length", 100)
            mcl = body.get("max_context_length", self.context)
            require(isinstance(ml, int) and isinstance(mcl, int), 422, "lengths must be ints")
            require(ml <= mcl, 422, "max_length above max_context_length")
            for key in ("temperature", "top_p", "rep_pen", "top_k"):
                if key in body:
                    require(isinstance(body[key], (int, float)), 422, f"{key} must be a number")
            if "stop_sequence" in body:
                require(isinstance(body["stop_sequence"], list), 422, "stop_sequence: list")
            self.begin_generation()
            if self.abort.is_set():
                return 200, {"results": [{"text": "", "finish_reason": "abort"}]}
            return 200, {"results": [{"text": self.reply, "finish_reason": "length",
                                      "prompt_tokens": 10, "completion_tokens": 9}]}
        raise HttpError(404, {"detail": "Not Found"})


# ------------------------------------------------------------------------------------------------
# OpenAI-compatible (shaped like llama.cpp's server)


class OpenAiCompatible(FakeBackend):
    name = "openai"

    def __init__(self, model: str = "Llama-3-8B-Instruct.Q4_K_M.gguf", context: int = 8192,
                 reply: str = " The answer is 42.") -> None:
        super().__init__()
        self.model = model
        self.context = context
        self.reply = reply
        self.api_key: str | None = None

    def route(self, method, path, query, body, headers):
        if self.api_key is not None:
            auth = headers.get("Authorization") or headers.get("authorization") or ""
            if auth != f"Bearer {self.api_key}":
                raise HttpError(401, {"error": {"message": "Invalid API Key",
                                                "type": "authentication_error", "code": 401}})
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list", "data": [{
                "id": self.model, "object": "model", "created": 1700000000,
                "owned_by": "llamacpp", "meta": {"n_ctx_train": 131072}}]}
        if method == "GET" and path == "/health":
            return 200, {"status": "ok"}
        if method == "GET" and path == "/props":
            return 200, {"default_generation_settings": {"n_ctx": self.context},
                         "total_slots": 1}
        if method == "POST" and path == "/v1/completions":
            require(isinstance(body, dict), 400)
            require(body.get("model") == self.model, 404,
                    f"model {body.get('model')!r} not found")
            require(isinstance(body.get("prompt"), str), 400, "prompt must be a string")
            mt = body.get("max_tokens")
            require(isinstance(mt, int) and mt > 0, 400, "max_tokens must be a positive int")
            if "stop" in body:
                require(isinstance(body["stop"], list) and
                        all(isinstance(s, str) for s in body["stop"]), 400, "stop: list of str")
            self.begin_generation()
            return 200, {
                "id": "cmpl-" + uuid.uuid4().hex[:12], "object": "text_completion",
                "created": int(time.time()), "model": self.model,
                "choices": [{"text": self.reply, "index": 0, "logprobs": None,
                             "finish_reason": "length"}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18}}
        raise HttpError(404, {"error": {"message": "File Not Found", "type": "not_found_error",
                                        "code": 404}})


# ------------------------------------------------------------------------------------------------
# AUTOMATIC1111 / Forge


A1111_SAMPLERS = ["DPM++ 2M", "DPM++ SDE", "DPM++ 2S a", "Euler a", "Euler", "LMS", "Heun",
                  "DPM2", "DPM2 a", "DPM fast", "DPM adaptive", "DDIM", "LCM"]
A1111_UPSCALERS = ["None", "Lanczos", "Nearest", "ESRGAN_4x", "R-ESRGAN 4x+",
                   "R-ESRGAN 4x+ Anime6B", "R-ESRGAN 2x+", "SwinIR 4x"]


class Automatic1111(FakeBackend):
    name = "a1111"

    def __init__(self, checkpoints: tuple[str, ...] = ("stable_diffusion.safetensors",
                                                       "dreamshaper_8.safetensors")) -> None:
        super().__init__()
        self.checkpoints = list(checkpoints)
        self.current = self.title(self.checkpoints[0])
        self.interrupts = 0

    @staticmethod
    def title(filename: str) -> str:
        return f"{filename} [{hashlib.sha256(filename.encode()).hexdigest()[:10]}]"

    def route(self, method, path, query, body, headers):
        if method == "GET" and path == "/sdapi/v1/sd-models":
            return 200, [{"title": self.title(c), "model_name": c.rsplit(".", 1)[0],
                          "hash": self.title(c)[-11:-1], "sha256": None,
                          "filename": f"/webui/models/Stable-diffusion/{c}", "config": None}
                         for c in self.checkpoints]
        if method == "GET" and path == "/sdapi/v1/samplers":
            return 200, [{"name": s, "aliases": [], "options": {}} for s in A1111_SAMPLERS]
        if method == "GET" and path == "/sdapi/v1/schedulers":
            return 200, [{"name": "automatic", "label": "Automatic", "aliases": None},
                         {"name": "karras", "label": "Karras", "aliases": None}]
        if method == "GET" and path == "/sdapi/v1/upscalers":
            return 200, [{"name": u, "model_name": None, "model_path": None, "model_url": None,
                          "scale": 4} for u in A1111_UPSCALERS]
        if method == "GET" and path == "/sdapi/v1/face-restorers":
            return 200, [{"name": "CodeFormer", "cmd_dir": None}, {"name": "GFPGAN",
                                                                   "cmd_dir": None}]
        if method == "GET" and path == "/sdapi/v1/options":
            return 200, {"sd_model_checkpoint": self.current, "CLIP_stop_at_last_layers": 1}
        if method == "POST" and path == "/sdapi/v1/options":
            require(isinstance(body, dict), 422)
            if "sd_model_checkpoint" in body:
                wanted = body["sd_model_checkpoint"]
                require(wanted in [self.title(c) for c in self.checkpoints], 500,
                        f"checkpoint {wanted} not found")
                self.current = wanted
            return 200, None
        if method == "POST" and path == "/sdapi/v1/interrupt":
            self.interrupts += 1
            self.abort.set()
            return 200, None
        if method == "POST" and path in ("/sdapi/v1/txt2img", "/sdapi/v1/img2img"):
            return self.generate(path, body)
        if method == "POST" and path == "/sdapi/v1/extra-single-image":
            require(isinstance(body, dict) and isinstance(body.get("image"), str), 422)
            w, h = png_size(base64.b64decode(body["image"]))
            factor = body.get("upscaling_resize", 1)
            upscaler = body.get("upscaler_1", "None")
            require(upscaler in A1111_UPSCALERS, 422, f"upscaler {upscaler} not found")
            return 200, {"html_info": "<p>done</p>",
                         "image": base64.b64encode(make_png(int(w * factor),
                                                            int(h * factor))).decode()}
        raise HttpError(404, {"detail": "Not Found"})

    def generate(self, path: str, body: Any):
        require(isinstance(body, dict), 422)
        for key in ("prompt", "negative_prompt", "sampler_name"):
            require(isinstance(body.get(key), str), 422, f"{key} must be a string")
        for key in ("steps", "width", "height", "seed"):
            require(isinstance(body.get(key), int), 422, f"{key} must be an int")
        require(body["sampler_name"] in A1111_SAMPLERS, 404, "Sampler not found")
        if "scheduler" in body:
            require(body["scheduler"] in ("Automatic", "Karras"), 404, "Scheduler not found")
        ckpt = (body.get("override_settings") or {}).get("sd_model_checkpoint", self.current)
        require(ckpt in [self.title(c) for c in self.checkpoints], 500, f"no checkpoint {ckpt}")
        if path.endswith("img2img"):
            images = body.get("init_images")
            require(isinstance(images, list) and len(images) == 1, 422, "init_images")
            raw = base64.b64decode(images[0].split(",")[-1])
            require(raw[:4] in (b"RIFF", b"\x89PNG", b"\xff\xd8\xff\xe0"[:4]), 422,
                    "init image is not an image")
            if body.get("mask") is not None:
                mask = base64.b64decode(body["mask"])
                require(mask[:4] in (b"RIFF", b"\x89PNG"), 422, "mask is not an image")
        self.begin_generation()
        seed = body["seed"] if body["seed"] >= 0 else random.randrange(2**32)
        w, h = body["width"], body["height"]
        if body.get("enable_hr"):
            w, h = body.get("hr_resize_x") or w, body.get("hr_resize_y") or h
        png = make_png(w, h, seed=seed)
        info = {"prompt": body["prompt"], "negative_prompt": body["negative_prompt"],
                "seed": seed, "all_seeds": [seed], "width": w, "height": h,
                "sampler_name": body["sampler_name"], "steps": body["steps"]}
        return 200, {"images": [base64.b64encode(png).decode()], "parameters": body,
                     "info": json.dumps(info)}


# ------------------------------------------------------------------------------------------------
# ComfyUI


COMFY_SAMPLERS = ["euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms",
                  "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m",
                  "ddim", "lcm", "uni_pc"]
COMFY_SCHEDULERS = ["normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform"]

# class_type -> (required inputs, outputs)
COMFY_NODES: dict[str, tuple[list[str], list[str]]] = {
    "CheckpointLoaderSimple": (["ckpt_name"], ["MODEL", "CLIP", "VAE"]),
    "CLIPSetLastLayer": (["clip", "stop_at_clip_layer"], ["CLIP"]),
    "CLIPTextEncode": (["text", "clip"], ["CONDITIONING"]),
    "EmptyLatentImage": (["width", "height", "batch_size"], ["LATENT"]),
    "LoadImage": (["image"], ["IMAGE", "MASK"]),
    "ImageScale": (["image", "upscale_method", "width", "height", "crop"], ["IMAGE"]),
    "ImageToMask": (["image", "channel"], ["MASK"]),
    "VAEEncode": (["pixels", "vae"], ["LATENT"]),
    "SetLatentNoiseMask": (["samples", "mask"], ["LATENT"]),
    "KSampler": (["model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive",
                  "negative", "latent_image", "denoise"], ["LATENT"]),
    "LatentUpscale": (["samples", "upscale_method", "width", "height", "crop"], ["LATENT"]),
    "VAEDecode": (["samples", "vae"], ["IMAGE"]),
    "UpscaleModelLoader": (["model_name"], ["UPSCALE_MODEL"]),
    "ImageUpscaleWithModel": (["upscale_model", "image"], ["IMAGE"]),
    "SaveImage": (["images", "filename_prefix"], []),
}


class ComfyUI(FakeBackend):
    name = "comfyui"

    def __init__(self, checkpoints: tuple[str, ...] = ("sd15/dreamshaper_8.safetensors",
                                                       "sd_xl_base_1.0.safetensors")) -> None:
        super().__init__()
        self.checkpoints = list(checkpoints)
        self.upscale_models = ["RealESRGAN_x4plus.pth", "4x_NMKD-Siax_200k.pth"]
        self.uploads: dict[str, bytes] = {}
        self.history: dict[str, dict] = {}
        self.outputs: dict[str, bytes] = {}
        self.prompts: list[dict] = []
        self.counter = 0
        self.interrupts = 0

    def object_info(self) -> dict:
        def combo(values: list[str]) -> list:
            return [values, {}]

        return {
            "CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": combo(
                self.checkpoints)}}, "output": ["MODEL", "CLIP", "VAE"]},
            # Newer ComfyUI writes combos as ["COMBO", {"options": [...]}].
            "KSampler": {"input": {"required": {
                "sampler_name": ["COMBO", {"options": COMFY_SAMPLERS}],
                "scheduler": ["COMBO", {"options": COMFY_SCHEDULERS}]}}, "output": ["LATENT"]},
            "UpscaleModelLoader": {"input": {"required": {"model_name": combo(
                self.upscale_models)}}, "output": ["UPSCALE_MODEL"]},
        }

    def route(self, method, path, query, body, headers):
        if method == "GET" and path == "/system_stats":
            return 200, {"system": {"os": "posix", "python_version": "3.11",
                                    "comfyui_version": "0.3.10", "embedded_python": False},
                         "devices": [{"name": "cuda:0 Fake GPU", "type": "cuda", "index": 0,
                                      "vram_total": 8 << 30, "vram_free": 6 << 30}]}
        if method == "GET" and path == "/object_info":
            return 200, self.object_info()
        if method == "GET" and path.startswith("/object_info/"):
            node = path.split("/", 2)[2]
            info = self.object_info()
            if node not in info:
                return 200, {}
            return 200, {node: info[node]}
        if method == "POST" and path == "/upload/image":
            return self.upload(body, headers)
        if method == "POST" and path == "/prompt":
            return self.queue_prompt(body)
        if method == "GET" and path.startswith("/history/"):
            pid = path.split("/", 2)[2]
            with self.lock:
                entry = self.history.get(pid)
            return 200, ({pid: entry} if entry else {})
        if method == "POST" and path == "/history":
            with self.lock:
                for pid in (body or {}).get("delete", []):
                    self.history.pop(pid, None)
            return 200, None
        if method == "GET" and path == "/view":
            key = f"{query.get('type')}/{query.get('subfolder', '')}/{query.get('filename')}"
            with self.lock:
                data = self.outputs.get(key)
            if data is None:
                raise HttpError(404, {"error": "not found"})
            return 200, data
        if method == "POST" and path == "/interrupt":
            self.interrupts += 1
            self.abort.set()
            return 200, None
        if method == "POST" and path == "/queue":
            return 200, None
        raise HttpError(404, {"error": "Not Found"})

    def upload(self, body: bytes, headers: dict):
        ctype = headers.get("Content-Type") or headers.get("content-type") or ""
        require(ctype.startswith("multipart/form-data; boundary="), 400, "multipart expected")
        boundary = ctype.split("boundary=", 1)[1].encode()
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in body.split(b"--" + boundary):
            if b"\r\n\r\n" not in part:
                continue
            head, content = part.split(b"\r\n\r\n", 1)
            content = content[:-2] if content.endswith(b"\r\n") else content
            disposition = [h for h in head.split(b"\r\n") if h.lower().startswith(
                b"content-disposition")]
            if not disposition:
                continue
            params = dict(p.strip().split(b"=", 1) for p in disposition[0].split(b";")[1:])
            name = params[b"name"].strip(b'"').decode()
            filename = params.get(b"filename")
            fields[name] = (filename.strip(b'"').decode() if filename else None, content)
        require("image" in fields and fields["image"][0], 400, "no image file")
        filename, data = fields["image"]
        require(data[:4] in (b"RIFF", b"\x89PNG") or data[:3] == b"\xff\xd8\xff", 400,
                "not an image")
        with self.lock:
            self.uploads[filename] = data
        return 200, {"name": filename, "subfolder": "", "type": "input"}

    def queue_prompt(self, body: Any):
        require(isinstance(body, dict) and isinstance(body.get("prompt"), dict), 400,
                "prompt must be an object")
        graph = body["prompt"]
        errors = self.validate(graph)
        if errors:
            raise HttpError(400, {"error": {"type": "prompt_outputs_failed_validation",
                                            "message": "Prompt outputs failed validation",
                                            "details": "; ".join(errors), "extra_info": {}},
                                  "node_errors": {}})
        with self.lock:
            self.counter += 1
            number = self.counter
            pid = str(uuid.uuid4())
            self.prompts.append(graph)
        threading.Thread(target=self.execute, args=(pid, graph), daemon=True).start()
        return 200, {"prompt_id": pid, "number": number, "node_errors": {}}

    def validate(self, graph: dict) -> list[str]:
        errors = []
        for nid, node in graph.items():
            ct = node.get("class_type")
            if ct not in COMFY_NODES:
                errors.append(f"{nid}: unknown class_type {ct}")
                continue
            inputs = node.get("inputs", {})
            required, _ = COMFY_NODES[ct]
            for name in required:
                if name not in inputs:
                    errors.append(f"{nid} {ct}: missing input {name}")
            for name, value in inputs.items():
                if isinstance(value, list):
                    if len(value) != 2 or str(value[0]) not in graph:
                        errors.append(f"{nid} {ct}: bad link {name}={value}")
                        continue
                    src = graph[str(value[0])]["class_type"]
                    if src in COMFY_NODES and value[1] >= len(COMFY_NODES[src][1]):
                        errors.append(f"{nid} {ct}: {src} has no output {value[1]}")
            if ct == "CheckpointLoaderSimple" and inputs.get("ckpt_name") not in self.checkpoints:
                errors.append(f"{nid}: ckpt_name {inputs.get('ckpt_name')} not in list")
            if ct == "KSampler":
                if inputs.get("sampler_name") not in COMFY_SAMPLERS:
                    errors.append(f"{nid}: sampler_name {inputs.get('sampler_name')} not in list")
                if inputs.get("scheduler") not in COMFY_SCHEDULERS:
                    errors.append(f"{nid}: scheduler {inputs.get('scheduler')} not in list")
                if not isinstance(inputs.get("seed"), int):
                    errors.append(f"{nid}: seed must be an int")
            if ct == "LoadImage" and inputs.get("image") not in self.uploads:
                errors.append(f"{nid}: image {inputs.get('image')} not uploaded")
            if ct == "UpscaleModelLoader" and inputs.get("model_name") not in self.upscale_models:
                errors.append(f"{nid}: model_name {inputs.get('model_name')} not in list")
        if not any(n.get("class_type") == "SaveImage" for n in graph.values()):
            errors.append("no output node")
        return errors

    def execute(self, pid: str, graph: dict) -> None:
        try:
            self.begin_generation()
        except HttpError as e:
            with self.lock:
                self.history[pid] = {"prompt": [0, pid, graph, {}, []], "outputs": {},
                                     "status": {"status_str": "error", "completed": False,
                                                "messages": [["execution_error",
                                                              {"exception_message": str(e.body)}]]}}
            return
        w, h = self.output_size(graph)
        save_id = next(k for k, n in graph.items() if n["class_type"] == "SaveImage")
        prefix = graph[save_id]["inputs"].get("filename_prefix", "ComfyUI")
        filename = f"{prefix}_{self.counter:05d}_.png"
        seed = next((n["inputs"]["seed"] for n in graph.values()
                     if n["class_type"] == "KSampler"), 0)
        with self.lock:
            self.outputs[f"output//{filename}"] = make_png(w, h, seed=seed)
            self.history[pid] = {
                "prompt": [0, pid, graph, {}, [save_id]],
                "outputs": {save_id: {"images": [{"filename": filename, "subfolder": "",
                                                  "type": "output"}]}},
                "status": {"status_str": "success", "completed": True, "messages": []}}

    @staticmethod
    def output_size(graph: dict) -> tuple[int, int]:
        by_type: dict[str, list[dict]] = {}
        for n in graph.values():
            by_type.setdefault(n["class_type"], []).append(n["inputs"])
        if "LatentUpscale" in by_type:
            w, h = by_type["LatentUpscale"][0]["width"], by_type["LatentUpscale"][0]["height"]
        elif "ImageScale" in by_type:
            w, h = by_type["ImageScale"][0]["width"], by_type["ImageScale"][0]["height"]
        else:
            w, h = by_type["EmptyLatentImage"][0]["width"], by_type["EmptyLatentImage"][0]["height"]
        for _ in by_type.get("ImageUpscaleWithModel", []):
            w, h = w * 4, h * 4
        return w, h
