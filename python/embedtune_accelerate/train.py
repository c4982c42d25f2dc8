"""
Entry point of the accelerate engine, started on every process by
`accelerate launch ... -m embedtune_accelerate.train --plan <run>/accelerate/launch.json`.

It maps the resolved EmbedTune config onto SentenceTransformerTrainer and SentenceTransformerTrainingArguments; the
launch plan's config is exactly the run's config.resolved.yaml, and the rows are the ones the CLI's loader prepared.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import traceback

from .launch_env import LaunchRank, device_shortfall, launch_rank, world_mismatch
from .launch_plan import LaunchPlan, read_launch_plan
from .run_folder import CHECKPOINT_PREFIX, CHECKPOINTS_DIR, EXPORTED_MODEL_DIR
from .stop_signal import StopSignal, watch_supervisor

SCHEDULERS = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}
# Progress events are the Trainer's log steps; each one gathers the loss from every process, so a long run logs
# about this many times rather than every step.
PROGRESS_EVENTS_PER_RUN = 400


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="embedtune_accelerate.train", description=__doc__)
    parser.add_argument("--plan", required=True, help="the launch.json that embedtune train wrote into the run folder")
    options = parser.parse_args(argv)
    plan = read_launch_plan(options.plan)

    stop = StopSignal()
    stop.install()
    watch_supervisor(plan.supervisor_pid)
    return run(plan, stop)


def run(plan: LaunchPlan, stop: StopSignal) -> int:
    if plan.config["task"] == "image-classification":
        # transformers' Trainer with AutoModelForImageClassification, in its own module; the run folder is the same.
        from .image_classification import run_image_classification

        return run_image_classification(plan, stop)
    # Imported here, after the signal handlers are in place: importing torch and transformers takes seconds.
    import torch
    import transformers
    import transformers.trainer as hf_trainer
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    from transformers.trainer_callback import PrinterCallback

    from .event_log import EventLog
    from .metrics_evaluator import ConfiguredMetricsEvaluator
    from .model_setup import apply_strategy, build_model, has_lora, load_checkpoint_weights, merge_lora
    from .rank_trace import RankTrace
    from .run_callback import EmbedTuneRunCallback, PrimaryMetricEarlyStopping, RankCounter
    from .prompts_and_matryoshka import embedding_dimension, evaluated_dims, role_prompts, trainer_prompts, with_matryoshka
    from .training_data import IN_BATCH_NEGATIVE_LOSSES, build_loss, dataset_columns, read_rows, to_dataset

    transformers.logging.set_verbosity_warning()
    # The run folder keeps checkpoints as checkpoints/step-N, the layout the editor's checkpoint panel and
    # `embedtune train --resume` read; the Trainer names its folders after this prefix.
    # The Trainer adds the "-".
    hf_trainer.PREFIX_CHECKPOINT_DIR = CHECKPOINT_PREFIX.rstrip("-")

    config = plan.config
    training = config["training"]
    evaluation = config["evaluation"]
    checkpoints = config["checkpoints"]
    engine = config["engine"]
    rows = read_rows(plan.data["train"])
    validation_rows = read_rows(plan.data["validation"]) if plan.data.get("validation") else []
    launched = launch_rank()
    use_cpu = bool(engine["cpu"]) or os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes")
    shortfall = device_shortfall(launched, torch.cuda.device_count() if torch.cuda.is_available() else 0, use_cpu, _other_accelerator(torch))
    if shortfall is not None:
        return _fail_before_training(plan, launched, shortfall)
    args = SentenceTransformerTrainingArguments(
        output_dir=os.path.join(plan.run_dir, CHECKPOINTS_DIR),
        num_train_epochs=training["epochs"],
        per_device_train_batch_size=training["batch_size"],
        per_device_eval_batch_size=training["batch_size"],
        gradient_accumulation_steps=training["gradient_accumulation_steps"],
        learning_rate=training["learning_rate"],
        weight_decay=training["weight_decay"],
        max_grad_norm=training["max_grad_norm"],
        # auto is Hugging Face's default here (off): PyTorch frees activations during the backward pass, tfjs does not.
        gradient_checkpointing=training["gradient_checkpointing"] is True,
        # Below 1 a fraction of all optimizer steps (rounded up), otherwise a step count: the tfjs engine's rule.
        warmup_steps=training["warmup"],
        lr_scheduler_type=SCHEDULERS[training["scheduler"]],
        seed=training["seed"],
        data_seed=training["seed"],
        fp16=training["mixed_precision"] == "fp16",
        bf16=training["mixed_precision"] == "bf16",
        use_cpu=bool(engine["cpu"]),
        eval_strategy=_interval_strategy(evaluation["every"]) if plan.evaluation_on else "no",
        eval_steps=evaluation["every"] if plan.evaluation_on and isinstance(evaluation["every"], int) else None,
        eval_on_start=plan.evaluation_on and plan.resume_from is None,
        save_strategy=_interval_strategy(checkpoints["every"]),
        save_steps=checkpoints["every"] if isinstance(checkpoints["every"], int) else None,
        # Rotation is the run callback's: the newest checkpoints.keep plus the best, as the tfjs engine keeps them.
        save_total_limit=None,
        metric_for_best_model=evaluation["primary"] if plan.early_stopping_on else None,
        greater_is_better=config["early_stopping"]["mode"] == "max",
        logging_strategy="steps",
        logging_steps=_logging_steps(len(rows), training, launched.world_size),
        batch_sampler=BatchSamplers.NO_DUPLICATES if config["loss"]["type"] in IN_BATCH_NEGATIVE_LOSSES else BatchSamplers.BATCH_SAMPLER,
        report_to="none",
        disable_tqdm=True,
        # model.prompts by data column (the roles), put in front of each text as the tfjs engine's promptedBatch does.
        prompts=trainer_prompts(config["model"], dataset_columns(plan.data["kind"], rows)),
        # sentence-transformers forces this under DDP (an uneven last batch can hang); set here so it is said once,
        # by the CLI, which warns how many rows each epoch leaves out.
        dataloader_drop_last=launched.world_size > 1,
    )
    mismatch = world_mismatch(launched, args.process_index, args.world_size, args.device.type)
    if mismatch is not None:
        return _fail_before_training(plan, launched, mismatch)
    # The launcher's rank decides, not only transformers': a process that is not global rank 0 never writes events.
    is_main = launched.is_main and args.process_index == 0
    events = EventLog(plan.events_path, plan.run_id, mirror_stdout=plan.events_to_stdout) if is_main else None
    started = time.time()
    callback: EmbedTuneRunCallback | None = None
    try:
        transformers.set_seed(training["seed"])
        model = build_model(plan)
        apply_strategy(model, config["strategy"])
        loss = with_matryoshka(model, build_loss(model, config["loss"]), config["loss"])
        counter = RankCounter()
        loss.register_forward_pre_hook(counter.hook)
        evaluator = None
        if plan.evaluation_on:
            evaluator = ConfiguredMetricsEvaluator(plan.data["kind"], validation_rows, evaluation["metrics"], evaluation["primary"],
                                                   training["batch_size"], config["early_stopping"]["mode"] == "max",
                                                   prompts=role_prompts(config["model"]),
                                                   matryoshka_dims=evaluated_dims(config["loss"], embedding_dimension(model)))
        callback = EmbedTuneRunCallback(plan, events, stop, counter, args.world_size, args.process_index, args.device)
        callbacks = [callback]
        if plan.early_stopping_on:
            callbacks.append(PrimaryMetricEarlyStopping(callback, config["early_stopping"]["patience"], config["early_stopping"]["min_delta"]))
        class EmbedTuneTrainer(SentenceTransformerTrainer):
            def _load_from_checkpoint(self, checkpoint_path: str, model=None) -> None:
                # sentence-transformers reloads a checkpoint as a fresh model, which loses injected LoRA layers;
                # this loads the saved tensors into the model being trained, LoRA or not.
                load_checkpoint_weights(self.model, checkpoint_path)

        trainer = EmbedTuneTrainer(
            model=model,
            args=args,
            train_dataset=to_dataset(plan.data["kind"], rows),
            loss=loss,
            evaluator=evaluator,
            callbacks=callbacks,
        )
        # The run callback reports progress; the Trainer's own printing of every log dict would repeat it.
        trainer.remove_callback(PrinterCallback)
        trace = RankTrace.from_environment(plan.run_dir, launched.rank)
        if trace is not None:
            trainer.data_collator = trace.wrap_collator(trainer.data_collator)
            trainer.add_callback(trace)
        trainer.train(resume_from_checkpoint=plan.resume_from)
        reason = "stopped" if callback.stopping else "early_stopped" if callback.early_stopped else "completed"
        if is_main and events is not None:
            if reason != "stopped":
                export_model(plan, trainer, callback, events, load_checkpoint_weights, merge_lora if has_lora(trainer.model) else None)
            not_beaten = callback.tracker.baseline_not_beaten(callback.primary, (callback.baseline or {}).get(callback.primary))
            if not_beaten is not None:
                events.write("baseline_not_beaten", **not_beaten)
            events.write("run_finished", reason=reason, step=int(trainer.state.global_step), best_checkpoint=callback.best_pointer(),
                         best_metric=callback.best_metric(), duration_seconds=callback.elapsed(), ranks=callback.ranks)
            callback.log_line(f"run {reason} after {trainer.state.global_step} steps on {args.world_size} process(es)")
            events.close()
            _remove_if_empty(os.path.join(plan.run_dir, CHECKPOINTS_DIR, "eval"))
        return 0
    except BaseException as error:
        if is_main and events is not None and not isinstance(error, KeyboardInterrupt):
            events.write("error", message=f"{type(error).__name__}: {error}", where={"phase": "training"}, stack=traceback.format_exc())
            step = 0
            try:
                step = int(trainer.state.global_step)  # type: ignore[possibly-undefined]
            except Exception:
                pass
            events.write("run_finished", reason="failed", step=step, best_checkpoint=callback.best_pointer() if callback else None,
                         best_metric=callback.best_metric() if callback else None,
                         duration_seconds=callback.elapsed() if callback else time.time() - started)
            events.close()
        raise


def _fail_before_training(plan: LaunchPlan, launched: LaunchRank, message: str) -> int:
    """
    Ends every process of a launch whose processes do not form the world it asked for, before any of them trains.
    Only global rank 0 writes the error and the one failed run_finished. The first process of every machine also
    prints the reason, which may be this machine's own (too few GPUs on a worker machine, whose CLI has no events).
    """
    if launched.is_main:
        from .event_log import EventLog

        events = EventLog(plan.events_path, plan.run_id, mirror_stdout=plan.events_to_stdout)
        events.write("error", message=message, where={"phase": "setup"})
        events.write("run_finished", reason="failed", step=0, best_checkpoint=None, best_metric=None, duration_seconds=0.0)
        events.close()
    if launched.is_main or launched.local_rank == 0:
        sys.stderr.write(f"embedtune_accelerate rank {launched.rank}: {message}\n")
    else:
        sys.stderr.write(f"embedtune_accelerate rank {launched.rank}: not training; the first process of this machine says why.\n")
    sys.stderr.flush()
    return 1


def _other_accelerator(torch) -> bool:
    """An Apple, Intel or Ascend device: processes there are not counted in CUDA GPUs."""
    for name in ("mps", "xpu", "npu"):
        backend = getattr(torch.backends, name, None) if name == "mps" else getattr(torch, name, None)
        try:
            if backend is not None and backend.is_available():
                return True
        except Exception:
            pass
    return False


def export_model(plan: LaunchPlan, trainer, callback, events, load_weights, merge) -> None:
    """
    The best checkpoint (or the final weights) as a sentence-transformers folder in <run>/model, as the tfjs engine
    exports it: LoRA merged into the base weights, so that SentenceTransformer(path) loads it without PEFT.
    """
    target = os.path.join(plan.run_dir, EXPORTED_MODEL_DIR)
    best = callback.best_pointer()
    model = trainer.model
    if best:
        load_weights(model, os.path.join(plan.run_dir, best))
    if merge is not None:
        merge(model)
    from .prompts_and_matryoshka import save_prompts

    save_prompts(model, plan.config["model"])
    model.save(target)
    events.write("log", level="info", message=f"Exported {best or 'the final weights'} as a sentence-transformers model: {EXPORTED_MODEL_DIR}")
    callback.log_line(f"sentence-transformers model: {target}")


def _remove_if_empty(folder: str) -> None:
    """The evaluator's output folder, which stays empty because EmbedTune's metrics go to events.jsonl."""
    try:
        os.rmdir(folder)
    except OSError:
        pass


def _interval_strategy(every) -> str:
    return "epoch" if every == "epoch" else "steps"


def _logging_steps(rows: int, training: dict, world: int) -> int:
    # Under DDP each rank trains only full rounds of batches (src/shared/config/runPlan.ts, microBatchesPerProcess).
    batches_per_rank = rows // (training["batch_size"] * world) if world > 1 else math.ceil(rows / training["batch_size"])
    steps = math.ceil(batches_per_rank / training["gradient_accumulation_steps"]) * training["epochs"]
    return max(1, steps // PROGRESS_EVENTS_PER_RUN)


if __name__ == "__main__":
    sys.exit(main())
