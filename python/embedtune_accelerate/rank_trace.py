"""
An opt-in trace of what each process trained, for checking how a multi-process run splits the work.

With EMBEDTUNE_ACCELERATE_TRACE=1 in the environment of `embedtune train`, every rank appends to
<run>/accelerate/trace-rank-<rank>.jsonl: one {"batch": [...]} line per micro-batch it trained, naming each row by its
first column (the anchor), and one {"step": n, "weights_sha256": ...} line after each optimizer step, a digest of every
parameter of its copy of the model. Under DistributedDataParallel the ranks' batches are disjoint and their digests
equal at every step. Hashing every parameter each step costs time on a large model, so it is off by default.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable

import torch
from transformers import TrainerCallback

from .run_folder import ACCELERATE_DIR

TRACE_VARIABLE = "EMBEDTUNE_ACCELERATE_TRACE"


class RankTrace(TrainerCallback):
    def __init__(self, path: str) -> None:
        self.path = path
        self.file = open(path, "a", encoding="utf-8")

    @classmethod
    def from_environment(cls, run_dir: str, rank: int) -> "RankTrace | None":
        if os.environ.get(TRACE_VARIABLE, "") not in ("1", "true"):
            return None
        return cls(os.path.join(run_dir, ACCELERATE_DIR, f"trace-rank-{rank}.jsonl"))

    def wrap_collator(self, collator: Callable[[list[dict[str, Any]]], Any]) -> "_TracingCollator":
        return _TracingCollator(collator, self)

    def record_batch(self, features: list[dict[str, Any]]) -> None:
        self._write({"batch": [_row_name(row) for row in features]})

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if model is not None:
            self._write({"step": int(state.global_step), "weights_sha256": weights_digest(model)})
        return control

    def on_train_end(self, args, state, control, **kwargs):
        self.file.close()
        return control

    def _write(self, entry: dict[str, Any]) -> None:
        self.file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.file.flush()


class _TracingCollator:
    """The Trainer's collator, recording each batch's rows first; other attributes (valid_label_columns) pass through."""

    def __init__(self, inner: Callable[[list[dict[str, Any]]], Any], trace: RankTrace) -> None:
        self._inner = inner
        self._trace = trace

    def __call__(self, features: list[dict[str, Any]]) -> Any:
        self._trace.record_batch(features)
        return self._inner(features)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _row_name(row: dict[str, Any]) -> Any:
    return row["anchor"] if "anchor" in row else next(iter(row.values()), None)


def weights_digest(model: Any) -> str:
    """SHA-256 over every parameter's name and raw bytes, in name order."""
    digest = hashlib.sha256()
    for name, parameter in sorted(model.named_parameters(), key=lambda item: item[0]):
        digest.update(name.encode("utf-8"))
        digest.update(parameter.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
