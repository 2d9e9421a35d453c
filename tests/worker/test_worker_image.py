"""Image end to end: a client request -> horded -> horde-worker -> AUTOMATIC1111 / ComfyUI test
backend -> WebP uploaded to the horde -> the client downloads it."""

from __future__ import annotations

import base64

import requests

from .fake_backends import image_size, make_png
from .harness import TINY_WEBP, image_status, wait_done, worker_details


def image_request(horde, key: str, prompt: str = "a lighthouse at dusk ### blurry, text",
                  models: tuple[str, ...] = ("stable_diffusion",), **body) -> str:
    payload = {"prompt": prompt, "models": list(models), **body}
    payload.setdefault("params", {})
    r = requests.post(f"{horde.api}/generate/async", headers={"apikey": key}, json=payload,
                      timeout=30)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def download(url: str) -> bytes:
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text[:300]
    return r.content


def assert_webp(data: bytes, size: tuple[int, int]) -> None:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", data[:16]
    assert image_size(data) == size


def test_a1111_txt2img_round_trip(horde, users, backends, workers):
    sd = backends("a1111")
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "a1111", sd.url, "--models", "stable_diffusion,Dreamshaper=dreamshaper_8")
    rid = image_request(horde, client["api_key"], models=("Dreamshaper",), params={
        "sampler_name": "k_dpmpp_2m", "karras": True, "steps": 12, "width": 512, "height": 448,
        "cfg_scale": 6.5, "seed": "1234", "clip_skip": 2})
    status = wait_done(horde, rid, "image", worker=w)
    gen = status["generations"]
    assert len(gen) == 1 and status["finished"] == 1, status
    assert gen[0]["model"] == "Dreamshaper" and gen[0]["worker_name"] == w.name
    assert gen[0]["seed"] == "1234"
    assert_webp(download(gen[0]["img"]), (512, 448))

    body = sd.calls("POST", "/sdapi/v1/txt2img")[-1]
    assert body["prompt"] == "a lighthouse at dusk" and body["negative_prompt"] == "blurry, text"
    assert body["sampler_name"] == "DPM++ 2M" and body["scheduler"] == "Karras"
    assert (body["steps"], body["width"], body["height"], body["seed"]) == (12, 512, 448, 1234)
    assert body["cfg_scale"] == 6.5
    assert body["override_settings"]["CLIP_stop_at_last_layers"] == 2
    assert body["override_settings"]["sd_model_checkpoint"] == sd.title("dreamshaper_8.safetensors")
    # The checkpoint was switched through /sdapi/v1/options first.
    switched = sd.calls("POST", "/sdapi/v1/options")
    assert switched and switched[-1]["sd_model_checkpoint"] == sd.title("dreamshaper_8.safetensors")

    details = worker_details(horde, w.name)
    assert details["type"] == "image"
    assert sorted(details["models"]) == ["Dreamshaper", "stable_diffusion"]
    assert details["bridge_agent"].startswith("Horde Worker:")
    w.wait_log(r"job \w{8} Dreamshaper 512x448 12 steps k_dpmpp_2m: ok in [\d.]+s, seed 1234")


def test_a1111_img2img_and_inpainting_with_mask(horde, users, backends, workers):
    sd = backends("a1111")
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "a1111", sd.url)
    source = make_png(64, 64)
    b64 = base64.b64encode(source).decode()
    rid = image_request(horde, client["api_key"], source_image=b64, source_processing="img2img",
                        params={"denoising_strength": 0.4, "steps": 8})
    status = wait_done(horde, rid, "image", worker=w)
    assert_webp(download(status["generations"][0]["img"]), (512, 512))
    body = sd.calls("POST", "/sdapi/v1/img2img")[-1]
    assert base64.b64decode(body["init_images"][0]) == source  # fetched from the horde's URL
    assert body["denoising_strength"] == 0.4 and "mask" not in body

    mask = make_png(64, 64, seed=255)
    rid = image_request(horde, client["api_key"], source_image=b64, source_mask=base64.b64encode(
        mask).decode(), source_processing="inpainting", params={"steps": 8})
    status = wait_done(horde, rid, "image", worker=w)
    assert status["finished"] == 1, status
    body = sd.calls("POST", "/sdapi/v1/img2img")[-1]
    assert base64.b64decode(body["mask"]) == mask
    assert body["inpainting_fill"] == 1


def test_a1111_inpainting_mask_from_transparency(horde, users, backends, workers):
    sd = backends("a1111")
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "a1111", sd.url)
    source = make_png(64, 64, alpha_hole=True)
    rid = image_request(horde, client["api_key"], source_image=base64.b64encode(source).decode(),
                        source_processing="inpainting", params={"steps": 8})
    wait_done(horde, rid, "image", worker=w)
    body = sd.calls("POST", "/sdapi/v1/img2img")[-1]
    mask = base64.b64decode(body["mask"])
    assert mask[:8] == b"\x89PNG\r\n\x1a\n" and image_size(mask) == (64, 64)


def test_a1111_post_processing_and_batch(horde, users, backends, workers):
    sd = backends("a1111")
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "a1111", sd.url, "--max-batch", "2")
    rid = image_request(horde, client["api_key"], params={
        "n": 2, "width": 256, "height": 256, "steps": 6, "seed": "77",
        "post_processing": ["RealESRGAN_x2plus"]})
    status = wait_done(horde, rid, "image", worker=w)
    gens = status["generations"]
    assert len(gens) == 2, status
    assert sorted(g["seed"] for g in gens) == ["77", "78"]
    for g in gens:
        assert_webp(download(g["img"]), (512, 512))
    extras = sd.calls("POST", "/sdapi/v1/extra-single-image")
    assert extras and extras[-1]["upscaler_1"] == "R-ESRGAN 2x+"
    assert extras[-1]["upscaling_resize"] == 2


def test_censored_prompt_gets_a_placeholder(horde, users, backends, workers):
    sd = backends("a1111")
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "a1111", sd.url)
    rid = image_request(horde, client["api_key"], prompt="a nude statue", nsfw=False,
                        censor_nsfw=True, params={"steps": 5})
    status = wait_done(horde, rid, "image", worker=w)
    gen = status["generations"][0]
    assert gen["censored"] is True, gen
    assert_webp(download(gen["img"]), (512, 512))
    assert sd.calls("POST", "/sdapi/v1/txt2img") == []  # no GPU time spent on it
    w.wait_log(r"job \w{8} stable_diffusion 512x512 5 steps \w+: censored in")


def test_comfyui_txt2img_with_hires_fix(horde, users, backends, workers):
    comfy = backends("comfyui")
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "comfyui", comfy.url, "--max-pixels", "1048576",
                "--models", "Dreamshaper=dreamshaper_8,SDXL 1.0=sd_xl_base_1.0.safetensors")
    rid = image_request(horde, client["api_key"], models=("Dreamshaper",), params={
        "width": 768, "height": 768, "steps": 10, "sampler_name": "k_euler_a", "karras": True,
        "hires_fix": True, "hires_fix_denoising_strength": 0.5, "seed": "42", "clip_skip": 2})
    status = wait_done(horde, rid, "image", worker=w)
    gen = status["generations"][0]
    assert gen["seed"] == "42" and gen["model"] == "Dreamshaper"
    assert_webp(download(gen["img"]), (768, 768))

    graph = comfy.prompts[-1]
    nodes = {n["class_type"]: n["inputs"] for n in graph.values()}
    assert nodes["CheckpointLoaderSimple"]["ckpt_name"] == "sd15/dreamshaper_8.safetensors"
    assert nodes["CLIPSetLastLayer"]["stop_at_clip_layer"] == -2
    texts = sorted(n["inputs"]["text"] for n in graph.values()
                   if n["class_type"] == "CLIPTextEncode")
    assert texts == ["a lighthouse at dusk", "blurry, text"]
    samplers = [n["inputs"] for n in graph.values() if n["class_type"] == "KSampler"]
    assert len(samplers) == 2  # first pass + hires pass
    assert {s["sampler_name"] for s in samplers} == {"euler_ancestral"}
    assert {s["scheduler"] for s in samplers} == {"karras"}
    assert sorted(s["denoise"] for s in samplers) == [0.5, 1.0]
    assert all(s["seed"] == 42 and s["steps"] == 10 for s in samplers)
    assert (nodes["EmptyLatentImage"]["width"], nodes["EmptyLatentImage"]["height"]) == (512, 512)
    assert (nodes["LatentUpscale"]["width"], nodes["LatentUpscale"]["height"]) == (768, 768)
    details = worker_details(horde, w.name)
    assert sorted(details["models"]) == ["Dreamshaper", "SDXL 1.0"]


def test_comfyui_inpainting_uploads_source_and_mask(horde, users, backends, workers):
    comfy = backends("comfyui")
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "comfyui", comfy.url, "--models", "stable_diffusion=dreamshaper_8")
    rid = image_request(horde, client["api_key"], source_image=base64.b64encode(TINY_WEBP).decode(),
                        source_mask=base64.b64encode(make_png(8, 8)).decode(),
                        source_processing="inpainting", params={"steps": 6,
                                                                "denoising_strength": 0.6})
    status = wait_done(horde, rid, "image", worker=w)
    assert_webp(download(status["generations"][0]["img"]), (512, 512))
    assert len(comfy.uploads) == 2
    graph = comfy.prompts[-1]
    types = sorted(n["class_type"] for n in graph.values())
    assert types.count("LoadImage") == 2 and "SetLatentNoiseMask" in types
    assert "ImageToMask" in types and "VAEEncode" in types and "EmptyLatentImage" not in types
    ks = next(n["inputs"] for n in graph.values() if n["class_type"] == "KSampler")
    assert ks["denoise"] == 0.6
    # Uploads are named by the worker and the graph loads exactly those.
    loads = {n["inputs"]["image"] for n in graph.values() if n["class_type"] == "LoadImage"}
    assert loads == set(comfy.uploads)


def test_comfyui_failed_prompt_is_faulted_then_retried(horde, users, backends, workers):
    comfy = backends("comfyui")
    comfy.fail_next = 1  # the first prompt errors during execution
    owner, client = users.make(), users.make()
    w = workers(owner["api_key"], "comfyui", comfy.url, "--models", "stable_diffusion=dreamshaper_8")
    rid = image_request(horde, client["api_key"], params={"steps": 5})
    status = wait_done(horde, rid, "image", worker=w)
    assert status["restarted"] >= 1 and status["finished"] == 1, status
    w.wait_log(r"faulted after [\d.]+s: ComfyUI failed the prompt")
    assert image_status(horde, rid)["generations"][0]["img"].startswith("http")
