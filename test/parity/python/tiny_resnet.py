"""Builds small random ResNets with transformers itself, and test images with PIL, for the ResNet parity test.

Models: transformers' ResNetForImageClassification from a small ResNetConfig per request entry, its BatchNorm
parameters and running statistics redrawn away from their identity init (so that eval-mode BatchNorm matters to
the output), saved with save_pretrained beside the request's preprocessor_config.json.

Images: synthetic but photo-like (gradients, shapes, noise), saved by PIL in the modes a dataset holds (RGB, L,
RGBA, P as PNG; RGB and L as JPEG). Each is also decoded by PIL (`Image.open(path).convert("RGB")`), written as raw
RGB bytes, so the test can compare its decoder with PIL's.

Request: {"out": folder, "seed": int, "images": [{"name", "width", "height", "mode", "format", "subsampling"?}],
          "models": {name: {"config": {...ResNetConfig kwargs}, "preprocessor": {...preprocessor_config.json}}}}
Answer:  {"images": {name: {"path", "width", "height", "pil_rgb"}}, "models": {name: folder}}
"""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from transformers import ResNetConfig, ResNetForImageClassification  # noqa: E402


def synthetic_image(rng, width, height):
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    base = np.stack(
        [
            128 + 100 * np.sin(x / (7 + rng.random() * 10)),
            255 * x / width,
            255 * (1 - y / height),
        ],
        axis=-1,
    )
    base += rng.normal(0, 18, size=base.shape)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(5, max(6, min(width, height) // 2)))
        color = tuple(int(c) for c in rng.integers(0, 256, size=3))
        draw.ellipse([x0, y0, x0 + size, y0 + size], fill=color)
    return image


def save_image(rng, spec, folder):
    image = synthetic_image(rng, spec["width"], spec["height"])
    mode = spec["mode"]
    if mode == "RGBA":
        alpha = Image.fromarray(rng.integers(0, 256, size=(spec["height"], spec["width"]), dtype=np.uint8), "L")
        image = image.convert("RGBA")
        image.putalpha(alpha)
    elif mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    elif mode != "RGB":
        image = image.convert(mode)
    path = os.path.join(folder, f"{spec['name']}.{spec['format']}")
    if spec["format"] == "jpg":
        # PIL's default chroma subsampling is 4:2:0; "subsampling": 0 asks for 4:4:4.
        image.save(path, quality=90, subsampling=spec.get("subsampling", -1))
    else:
        image.save(path)
    decoded = Image.open(path).convert("RGB")
    raw = os.path.join(folder, f"{spec['name']}.pil.rgb")
    with open(raw, "wb") as out:
        out.write(np.asarray(decoded, dtype=np.uint8).tobytes())
    return {"path": path, "width": decoded.width, "height": decoded.height, "pil_rgb": raw}


def randomize_batch_norms(model, generator):
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                count = module.num_features
                module.weight.copy_(0.5 + torch.rand(count, generator=generator))
                module.bias.copy_(0.1 * torch.randn(count, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(count, generator=generator))
                module.running_var.copy_(0.5 + 1.5 * torch.rand(count, generator=generator))


def build_model(name, spec, folder, seed):
    torch.manual_seed(seed)
    model = ResNetForImageClassification(ResNetConfig(**spec["config"]))
    randomize_batch_norms(model, torch.Generator().manual_seed(seed + 1))
    model.eval()
    out = os.path.join(folder, name)
    model.save_pretrained(out)
    with open(os.path.join(out, "preprocessor_config.json"), "w") as file:
        json.dump(spec["preprocessor"], file, indent=2)
    return out


def main(request_path, answer_path):
    with open(request_path) as file:
        request = json.load(file)
    images_folder = os.path.join(request["out"], "images")
    os.makedirs(images_folder, exist_ok=True)
    rng = np.random.default_rng(request["seed"])
    images = {spec["name"]: save_image(rng, spec, images_folder) for spec in request["images"]}
    models = {name: build_model(name, spec, request["out"], request["seed"]) for name, spec in request["models"].items()}
    with open(answer_path, "w") as file:
        json.dump({"images": images, "models": models}, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
