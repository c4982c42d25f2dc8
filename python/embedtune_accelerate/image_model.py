"""
The image classifier for the accelerate engine: AutoModelForImageClassification with a new N-class head, and
`strategy` applied by stage, as the tfjs engine's ResNet freezes it (src/trainer/model/resnet/).

Stages of a ResNet, by layout:
  transformers (model_type resnet):  stem resnet.embedder.*, stages resnet.encoder.stages.0 … 3, head classifier.*
  timm (TimmWrapper, needs timm):    stem timm_model.conv1/bn1, stages timm_model.layer1 … layer4, head timm_model.fc
freeze_embeddings freezes the stem; freeze_layers N the first N stages; the head always trains. Freezing a weight
leaves its BatchNorm layers' running statistics updating, as requires_grad = False does in PyTorch and as the tfjs
engine's resnetFreezing.ts does; strategy.freeze_batch_norm keeps every BatchNorm layer in eval mode.
"""

from __future__ import annotations

import re
from typing import Any

IMAGE_LAYOUTS: dict[str, dict[str, Any]] = {
    "resnet": {"stem": ("resnet.embedder.",), "stage": re.compile(r"^resnet\.encoder\.stages\.(\d+)\."), "first_stage": 0, "head": "classifier"},
    "timm_wrapper": {"stem": ("timm_model.conv1.", "timm_model.bn1."), "stage": re.compile(r"^timm_model\.layer(\d+)\."), "first_stage": 1, "head": "timm_model.fc"},
}


def layout_of(model: Any) -> dict[str, Any]:
    model_type = model.config.model_type
    layout = IMAGE_LAYOUTS.get(model_type)
    if layout is None:
        raise ValueError(f"The accelerate engine fine-tunes ResNet image models (transformers' resnet or timm's), not model_type {model_type!r}.")
    return layout


def build_image_model(folder: str, labels: list[str]) -> Any:
    """
    The model with a new, freshly initialized head of len(labels) classes replacing the base's fc (whatever its size),
    and id2label / label2id in the sorted label order (num_labels follows from them), so that the export's pipeline
    names the classes.
    """
    from transformers import AutoModelForImageClassification

    model = AutoModelForImageClassification.from_pretrained(
        folder,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        ignore_mismatched_sizes=True,
    )
    head = model.get_submodule(layout_of(model)["head"])
    linear = head[-1] if hasattr(head, "__getitem__") else head
    # A base whose head already has N outputs would keep it: the config's classes are new, so the head is too.
    # Seeded by transformers.set_seed(training.seed) before this call; torch.nn.Linear's own initialization.
    linear.reset_parameters()
    return model


def head_parameters(model: Any) -> list[Any]:
    """The new head's weights, which learn at training.head_learning_rate."""
    return list(model.get_submodule(layout_of(model)["head"]).parameters())


def stage_of(name: str, layout: dict[str, Any]) -> int | None:
    """The 0-based stage of a parameter or module name, or None outside the stages."""
    match = layout["stage"].match(name + ".")
    return None if match is None else int(match.group(1)) - layout["first_stage"]


def is_frozen(name: str, layout: dict[str, Any], strategy: dict[str, Any]) -> bool:
    """Whether the parameter or module `name` is in a part of the model that strategy freeze freezes."""
    if strategy["type"] != "freeze":
        return False
    if any((name + ".").startswith(prefix) for prefix in layout["stem"]):
        return bool(strategy["freeze_embeddings"])
    stage = stage_of(name, layout)
    return stage is not None and stage < strategy["freeze_layers"]


def apply_image_strategy(model: Any, strategy: dict[str, Any]) -> list[str]:
    """Sets requires_grad and pins BatchNorm layers to eval mode; returns the pinned BatchNorm modules' names."""
    import torch

    kind = strategy["type"]
    if kind not in ("full", "freeze"):
        raise ValueError(f"strategy.type {kind} is not supported for image-classification by the accelerate engine; use full or freeze.")
    layout = layout_of(model)
    for name, parameter in model.named_parameters():
        parameter.requires_grad = not is_frozen(name, layout, strategy)
    if kind == "freeze":
        require_frozen_parts(model, layout, strategy)
    pinned = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and strategy.get("freeze_batch_norm"):
            keep_in_eval_mode(module)
            pinned.append(name)
    return pinned


def keep_in_eval_mode(module: Any) -> None:
    """
    The Trainer calls model.train() before every step; this module ignores it and stays in eval mode, so BatchNorm
    normalizes with its running statistics and never updates them.
    """
    import torch

    def train(mode: bool = True) -> Any:
        return torch.nn.Module.train(module, False)

    module.train = train
    module.eval()


def require_frozen_parts(model: Any, layout: dict[str, Any], strategy: dict[str, Any]) -> None:
    """Never train more than the config says: every stage it freezes must have matched a parameter."""
    names = [name for name, _ in model.named_parameters()]
    stages = sorted({stage for stage in (stage_of(name, layout) for name in names) if stage is not None})
    wanted = [f"stage {stage + 1}" for stage in range(min(strategy["freeze_layers"], len(stages))) if stage not in stages]
    if strategy["freeze_embeddings"] and not any(any((n + ".").startswith(p) for p in layout["stem"]) for n in names):
        wanted.insert(0, "the stem")
    if wanted:
        raise ValueError(f"strategy freeze matched no parameter of {', '.join(wanted)} (names start {names[:3]}); please report this with the model you use.")
