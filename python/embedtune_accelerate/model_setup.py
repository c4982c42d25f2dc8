"""Builds the sentence-transformers model the config describes and applies its training strategy."""

from __future__ import annotations

import re
from typing import Any

from .launch_plan import LaunchPlan
from .model_families import EMBEDDINGS_PREFIX, layer_index, lora_target_pattern


def build_model(plan: LaunchPlan) -> Any:
    """Transformer, pooling and (when normalize is on) normalization, with the settings the CLI resolved."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules

    settings = plan.model
    config_kwargs = {}
    if plan.dropout is not None:
        # As the tfjs engine does: training.dropout replaces the model's hidden and attention dropout.
        config_kwargs = {"hidden_dropout_prob": plan.dropout, "attention_probs_dropout_prob": plan.dropout}
    transformer = modules.Transformer(settings["folder"], max_seq_length=settings["max_seq_length"], config_kwargs=config_kwargs)
    dimension = transformer.auto_model.config.hidden_size
    parts = [transformer, modules.Pooling(dimension, pooling_mode=settings["pooling"])]
    if settings["normalize"]:
        parts.append(modules.Normalize())
    return SentenceTransformer(modules=parts)


_MODULE_PREFIX = re.compile(r"^\d+\.(?:auto_model|model)\.")


def hf_parameter_name(name: str) -> str:
    """`0.model.encoder.layer.3.output.dense.weight` -> `encoder.layer.3.output.dense.weight` (the tfjs names)."""
    return _MODULE_PREFIX.sub("", name, count=1)


def apply_strategy(model: Any, strategy: dict[str, Any]) -> None:
    kind = strategy["type"]
    model_type = transformer_of(model).config.model_type
    # Sentence embeddings never use BERT's pooler (the tfjs engine does not even load it): nothing to train there.
    for name, parameter in model.named_parameters():
        if hf_parameter_name(name).startswith("pooler."):
            parameter.requires_grad = False
    if kind == "full":
        return
    if kind == "freeze":
        for name, parameter in model.named_parameters():
            hf_name = hf_parameter_name(name)
            if hf_name.startswith("pooler."):
                continue
            if hf_name.startswith(EMBEDDINGS_PREFIX):
                parameter.requires_grad = not strategy["freeze_embeddings"]
                continue
            layer = layer_index(model_type, hf_name)
            parameter.requires_grad = layer is None or layer >= strategy["freeze_layers"]
        require_frozen(model, strategy)
        return
    if kind == "lora":
        from peft import LoraConfig, inject_adapter_in_model

        lora = strategy["lora"]
        pattern = lora_target_pattern(model_type, lora["targets"])
        config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"], target_modules=pattern, bias="none")
        # Injected into the transformer in place (not wrapped in a PeftModel, and not through transformers'
        # add_adapter, which needs a newer PEFT than PyPI has): the sentence-transformers model and the Trainer see
        # the same modules, and checkpoints hold base and LoRA weights side by side for an exact resume.
        inject_adapter_in_model(config, transformer_of(model))
        for name, parameter in model.named_parameters():
            parameter.requires_grad = ".lora_A." in name or ".lora_B." in name
        return
    raise ValueError(f"strategy.type {kind} is not supported by the accelerate engine; embedtune validate reports this before launch.")


def require_frozen(model: Any, strategy: dict[str, Any]) -> None:
    """
    Never train more than the config says: each layer below freeze_layers, and the embeddings when asked, must have
    matched a parameter, or the model's names are not the ones its family's table expects.
    """
    names = [hf_parameter_name(name) for name, parameter in model.named_parameters() if not parameter.requires_grad]
    config = transformer_of(model).config
    model_type = config.model_type
    # freeze_layers beyond the model's depth freezes every layer, as the tfjs engine does.
    layers = min(strategy["freeze_layers"], config.num_hidden_layers)
    expected = [f"layer {index}" for index in range(layers) if not any(layer_index(model_type, name) == index for name in names)]
    if strategy["freeze_embeddings"] and not any(name.startswith(EMBEDDINGS_PREFIX) for name in names):
        expected.insert(0, "the embeddings")
    if expected:
        first = [name for name, _ in model.named_parameters()][:3]
        raise ValueError(
            f"strategy freeze matched no parameter of {', '.join(expected)} in this {model_type} model (its names start {first}); "
            "please report this with the model you use."
        )


def transformer_of(model: Any) -> Any:
    """The Hugging Face model inside the sentence-transformers Transformer module."""
    return model[0].auto_model


def has_lora(model: Any) -> bool:
    return any(".lora_A." in name for name, _ in model.named_parameters())


def load_checkpoint_weights(model: Any, checkpoint: str) -> None:
    """
    Loads a checkpoint's transformer weights into `model` as they were saved, LoRA layers included. A plain
    SentenceTransformer(checkpoint) would not do for LoRA: transformers does not know the injected layers' names.
    """
    import os

    from safetensors.torch import load_file

    transformer = transformer_of(model)
    path = os.path.join(checkpoint, "model.safetensors")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{checkpoint} has no model.safetensors; it is not a checkpoint of the accelerate engine.")
    state = load_file(path)
    missing, unexpected = transformer.load_state_dict(state, strict=False)
    # A BertModel saves its pooler, which sentence embeddings never use; anything else missing is a wrong checkpoint.
    missing = [name for name in missing if not name.startswith("pooler.")]
    if missing or unexpected:
        raise ValueError(f"{path} does not match this model: missing {missing[:5]}, unexpected {unexpected[:5]}.")


def merge_lora(model: Any) -> None:
    """Folds each LoRA update into its base weight and removes the LoRA layers: a plain model, as the tfjs export."""
    from peft.tuners.lora import LoraLayer

    root = transformer_of(model)
    for name, module in list(root.named_modules()):
        if not isinstance(module, LoraLayer):
            continue
        module.merge()
        parent_name, _, child = name.rpartition(".")
        parent = root.get_submodule(parent_name) if parent_name else root
        setattr(parent, child, module.get_base_layer())
