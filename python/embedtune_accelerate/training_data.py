"""The prepared rows and the loss: the CLI's loader already applied columns, bad rows, dedupe and the split."""

from __future__ import annotations

import json
from typing import Any

# Column order per example kind, as the trainer's ROLES_BY_KIND (src/trainer/data/trainingExamples.ts). The
# sentence-transformers trainer feeds every column but `label`/`score` to the loss, in this order.
COLUMNS_BY_KIND = {
    "pair": ["anchor", "positive"],
    "triplet": ["anchor", "positive", "negative"],
    "scored-pair": ["anchor", "positive", "score"],
    "contrastive-pair": ["anchor", "positive", "label"],
}

IN_BATCH_NEGATIVE_LOSSES = ("mnrl", "cached_mnrl")


def read_rows(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def dataset_columns(kind: str, rows: list[dict[str, Any]]) -> list[str]:
    """The dataset's columns in the order the loss takes them; an n-tuple's negatives become negative_1 … negative_n."""
    if kind == "n-tuple":
        count = len(rows[0]["negatives"]) if rows else 0
        return ["anchor", "positive", *(f"negative_{i + 1}" for i in range(count))]
    return COLUMNS_BY_KIND.get(kind, [])


def to_dataset(kind: str, rows: list[dict[str, Any]]) -> Any:
    from datasets import Dataset

    if kind != "n-tuple" and kind not in COLUMNS_BY_KIND:
        raise ValueError(f"The accelerate engine trains embedding examples, not {kind} examples; embedtune validate reports this before launch.")
    # sentence-transformers' MNRL scores every column after the positive as a negative, in order.
    return Dataset.from_dict({column: [_cell(row, column) for row in rows] for column in dataset_columns(kind, rows)})


def _cell(row: dict[str, Any], column: str) -> Any:
    if column.startswith("negative_") and "negatives" in row:
        return row["negatives"][int(column.removeprefix("negative_")) - 1]
    return row[column]


def build_loss(model: Any, loss: dict[str, Any]) -> Any:
    from sentence_transformers.sentence_transformer import losses

    kind = loss["type"]
    if kind == "mnrl":
        return losses.MultipleNegativesRankingLoss(model, scale=loss["scale"])
    if kind == "cached_mnrl":
        return losses.CachedMultipleNegativesRankingLoss(model, scale=loss["scale"], mini_batch_size=loss["mini_batch_size"])
    if kind == "cosent":
        return losses.CoSENTLoss(model, scale=loss["scale"])
    if kind == "cosine":
        return losses.CosineSimilarityLoss(model)
    if kind == "contrastive":
        # Cosine distance, as the tfjs engine's contrastive loss.
        return losses.ContrastiveLoss(model, distance_metric=losses.SiameseDistanceMetric.COSINE_DISTANCE, margin=loss["margin"])
    if kind == "triplet":
        # Euclidean distance, as the tfjs engine's triplet loss.
        return losses.TripletLoss(model, distance_metric=losses.TripletDistanceMetric.EUCLIDEAN, triplet_margin=loss["margin"])
    raise ValueError(f"loss.type {kind} is not supported by the accelerate engine; embedtune validate reports this before launch.")
