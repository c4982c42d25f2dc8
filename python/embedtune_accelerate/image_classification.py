"""
task: image-classification on the accelerate engine: transformers' Trainer with AutoModelForImageClassification,
writing the events, checkpoints and run folder that the tfjs engine writes (the run callback is the one text runs
use). train.py hands a launch plan whose task is image-classification to run_image_classification.

Checkpoints are the Trainer's (model.safetensors, config.json with id2label, preprocessor_config.json, optimizer and
scheduler state, trainer_state.json) under checkpoints/step-N; the export <run>/model is the best checkpoint's (or
the final) model as a folder that pipeline("image-classification") loads.
"""

from __future__ import annotations

import os
import time
import traceback
from typing import Any

from .launch_plan import LaunchPlan
from .stop_signal import StopSignal

MISCLASSIFIED_SHOWN = 12


def run_image_classification(plan: LaunchPlan, stop: StopSignal) -> int:
    import torch
    import transformers
    import transformers.trainer as hf_trainer
    from transformers import Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback

    from .event_log import EventLog
    from .image_data import Augment, ImageRows, check_images, crop_box_of, image_processor
    from .image_loss import ImageClassificationLoss
    from .image_model import apply_image_strategy, build_image_model, head_parameters
    from .launch_env import device_shortfall, launch_rank, world_mismatch
    from .run_callback import EmbedTuneRunCallback, PrimaryMetricEarlyStopping, RankCounter
    from .run_folder import CHECKPOINT_PREFIX, CHECKPOINTS_DIR
    from .train import _fail_before_training, _interval_strategy, _logging_steps, _other_accelerator, _remove_if_empty
    from .training_data import read_rows

    transformers.logging.set_verbosity_warning()
    hf_trainer.PREFIX_CHECKPOINT_DIR = CHECKPOINT_PREFIX.rstrip("-")
    config = plan.config
    training, evaluation, checkpoints, engine = config["training"], config["evaluation"], config["checkpoints"], config["engine"]
    rows = read_rows(plan.data["train"])
    validation_rows = read_rows(plan.data["validation"]) if plan.data.get("validation") else []
    launched = launch_rank()
    use_cpu = bool(engine["cpu"]) or os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes")
    shortfall = device_shortfall(launched, torch.cuda.device_count() if torch.cuda.is_available() else 0, use_cpu, _other_accelerator(torch))
    if shortfall is not None:
        return _fail_before_training(plan, launched, shortfall)
    args = TrainingArguments(
        output_dir=os.path.join(plan.run_dir, CHECKPOINTS_DIR),
        num_train_epochs=training["epochs"],
        per_device_train_batch_size=training["batch_size"],
        per_device_eval_batch_size=training["batch_size"],
        gradient_accumulation_steps=training["gradient_accumulation_steps"],
        learning_rate=training["learning_rate"],
        weight_decay=training["weight_decay"],
        max_grad_norm=training["max_grad_norm"],
        gradient_checkpointing=training["gradient_checkpointing"] is True,
        warmup_steps=training["warmup"],
        lr_scheduler_type={"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}[training["scheduler"]],
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
        save_total_limit=None,
        metric_for_best_model=evaluation["primary"] if plan.early_stopping_on else None,
        greater_is_better=config["early_stopping"]["mode"] == "max",
        logging_strategy="steps",
        logging_steps=_logging_steps(len(rows), training, launched.world_size),
        report_to="none",
        disable_tqdm=True,
        # The rows are this engine's own dataset of {pixel_values, labels}; nothing to drop.
        remove_unused_columns=False,
        label_names=["labels"],
        dataloader_drop_last=launched.world_size > 1,
        # Every trainable weight takes part in each forward pass (frozen ones need no gradient), so DDP need not search.
        ddp_find_unused_parameters=False,
    )
    mismatch = world_mismatch(launched, args.process_index, args.world_size, args.device.type)
    if mismatch is not None:
        return _fail_before_training(plan, launched, mismatch)
    is_main = launched.is_main and args.process_index == 0
    events = EventLog(plan.events_path, plan.run_id, mirror_stdout=plan.events_to_stdout) if is_main else None
    started = time.time()
    callback: EmbedTuneRunCallback | None = None
    trainer = None
    try:
        transformers.set_seed(training["seed"])
        image_settings = (config.get("preprocess") or {}).get("image")
        box = crop_box_of(image_settings)
        policy = config["data"]["on_bad_row"]
        rows, bad = check_images(rows, policy, "training")
        validation_rows, bad_validation = check_images(validation_rows, policy, "validation")
        plan.warnings.extend(bad + bad_validation)
        # Every label of the training and validation images, sorted, as the loader's ImageTrainingData.labels.
        labels = sorted({str(row["label"]) for row in [*rows, *validation_rows]})
        if len(labels) < 2:
            raise ValueError(f"image-classification needs at least 2 classes in the training data; it has {labels}.")
        processor = image_processor(plan.model["folder"], image_settings)
        model = build_image_model(plan.model["folder"], labels)
        apply_image_strategy(model, config["strategy"])
        augment_settings = (config.get("preprocess") or {}).get("augment") or {}
        train_set = ImageRows(rows, labels, processor, box, Augment.of(augment_settings), int(augment_settings.get("seed", training["seed"])))
        eval_set = ImageRows(validation_rows, labels, processor, box) if plan.evaluation_on and validation_rows else None
        loss = ImageClassificationLoss(config["loss"], labels, [str(row["label"]) for row in rows])
        counter = RankCounter()
        callback = EmbedTuneRunCallback(plan, events, stop, counter, args.world_size, args.process_index, args.device)
        details = ImageEvaluation(labels, eval_set, os.path.dirname(plan.config_path), callback)
        callbacks: list[Any] = [callback]
        if plan.early_stopping_on:
            callbacks.append(PrimaryMetricEarlyStopping(callback, config["early_stopping"]["patience"], config["early_stopping"]["min_delta"]))

        head = {id(parameter) for parameter in head_parameters(model)}
        head_scale = training["head_learning_rate"] / training["learning_rate"]
        if head_scale != 1:
            callback.log_line(f"task head learning rate: {training['head_learning_rate']} ({head_scale:.3g}× learning_rate)")

        class ImageTrainer(Trainer):
            # compute_loss returns the batch's mean: the Trainer divides it over the accumulated micro-batches.
            loss_is_scaled_for_ga = False

            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                outputs = model(pixel_values=inputs["pixel_values"])
                value = loss(outputs.logits, inputs["labels"])
                if model.training:
                    counter.batches += 1
                    counter.examples += int(inputs["labels"].shape[0])
                return (value, outputs) if return_outputs else value

            def create_optimizer(self, model=None):
                # training.head_learning_rate: the new head learns at its own peak rate under the same schedule, as in
                # the tfjs engine (AdamW's per-variable scale). Groups split by head; the Trainer's decay rule kept.
                if self.optimizer is not None or head_scale == 1:
                    return super().create_optimizer(model)
                optimizer = super().create_optimizer(model)
                groups = []
                for group in optimizer.param_groups:
                    for factor, params in ((1.0, [p for p in group["params"] if id(p) not in head]), (head_scale, [p for p in group["params"] if id(p) in head])):
                        if params:
                            groups.append({**group, "params": params, "lr": group["lr"] * factor})
                # Regrouped before its first step, so there is no state to move.
                optimizer.param_groups.clear()
                for group in groups:
                    optimizer.add_param_group(group)
                return optimizer

            def _run_epoch(self, *positional, **named):
                # The augmentation of a row is drawn from (seed, epoch, row index), whichever batch it lands in.
                train_set.epoch = int(named.get("epoch", train_set.epoch))
                return super()._run_epoch(*positional, **named)

            def get_eval_dataloader(self, eval_dataset=None):
                # Every validation image is scored, also under DDP (accelerate drops the padding it adds).
                drop_last = self.args.dataloader_drop_last
                self.args.dataloader_drop_last = False
                try:
                    return super().get_eval_dataloader(eval_dataset)
                finally:
                    self.args.dataloader_drop_last = drop_last

        trainer = ImageTrainer(model=model, args=args, train_dataset=train_set, eval_dataset=eval_set, processing_class=processor,
                               compute_metrics=details, callbacks=callbacks)
        trainer.remove_callback(PrinterCallback)
        trainer.train(resume_from_checkpoint=plan.resume_from)
        reason = "stopped" if callback.stopping else "early_stopped" if callback.early_stopped else "completed"
        if is_main and events is not None:
            if reason != "stopped":
                export_image_model(plan, trainer, processor, callback, events)
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
            step = int(trainer.state.global_step) if trainer is not None else 0
            events.write("run_finished", reason="failed", step=step, best_checkpoint=callback.best_pointer() if callback else None,
                         best_metric=callback.best_metric() if callback else None,
                         duration_seconds=callback.elapsed() if callback else time.time() - started)
            events.close()
        raise


class ImageEvaluation:
    """
    The Trainer's compute_metrics: the configured metrics from softmax probabilities (image_metrics), and for the
    eval event the confusion matrix, per-class scores with average precision, and the most confident mistakes with
    thumbnails. The Trainer gathers the predictions of every process in dataset order, so row i is validation row i.
    """

    def __init__(self, labels: list[str], images: Any, config_dir: str, callback: Any) -> None:
        self.labels = labels
        self.images = images
        self.rows = images.rows if images is not None else []
        self.config_dir = config_dir
        self.callback = callback

    def __call__(self, prediction: Any) -> dict[str, float]:
        import numpy as np

        from .image_metrics import as_trainer_metrics, scored_classification_report, softmax

        logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        gold = np.asarray(prediction.label_ids)
        if len(gold) != len(self.rows):
            raise RuntimeError(f"The evaluation scored {len(gold)} images, not the {len(self.rows)} validation rows.")
        probabilities = softmax(np.asarray(logits, dtype=np.float64))
        report = scored_classification_report(self.labels, gold, probabilities)
        if self.callback.is_main:
            self.callback.eval_details = {
                "confusion_matrix": report["confusion_matrix"],
                "per_class": report["per_class"],
                "misclassified": self.misclassified(gold, report["predicted"], probabilities),
            }
        return as_trainer_metrics(report["metrics"])

    def misclassified(self, gold: Any, predicted: Any, probabilities: Any) -> list[dict[str, Any]]:
        from .image_data import BadImage, thumbnail

        wrong = [i for i in range(len(gold)) if gold[i] != predicted[i]]
        wrong.sort(key=lambda i: -float(probabilities[i, predicted[i]]))
        shown = []
        for i in wrong[:MISCLASSIFIED_SHOWN]:
            path = self.rows[i]["image"]
            try:
                picture = thumbnail(self.images, i)
            except BadImage:
                continue  # Checked at the start; a file changed since then is left out of the grid.
            shown.append({
                "file": os.path.relpath(path, self.config_dir).replace(os.sep, "/"),
                "label": self.labels[int(gold[i])],
                "predicted": self.labels[int(predicted[i])],
                "confidence": float(probabilities[i, predicted[i]]),
                "thumbnail": picture,
            })
        return shown


def export_image_model(plan: LaunchPlan, trainer: Any, processor: Any, callback: Any, events: Any) -> None:
    """The best checkpoint (or the final weights) as a transformers folder in <run>/model, with its preprocessor_config.json."""
    from safetensors.torch import load_file

    from .run_folder import EXPORTED_MODEL_DIR

    target = os.path.join(plan.run_dir, EXPORTED_MODEL_DIR)
    best = callback.best_pointer()
    model = trainer.accelerator.unwrap_model(trainer.model)
    if best:
        model.load_state_dict(load_file(os.path.join(plan.run_dir, best, "model.safetensors")), strict=True)
    model.save_pretrained(target)
    processor.save_pretrained(target)
    events.write("log", level="info", message=f"Exported {best or 'the final weights'} as a transformers image-classification model: {EXPORTED_MODEL_DIR}")
    callback.log_line(f"transformers image-classification model: {target}")
