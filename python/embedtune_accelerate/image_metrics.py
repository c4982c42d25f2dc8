"""
Image-classification metrics from class scores, as the tfjs engine computes them (src/trainer/evaluation/
scoredClassificationMetrics.ts): accuracy, macro precision/recall/F1 and the confusion matrix as scikit-learn's
classification report (zero_division=0), per-class average precision as sklearn's average_precision_score, and
mAP as the mean AP over the classes with at least one validation row.

numpy only: scikit-learn is not among the engine's requirements. test/integration/python/image_metrics_check.py
compares this with sklearn's average_precision_score.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

METRIC_NAMES = ("accuracy", "f1", "precision", "recall", "map")


def average_precision(relevant: np.ndarray, scores: np.ndarray) -> float | None:
    """
    AP = Σₖ (Rₖ − Rₖ₋₁) · Pₖ over the distinct score thresholds from highest to lowest (no interpolation), with tied
    scores forming one threshold, as sklearn's _binary_clf_curve. None when no row is relevant: sklearn answers 0 with
    a warning there, which would read as the worst ranking.
    """
    relevant = np.asarray(relevant, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    positives = int(relevant.sum())
    if positives == 0:
        return None
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    hits = np.cumsum(relevant[order])
    # The last row of each group of equal scores closes a threshold.
    last_of_group = np.r_[np.diff(sorted_scores) != 0, True]
    true_positives = hits[last_of_group].astype(np.float64)
    retrieved = (np.nonzero(last_of_group)[0] + 1).astype(np.float64)
    recall = true_positives / positives
    precision = true_positives / retrieved
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def scored_classification_report(class_names: list[str], gold: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """
    `gold` holds class indices into `class_names`; `probabilities` one row of class scores per example. The confusion
    matrix and per-class scores cover the sorted union of gold and predicted classes (classificationReport's rule);
    every class with a validation row gets its average_precision.
    """
    gold = np.asarray(gold, dtype=np.int64)
    predicted = probabilities.argmax(axis=1) if len(gold) else np.zeros(0, dtype=np.int64)
    ap = [average_precision(gold == c, probabilities[:, c]) for c in range(len(class_names))]
    present = sorted({class_names[i] for i in gold.tolist()} | {class_names[i] for i in predicted.tolist()})
    position = {name: i for i, name in enumerate(present)}
    matrix = [[0] * len(present) for _ in present]
    for truth, guess in zip(gold.tolist(), predicted.tolist()):
        matrix[position[class_names[truth]]][position[class_names[guess]]] += 1
    per_class: dict[str, dict[str, Any]] = {}
    for c, name in enumerate(present):
        true_positives = matrix[c][c]
        support = sum(matrix[c])
        predicted_count = sum(row[c] for row in matrix)
        precision = _ratio(true_positives, predicted_count)
        recall = _ratio(true_positives, support)
        per_class[name] = {"precision": precision, "recall": recall, "f1": _harmonic(precision, recall), "support": support}
        per_class[name]["average_precision"] = ap[class_names.index(name)]
    defined = [value for value in ap if value is not None]
    correct = sum(matrix[c][c] for c in range(len(present)))

    def macro(key: str) -> float | None:
        return sum(scores[key] for scores in per_class.values()) / len(per_class) if per_class else None

    metrics = {
        "accuracy": correct / len(gold) if len(gold) else None,
        "f1": macro("f1"),
        "precision": macro("precision"),
        "recall": macro("recall"),
        "map": sum(defined) / len(defined) if defined else None,
    }
    return {"metrics": metrics, "confusion_matrix": {"labels": present, "matrix": matrix}, "per_class": per_class, "predicted": predicted}


def as_trainer_metrics(metrics: dict[str, float | None]) -> dict[str, float]:
    """The Trainer's metrics are floats: an undefined metric is NaN there, and null in the events."""
    return {name: math.nan if value is None else float(value) for name, value in metrics.items()}


def _ratio(numerator: int, denominator: int) -> float:
    return 0.0 if denominator == 0 else numerator / denominator


def _harmonic(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
