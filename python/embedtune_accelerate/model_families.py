"""
Each model family's module names, as the tfjs engine's layouts (src/trainer/model/<family>/) name them: where a
family's encoder layers sit, and which modules each `strategy.lora.targets` name wraps. Both engines must read a
config alike, so test/unit/accelerateModelFamilies.test.ts checks this table against the TypeScript layouts.
Standard library only: that test imports it without torch.
"""

from __future__ import annotations

import re

_BERT = {
    "layer_prefix": "encoder.layer.",
    "lora_targets": {
        "query": ["attention.self.query"],
        "key": ["attention.self.key"],
        "value": ["attention.self.value"],
        "dense": ["attention.output.dense", "intermediate.dense", "output.dense"],
    },
    "default_lora_targets": ["query", "value"],
}

FAMILIES: dict[str, dict] = {
    "bert": _BERT,
    "roberta": _BERT,
    "xlm-roberta": _BERT,
    "mpnet": {
        "layer_prefix": "encoder.layer.",
        "lora_targets": {
            "q": ["attention.attn.q"],
            "k": ["attention.attn.k"],
            "v": ["attention.attn.v"],
            "o": ["attention.attn.o"],
            "dense": ["intermediate.dense", "output.dense"],
        },
        "default_lora_targets": ["q", "v"],
    },
    "distilbert": {
        "layer_prefix": "transformer.layer.",
        "lora_targets": {
            "q_lin": ["attention.q_lin"],
            "k_lin": ["attention.k_lin"],
            "v_lin": ["attention.v_lin"],
            "out_lin": ["attention.out_lin"],
            "lin1": ["ffn.lin1"],
            "lin2": ["ffn.lin2"],
        },
        "default_lora_targets": ["q_lin", "v_lin"],
    },
}

# Every family keeps its token and position embeddings under this prefix.
EMBEDDINGS_PREFIX = "embeddings."


def family_of(model_type: str, wanted_for: str) -> dict:
    """The family of config.json's model_type; an error naming it and the supported ones when there is none."""
    family = FAMILIES.get(model_type)
    if family is None:
        raise ValueError(
            f"{wanted_for} needs the model's module names, and the accelerate engine knows them only for "
            f"{', '.join(FAMILIES)} models, not model_type {model_type!r}."
        )
    return family


def lora_target_pattern(model_type: str, targets: list[str]) -> str:
    """
    A PEFT target_modules regex wrapping `targets` (the family's names) in every layer. It must match the whole
    module name, so that BERT's "output.dense" does not also pick attention.output.dense unless asked.
    """
    family = family_of(model_type, "strategy.lora.targets")
    known = family["lora_targets"]
    unknown = [target for target in targets if target not in known]
    if unknown:
        raise ValueError(
            f"strategy.lora.targets: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a LoRA target of "
            f"{model_type} models; their targets are {', '.join(known)}."
        )
    parts = sorted({part for target in targets for part in known[target]})
    return r".*" + re.escape(family["layer_prefix"]) + r"\d+\.(" + "|".join(re.escape(part) for part in parts) + r")"


def layer_index(model_type: str, hf_name: str) -> int | None:
    """The encoder layer a weight (by its Hugging Face name) belongs to, or None for embeddings and shared weights."""
    prefix = family_of(model_type, "strategy freeze")["layer_prefix"]
    match = re.match(re.escape(prefix) + r"(\d+)\.", hf_name)
    return None if match is None else int(match.group(1))
