"""Builds small random ResNets with timm itself, saves them as timm saves hub folders (save_for_hf: config.json with
`architecture` and `pretrained_cfg`, model.safetensors with timm's names), and answers timm's forward on random pixels.

timm imports torchvision at import time for its data transforms and FrozenBatchNorm2d, neither of which a plain
ResNet's forward uses. When torchvision is not installed (the parity env has none: it would pin its own torch), an
import-time stand-in is put in its place so that timm's model code runs as shipped. Pixel preprocessing, which needs
torchvision for real, is not part of this reference.

Request: {"out": folder, "seed": int, "pixels": {"batch", "size"}, "models": {name: {"block": "basic" | "bottleneck",
          "layers": [...], "channels": [...], "stem_width": int, "num_classes": int}}}
Answer:  {"timm": version, "pixels": path (NCHW float32), "shape": [N, 3, H, W],
          "models": {name: {"folder", "pooled": [[...]], "logits": [[...]], "names": [...]}}}
"""
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import types
import warnings

warnings.filterwarnings("ignore")


class _StandInClass(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return name


class _StandInModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _StandInClass(name, (), {})


class _TorchvisionStandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == "torchvision" or name.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        return _StandInModule(spec.name)

    def exec_module(self, module):
        module.__path__ = []


if importlib.util.find_spec("torchvision") is None:
    sys.meta_path.insert(0, _TorchvisionStandIn())

import torch  # noqa: E402
import timm  # noqa: E402
from timm.models._hub import save_for_hf  # noqa: E402
from timm.models.resnet import BasicBlock, Bottleneck, ResNet  # noqa: E402


def randomize_batch_norms(model, generator):
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                count = module.num_features
                module.weight.copy_(0.5 + torch.rand(count, generator=generator))
                module.bias.copy_(0.1 * torch.randn(count, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(count, generator=generator))
                module.running_var.copy_(0.5 + 1.5 * torch.rand(count, generator=generator))


def build(name, spec, out, seed, pixels):
    torch.manual_seed(seed)
    block = BasicBlock if spec["block"] == "basic" else Bottleneck
    model = ResNet(
        block=block,
        layers=tuple(spec["layers"]),
        channels=tuple(spec["channels"]),
        stem_width=spec["stem_width"],
        num_classes=spec["num_classes"],
    )
    randomize_batch_norms(model, torch.Generator().manual_seed(seed + 1))
    model.eval()
    model.pretrained_cfg = {
        "architecture": f"resnet_tiny_{name}",
        "num_classes": spec["num_classes"],
        "input_size": (3, pixels.shape[2], pixels.shape[3]),
        "interpolation": "bicubic",
        "crop_pct": 0.95,
        "mean": (0.485, 0.456, 0.406),
        "std": (0.229, 0.224, 0.225),
        "label_names": [f"class_{i}" for i in range(spec["num_classes"])],
    }
    folder = os.path.join(out, name)
    save_for_hf(model, folder, safe_serialization=True)
    with torch.no_grad():
        features = model.forward_features(pixels)
        pooled = model.forward_head(features, pre_logits=True)
        logits = model.forward_head(features)
    return {"folder": folder, "pooled": pooled.tolist(), "logits": logits.tolist(), "names": list(model.state_dict().keys())}


def main(request_path, answer_path):
    with open(request_path) as file:
        request = json.load(file)
    os.makedirs(request["out"], exist_ok=True)
    generator = torch.Generator().manual_seed(request["seed"])
    size = request["pixels"]["size"]
    pixels = torch.randn(request["pixels"]["batch"], 3, size, size, generator=generator)
    pixels_path = os.path.join(request["out"], "pixels.f32")
    with open(pixels_path, "wb") as file:
        file.write(pixels.numpy().astype("<f4").tobytes())
    models = {name: build(name, spec, request["out"], request["seed"], pixels) for name, spec in request["models"].items()}
    with open(answer_path, "w") as file:
        json.dump({"timm": timm.__version__, "pixels": pixels_path, "shape": list(pixels.shape), "models": models}, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
