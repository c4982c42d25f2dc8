"""The launch plan that `embedtune train` writes for this engine: the resolved config plus what the CLI prepared."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PLAN_FORMAT = "embedtune-accelerate-launch/1"


@dataclass(frozen=True)
class LaunchPlan:
    run_id: str
    run_dir: str
    events_path: str
    config_path: str
    config_hash: str
    config: dict[str, Any]
    """The resolved config (every default filled in), exactly as config.resolved.yaml holds it."""
    model: dict[str, Any]
    """The located model folder and the pooling, normalization and length the tfjs engine would use."""
    data: dict[str, Any]
    """Prepared rows (the CLI's loader: columns, bad rows, dedupe, validation split) and their counts."""
    evaluation_on: bool
    early_stopping_on: bool
    dropout: float | None
    """training.dropout when the config sets it; otherwise the model keeps its own dropout."""
    resume_from: str | None
    resumed_from: str | None
    """resume_from relative to the run folder, as events report it."""
    supervisor_pid: int
    events_to_stdout: bool
    warnings: list[str]


def read_launch_plan(path: str) -> LaunchPlan:
    with open(path, encoding="utf-8") as file:
        raw = json.load(file)
    if raw.get("format") != PLAN_FORMAT:
        raise ValueError(f"{path} has format {raw.get('format')!r}; this embedtune_accelerate reads {PLAN_FORMAT!r}. Use the Python package shipped with the same EmbedTune.")
    return LaunchPlan(
        run_id=raw["run_id"],
        run_dir=raw["run_dir"],
        events_path=raw["events_path"],
        config_path=raw["config_path"],
        config_hash=raw["config_hash"],
        config=raw["config"],
        model=raw["model"],
        data=raw["data"],
        evaluation_on=bool(raw["evaluation_on"]),
        early_stopping_on=bool(raw["early_stopping_on"]),
        dropout=raw.get("dropout"),
        resume_from=raw.get("resume_from"),
        resumed_from=raw.get("resumed_from"),
        supervisor_pid=int(raw["supervisor_pid"]),
        events_to_stdout=bool(raw.get("events_to_stdout", False)),
        warnings=list(raw.get("warnings", [])),
    )
