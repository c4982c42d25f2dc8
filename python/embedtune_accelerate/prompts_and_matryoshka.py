"""
model.prompts and loss.matryoshka mapped onto sentence-transformers: the trainer's per-column `prompts`, the
evaluators' query and corpus prompts, MatryoshkaLoss, and the prompts saved with the exported model. The resolved
config already names each role's prompt (resolveConfig's column_prompts), so the rules live in one place.
"""

from __future__ import annotations

from typing import Any

ROLES = ("anchor", "positive", "negative")


def role_prompts(model_config: dict[str, Any]) -> dict[str, str]:
    """The prompt text for each role that has a non-empty one: {"anchor": "query: ", "positive": "passage: "}."""
    prompts = model_config.get("prompts") or {}
    names = model_config.get("column_prompts") or {}
    texts = {}
    for role in ROLES:
        name = names.get(role)
        if name is not None and prompts.get(name):
            texts[role] = prompts[name]
    return texts


def trainer_prompts(model_config: dict[str, Any], columns: list[str]) -> dict[str, str] | None:
    """SentenceTransformerTrainingArguments(prompts=...): a column-to-prompt mapping, for the dataset's columns only."""
    by_role = role_prompts(model_config)
    # An n-tuple's negative_1 … negative_n columns all take the negative role's prompt.
    texts = {column: by_role[role] for column in columns if (role := _role_of(column)) in by_role}
    return texts or None


def _role_of(column: str) -> str:
    return "negative" if column.startswith("negative_") else column


def with_matryoshka(model: Any, loss: Any, loss_config: dict[str, Any]) -> Any:
    """loss wrapped in MatryoshkaLoss when loss.matryoshka is set (resolveConfig fills its weights)."""
    matryoshka = loss_config.get("matryoshka")
    if not matryoshka:
        return loss
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss

    dims = [int(dim) for dim in matryoshka["dims"]]
    weights = [float(weight) for weight in matryoshka.get("weights") or [1.0] * len(dims)]
    return MatryoshkaLoss(model, loss, matryoshka_dims=dims, matryoshka_weights=weights)


def matryoshka_metric_name(metric: str, dim: int) -> str:
    """As src/shared/config/promptSettings.ts names it: ndcg@10@dim64."""
    return f"{metric}@dim{dim}"


def evaluated_dims(loss_config: dict[str, Any], model_dimension: int | None) -> list[int]:
    """The dims evaluation reports apart: those below the model's dimension, largest first."""
    matryoshka = loss_config.get("matryoshka") or {}
    dims = {int(dim) for dim in matryoshka.get("dims") or []}
    return sorted((dim for dim in dims if model_dimension is None or dim < model_dimension), reverse=True)


def embedding_dimension(model: Any) -> int | None:
    getter = getattr(model, "get_embedding_dimension", None) or getattr(model, "get_sentence_embedding_dimension", None)
    return getter() if getter is not None else None


def save_prompts(model: Any, model_config: dict[str, Any]) -> None:
    """
    Sets the prompts the export saves in config_sentence_transformers.json. Set only at export: a default prompt
    set during training would be applied by evaluators' encode calls to texts that already carry their role's.
    """
    model.prompts = dict(model_config.get("prompts") or {})
    model.default_prompt_name = model_config.get("default_prompt_name")
