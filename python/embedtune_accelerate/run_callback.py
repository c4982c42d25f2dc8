"""The TrainerCallback that makes a sentence-transformers run look like an EmbedTune run to the editor and the CLI."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import time
from typing import Any

import torch
from transformers import EarlyStoppingCallback, TrainerCallback

from .event_log import EventLog
from .launch_plan import LaunchPlan
from .run_folder import ACCELERATE_STATE_FILE, BEST_POINTER_FILE, CHECKPOINTS_DIR, checkpoint_relative_path, checkpoint_step
from .stop_signal import StopSignal

PROGRESS_LOG_INTERVAL_SECONDS = 2.0


class MetricTracker:
    """The tfjs engine's MetricTracker: a new best must beat the old one by more than min_delta."""

    def __init__(self, mode: str, min_delta: float, best: float | None = None, without_improvement: int = 0) -> None:
        self.mode = mode
        self.min_delta = min_delta
        self.best = best
        self.evaluations_without_improvement = without_improvement

    def record(self, value: float | None) -> bool:
        if value is None or not math.isfinite(value):
            self.evaluations_without_improvement += 1
            return False
        improved = self.best is None or (value > self.best + self.min_delta if self.mode == "max" else value < self.best - self.min_delta)
        if improved:
            self.best = value
            self.evaluations_without_improvement = 0
        else:
            self.evaluations_without_improvement += 1
        return improved

    def state(self) -> dict[str, Any]:
        return {"best": self.best, "evaluationsWithoutImprovement": self.evaluations_without_improvement}

    def baseline_not_beaten(self, metric: str, baseline: float | None) -> dict[str, Any] | None:
        """The tfjs engine's baselineNotBeaten: the best trained evaluation is no better than the one before training."""
        if baseline is None or self.best is None or not math.isfinite(baseline) or not math.isfinite(self.best):
            return None
        beaten = self.best > baseline if self.mode == "max" else self.best < baseline
        return None if beaten else {"metric": metric, "baseline": baseline, "best": self.best, "mode": self.mode}


class RankCounter:
    """Counts the batches and rows this process fed to the loss, to show that every rank trained."""

    def __init__(self) -> None:
        self.batches = 0
        self.examples = 0

    def hook(self, _module: Any, args: tuple[Any, ...]) -> None:
        features = args[0] if args else None
        if isinstance(features, (list, tuple)) and features and isinstance(features[0], dict):
            first = next(iter(features[0].values()))
            if hasattr(first, "shape"):
                self.batches += 1
                self.examples += int(first.shape[0])


class EmbedTuneRunCallback(TrainerCallback):
    """
    Writes events.jsonl (main process only), keeps the run folder's checkpoints like the tfjs engine (newest
    `checkpoints.keep` plus the best one, a `best` pointer, `step-N` names), and turns a stop request into a
    checkpoint and a clean end on every process at the same step.
    """

    def __init__(self, plan: LaunchPlan, events: EventLog | None, stop: StopSignal, counter: RankCounter, world_size: int, process_index: int, device: torch.device) -> None:
        self.plan = plan
        self.config = plan.config
        self.events = events
        self.stop = stop
        self.counter = counter
        self.world_size = world_size
        self.process_index = process_index
        self.device = device
        early = self.config["early_stopping"]
        self.tracker = MetricTracker(early["mode"], early["min_delta"])
        self.primary = self.config["evaluation"]["primary"]
        self.checkpoint_every = self.config["checkpoints"]["every"]
        self.evaluation_every = self.config["evaluation"]["every"]
        self.keep = self.config["checkpoints"]["keep"]
        self.keep_best = self.config["checkpoints"]["keep_best"]
        self.effective_batch = self.config["training"]["batch_size"] * self.config["training"]["gradient_accumulation_steps"] * world_size
        self.started = time.time()
        self.elapsed_before = 0.0
        self.last_metrics: dict[str, float | None] | None = None
        # The evaluation before training, kept through a resume: the run must say when training never beat it.
        self.baseline: dict[str, float | None] | None = None
        self.best_checkpoint: str | None = None
        self.baseline_pending = plan.evaluation_on and plan.resume_from is None
        self.stopping = False
        self.early_stopped = False
        self.improved_step = -1
        self.pending_reason: str | None = None
        self.last_saved_step = -1
        self.last_evaluated_step = -1
        self.last_log_time = time.time()
        self.last_log_step = 0
        self.last_progress_line = 0.0
        self.ranks: list[dict[str, int]] = []
        # Image runs: the confusion matrix, per-class scores and misclassified images of the evaluation being
        # reported, set by its compute_metrics (image_classification.ImageEvaluation) and written with its eval event.
        self.eval_details: dict[str, Any] | None = None
        if plan.resume_from:
            self._restore(plan.resume_from)

    @property
    def is_main(self) -> bool:
        return self.events is not None

    def elapsed(self) -> float:
        return self.elapsed_before + (time.time() - self.started)

    def log_line(self, line: str) -> None:
        if self.is_main:
            stream = sys.stderr if self.plan.events_to_stdout else sys.stdout
            stream.write(line + "\n")
            stream.flush()

    # ---- lifecycle ----

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if not self.is_main:
            return
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad) if model is not None else 0
        total = sum(p.numel() for p in model.parameters()) if model is not None else 0
        epochs = self.config["training"]["epochs"]
        backend, device = describe_device(self.device)
        self.events.write(
            "run_started",
            config_hash=self.plan.config_hash,
            config_path=self.plan.config_path,
            engine="accelerate",
            backend=backend,
            backend_reason=f"accelerate launch: {self.world_size} process(es), {args.parallel_mode.value if hasattr(args.parallel_mode, 'value') else args.parallel_mode}, "
            f"{_backend_name()} backend, mixed precision {self.config['training']['mixed_precision']}",
            device=device,
            threads=max(1, torch.get_num_threads()),
            task=self.config["task"],
            model=self.config["model"]["base"],
            strategy=self.config["strategy"]["type"],
            trainable_parameters=int(trainable),
            total_parameters=int(total),
            dataset=self.plan.data["counts"],
            **({"preprocess": self.plan.data["preprocess"]} if self.plan.data.get("preprocess") is not None else {}),
            epochs=epochs,
            steps_per_epoch=max(0, math.ceil(state.max_steps / max(epochs, 1))),
            total_steps=int(state.max_steps),
            effective_batch_size=self.effective_batch,
            num_processes=self.world_size,
            **({"resumed_from": self.plan.resumed_from} if self.plan.resumed_from else {}),
            pid=self.plan.supervisor_pid,
        )
        for warning in self.plan.warnings:
            self.events.write("log", level="warning", message=warning)
        self.log_line(f"run {self.plan.run_id}: {self.plan.data['counts']['train_rows']} training and {self.plan.data['counts']['validation_rows']} validation examples, "
                      f"{state.max_steps} steps on {self.world_size} process(es), effective batch {self.effective_batch}")
        self.last_log_step = state.global_step

    def on_step_end(self, args, state, control, **kwargs):
        if self._any_process_stopping():
            self.stopping = True
            control.should_training_stop = True
            control.should_save = True
            self.pending_reason = "stop"
            return control
        if state.global_step >= state.max_steps and self.plan.evaluation_on and isinstance(self.evaluation_every, int) and state.global_step % self.evaluation_every != 0:
            # The tfjs engine evaluates only on its schedule; the Trainer would add one at the last step.
            control.should_evaluate = False
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        # The Trainer saves and evaluates again at an epoch end that falls on a step already handled (a stop, or the
        # last step of a steps schedule): one checkpoint and one evaluation per step, as in the tfjs engine.
        if self.stopping or self.last_saved_step == state.global_step:
            control.should_save = False
        if self.stopping or self.last_evaluated_step == state.global_step:
            control.should_evaluate = False
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not self.is_main or not logs or "loss" not in logs:
            return
        now = time.time()
        steps = max(state.global_step - self.last_log_step, 0)
        seconds = max(now - self.last_log_time, 1e-3)
        per_second = steps * self.effective_batch / seconds
        steps_per_second = steps / seconds
        remaining = max(state.max_steps - state.global_step, 0)
        eta = remaining / steps_per_second if steps_per_second > 0 else None
        lr = float(logs.get("learning_rate", 0.0))
        loss = float(logs["loss"])
        grad_norm = logs.get("grad_norm")
        self.events.write(
            "progress",
            step=int(state.global_step),
            epoch=float(state.epoch or 0.0),
            loss=loss,
            lr=max(lr, 0.0),
            examples_per_second=per_second,
            eta_seconds=eta,
            memory_mb=memory_mb(self.device),
            **({"grad_norm": float(grad_norm)} if isinstance(grad_norm, (int, float)) else {}),
        )
        if now - self.last_progress_line >= PROGRESS_LOG_INTERVAL_SECONDS or state.global_step >= state.max_steps:
            self.log_line(f"step {state.global_step}/{state.max_steps} · epoch {state.epoch or 0:.2f} · loss {loss:.4f} · lr {lr:.2e} · {per_second:.1f} examples/s"
                          + (f" · ETA {eta:.0f}s" if eta is not None else ""))
            self.last_progress_line = now
        self.last_log_time = now
        self.last_log_step = state.global_step

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        # Every process gets the same metrics (the evaluator runs on the main process and they are broadcast),
        # so every process takes the same decisions below.
        # The configured metrics, then the primary one at each loss.matryoshka dim (ndcg@10@dim64) that the evaluator adds.
        names = [*self.config["evaluation"]["metrics"], *(key[len("eval_"):] for key in (metrics or {}) if key.startswith(f"eval_{self.primary}@dim"))]
        values = {name: _number(metrics.get(f"eval_{name}")) for name in names} if metrics else {}
        primary_value = _number(metrics.get(f"eval_{self.primary}")) if metrics else None
        baseline = self.baseline_pending and state.global_step == 0
        self.baseline_pending = False
        improved = False if baseline else self.tracker.record(primary_value)
        if baseline:
            self.baseline = values
        else:
            self.last_metrics = values
            self.last_evaluated_step = state.global_step
        if improved:
            self.improved_step = state.global_step
            if not control.should_save:
                # A new best between checkpoint intervals is kept, so that keep_best can always point at it.
                control.should_save = True
                self.pending_reason = "interval"
        details, self.eval_details = self.eval_details or {}, None
        if self.is_main:
            self.events.write("eval", step=int(state.global_step), epoch=float(state.epoch or 0.0), metrics=values,
                              primary={"name": self.primary, "value": primary_value}, is_best=improved, **details)
            shown = " · ".join(f"{name} {'n/a' if value is None else f'{value:.4f}'}" for name, value in values.items())
            self.log_line(f"eval at step {state.global_step}: {shown}{' (best)' if improved else ''}")
        return control

    def early_stop(self, state, control) -> None:
        """Called by PrimaryMetricEarlyStopping when patience has run out: checkpoint this step and end."""
        self.early_stopped = True
        control.should_training_stop = True
        if not control.should_save:
            control.should_save = True
            self.pending_reason = "final"
        if self.is_main:
            best = self.tracker.best if self.tracker.best is not None else math.nan
            patience = self.config["early_stopping"]["patience"]
            self.events.write("early_stop", step=int(state.global_step), metric=self.primary, best=best if math.isfinite(best) else 0.0, patience=patience)
            self.log_line(f"early stop at step {state.global_step}: {self.primary} did not improve for {patience} evaluations")

    def on_save(self, args, state, control, **kwargs):
        step = int(state.global_step)
        self.last_saved_step = step
        reason = self.pending_reason or self._scheduled_reason(state)
        self.pending_reason = None
        is_best = self.improved_step == step
        if not self.is_main:
            return
        name = checkpoint_relative_path(step)
        folder = os.path.join(self.plan.run_dir, name)
        if not os.path.isdir(folder):
            self.events.write("error", message=f"The Trainer did not save {name}; this transformers version names checkpoints differently.", where={"phase": "training"})
            return
        if is_best:
            self.best_checkpoint = name
        write_json_atomic(os.path.join(folder, ACCELERATE_STATE_FILE), {
            "format": "embedtune-accelerate-checkpoint/1",
            "step": step,
            "epoch": float(state.epoch or 0.0),
            "metrics": self.last_metrics,
            "baseline": self.baseline,
            "tracker": self.tracker.state(),
            "bestCheckpoint": self.best_checkpoint,
            "configHash": self.plan.config_hash,
            "elapsedSeconds": self.elapsed(),
        })
        if is_best and self.keep_best:
            write_text_atomic(os.path.join(self.plan.run_dir, BEST_POINTER_FILE), f"{name}\n")
        deleted = self._prune()
        self.events.write("checkpoint", step=step, epoch=float(state.epoch or 0.0), path=name, size_bytes=folder_size(folder),
                          **({"metrics": self.last_metrics} if self.last_metrics is not None else {}), is_best=is_best, reason=reason, deleted=deleted)

    def on_train_end(self, args, state, control, **kwargs):
        mine = {"rank": self.process_index, "examples": self.counter.examples, "batches": self.counter.batches}
        if self.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            gathered: list[Any] = [None] * self.world_size
            torch.distributed.all_gather_object(gathered, mine)
            self.ranks = sorted(gathered, key=lambda entry: entry["rank"])
        else:
            self.ranks = [mine]

    # ---- helpers ----

    def best_pointer(self) -> str | None:
        pointer = os.path.join(self.plan.run_dir, BEST_POINTER_FILE)
        try:
            with open(pointer, encoding="utf-8") as file:
                path = file.read().strip()
        except OSError:
            return None
        return path if os.path.isdir(os.path.join(self.plan.run_dir, path)) else None

    def best_metric(self) -> dict[str, Any] | None:
        return None if self.tracker.best is None else {"name": self.primary, "value": self.tracker.best}

    def _scheduled_reason(self, state) -> str:
        if self.checkpoint_every == "epoch":
            return "epoch"
        if state.global_step >= state.max_steps and state.global_step % self.checkpoint_every != 0:
            return "final"
        return "interval"

    def _any_process_stopping(self) -> bool:
        """A stop seen by any process stops all of them at the same step, so that no collective waits forever."""
        local = self.stop.requested
        if self.world_size <= 1 or not (torch.distributed.is_available() and torch.distributed.is_initialized()):
            return local
        flag = torch.tensor([1 if local else 0], dtype=torch.int32, device=self.device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return bool(flag.item())

    def _prune(self) -> list[str]:
        folder = os.path.join(self.plan.run_dir, CHECKPOINTS_DIR)
        steps = sorted(step for step in map(checkpoint_step, os.listdir(folder)) if step is not None)
        best = self.best_pointer()
        doomed = [checkpoint_relative_path(step) for step in steps[: max(0, len(steps) - self.keep)]]
        doomed = [path for path in doomed if path != best]
        for path in doomed:
            shutil.rmtree(os.path.join(self.plan.run_dir, path), ignore_errors=True)
        return doomed

    def _restore(self, checkpoint: str) -> None:
        try:
            with open(os.path.join(checkpoint, ACCELERATE_STATE_FILE), encoding="utf-8") as file:
                saved = json.load(file)
        except OSError:
            return
        tracker = saved.get("tracker") or {}
        self.tracker = MetricTracker(self.tracker.mode, self.tracker.min_delta, tracker.get("best"), int(tracker.get("evaluationsWithoutImprovement", 0)))
        self.elapsed_before = float(saved.get("elapsedSeconds", 0.0))
        self.best_checkpoint = saved.get("bestCheckpoint")
        self.last_metrics = saved.get("metrics")
        self.baseline = saved.get("baseline")
        self.last_saved_step = int(saved.get("step", -1))


class PrimaryMetricEarlyStopping(EarlyStoppingCallback):
    """
    transformers' EarlyStoppingCallback, counting patience as the tfjs engine does: the evaluation before training
    does not count, and an improvement must beat the best by more than min_delta (transformers compares with its own
    best_metric, which moves on any improvement). The count is kept in the run callback's tracker, so it survives a
    resume.
    """

    def __init__(self, run: EmbedTuneRunCallback, patience: int, min_delta: float) -> None:
        super().__init__(early_stopping_patience=patience, early_stopping_threshold=min_delta)
        self.run = run

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if state.global_step == 0 or self.run.last_evaluated_step != state.global_step:
            return control
        self.early_stopping_patience_counter = self.run.tracker.evaluations_without_improvement
        if self.early_stopping_patience_counter >= self.early_stopping_patience:
            self.run.early_stop(state, control)
        return control


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(float(value)) else None


def _backend_name() -> str:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return str(torch.distributed.get_backend())
    return "no distributed"


def describe_device(device: torch.device) -> tuple[str, str]:
    if device.type == "cuda":
        return "cuda", torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "mps", "Apple GPU"
    return "cpu", _cpu_name()


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_mb(device: torch.device) -> dict[str, float]:
    usage: dict[str, float] = {"rss": _rss_mb()}
    if device.type == "cuda":
        # The peak, which is what decides whether a batch fits (and what mixed precision saves).
        usage["gpu"] = torch.cuda.max_memory_allocated(device) / 2**20
    return usage


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm", encoding="utf-8") as file:
            pages = int(file.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_size(folder: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def write_text_atomic(path: str, text: str) -> None:
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temp, path)


def write_json_atomic(path: str, value: Any) -> None:
    write_text_atomic(path, json.dumps(value, indent=2, allow_nan=False, default=lambda v: None) + "\n")
