"""Evaluates the configured metrics with sentence-transformers' evaluators, under EmbedTune's metric names."""

from __future__ import annotations

import math
import re
from typing import Any

from sentence_transformers.sentence_transformer.evaluation import (
    BinaryClassificationEvaluator,
    EmbeddingSimilarityEvaluator,
    InformationRetrievalEvaluator,
    SentenceEvaluator,
)

_RANKING = re.compile(r"^(ndcg|mrr|recall|map)@(\d+)$")
# Gold scores at or above this count as relevant when scored pairs are evaluated as retrieval (as the tfjs engine).
_RELEVANT_SCORE = 0.5
_THRESHOLD_METRICS = ("accuracy", "f1", "precision", "recall")


class ConfiguredMetricsEvaluator(SentenceEvaluator):
    """
    Returns exactly `evaluation.metrics`, keyed by their EmbedTune names (`ndcg@10`, `spearman`, ...), with NaN where a
    metric is undefined for the data (the events then carry null). Retrieval treats every distinct anchor as a
    query and every distinct positive as a document, as the tfjs engine's ValidationEvaluator does.
    """

    def __init__(self, kind: str, rows: list[dict[str, Any]], metrics: list[str], primary: str, batch_size: int, greater_is_better: bool,
                 prompts: dict[str, str] | None = None, matryoshka_dims: list[int] | None = None) -> None:
        super().__init__()
        self.metrics = metrics
        self.primary_metric = primary
        self.greater_is_better = greater_is_better
        # Anchors (queries) get the anchor role's prompt and positives (the corpus) the positive role's, as in training.
        self.parts = _evaluator_parts(kind, rows, metrics, batch_size, prompts or {}, None)
        # The primary metric again on embeddings cut to each Matryoshka dim (ndcg@10@dim64), as the tfjs engine reports it.
        self.extra = []
        for dim in matryoshka_dims or []:
            name = f"{primary}@dim{dim}"
            self.extra.append(name)
            for evaluator, names in _evaluator_parts(kind, rows, [primary], batch_size, prompts or {}, dim):
                self.parts.append((evaluator, {theirs: name for theirs in names}))

    def __call__(self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        values = {metric: math.nan for metric in [*self.metrics, *self.extra]}
        for evaluator, names in self.parts:
            result = evaluator(model)
            for theirs, ours in names.items():
                value = result.get(theirs)
                if isinstance(value, (int, float)):
                    values[ours] = float(value)
        return values


def _evaluator_parts(kind: str, rows: list[dict[str, Any]], metrics: list[str], batch_size: int, prompts: dict[str, str],
                     truncate_dim: int | None) -> list[tuple[Any, dict[str, str]]]:
    """sentence-transformers' evaluators for `metrics`, each with its result names mapped to EmbedTune's."""
    parts: list[tuple[Any, dict[str, str]]] = []
    anchors = [prompts.get("anchor", "") + row["anchor"] for row in rows]
    positives = [prompts.get("positive", "") + row["positive"] for row in rows]
    ranking = [_RANKING.match(metric) for metric in metrics]
    ranking = [match for match in ranking if match]
    if ranking and rows:
        ir = _retrieval_evaluator(kind, rows, ranking, batch_size, prompts, truncate_dim)
        if ir is not None:
            parts.append((ir, {f"cosine_{name}@{k}": f"{name}@{k}" for name, k in (match.groups() for match in ranking)}))
    correlations = [metric for metric in metrics if metric in ("spearman", "pearson")]
    if correlations and kind == "scored-pair" and rows:
        evaluator = EmbeddingSimilarityEvaluator(
            anchors, positives, [float(row["score"]) for row in rows],
            batch_size=batch_size, similarity_fn_names=["cosine"], write_csv=False, truncate_dim=truncate_dim,
        )
        parts.append((evaluator, {f"{metric}_cosine": metric for metric in correlations}))
    thresholds = [metric for metric in metrics if metric in _THRESHOLD_METRICS]
    if thresholds and kind == "contrastive-pair" and rows:
        evaluator = BinaryClassificationEvaluator(
            anchors, positives, [int(row["label"]) for row in rows],
            batch_size=batch_size, similarity_fn_names=["cosine"], write_csv=False, truncate_dim=truncate_dim,
        )
        parts.append((evaluator, {f"cosine_{metric}": metric for metric in thresholds}))
    return parts


def _retrieval_evaluator(kind: str, rows: list[dict[str, Any]], ranking: list[re.Match[str]], batch_size: int, prompts: dict[str, str],
                         truncate_dim: int | None) -> InformationRetrievalEvaluator | None:
    corpus: dict[str, str] = {}
    doc_ids: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    query_ids: dict[str, str] = {}
    for row in rows:
        positive = row["positive"]
        if positive not in doc_ids:
            doc_ids[positive] = f"d{len(doc_ids)}"
            corpus[doc_ids[positive]] = positive
        if kind == "scored-pair" and float(row["score"]) < _RELEVANT_SCORE:
            continue
        if kind == "contrastive-pair" and int(row["label"]) != 1:
            continue
        anchor = row["anchor"]
        if anchor not in query_ids:
            query_ids[anchor] = f"q{len(query_ids)}"
        relevant.setdefault(query_ids[anchor], set()).add(doc_ids[positive])
    if not relevant:
        return None
    ks = {name: sorted({int(k) for n, k in (match.groups() for match in ranking) if n == name}) for name in ("ndcg", "mrr", "recall", "map")}
    return InformationRetrievalEvaluator(
        queries={qid: text for text, qid in query_ids.items()},
        corpus=corpus,
        relevant_docs=relevant,
        mrr_at_k=ks["mrr"] or [10],
        ndcg_at_k=ks["ndcg"] or [10],
        accuracy_at_k=[1],
        precision_recall_at_k=ks["recall"] or [1],
        map_at_k=ks["map"] or [100],
        batch_size=batch_size,
        write_csv=False,
        score_functions={"cosine": _cosine},
        main_score_function="cosine",
        query_prompt=prompts.get("anchor") or None,
        corpus_prompt=prompts.get("positive") or None,
        truncate_dim=truncate_dim,
    )


def _cosine(a: Any, b: Any) -> Any:
    from sentence_transformers.util import cos_sim

    return cos_sim(a, b)
