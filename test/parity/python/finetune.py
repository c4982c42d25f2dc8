"""The sentence-transformers side of the short fine-tune: SentenceTransformerTrainer with MultipleNegativesRankingLoss
on exactly the batches EmbedTune trained on (given in order, read sequentially), the same hyperparameters and no
dropout. Then InformationRetrievalEvaluator scores its model, EmbedTune's exported model and the untrained base on the
validation pairs (every validation passage is a candidate for every query).

Request: {"model", "output_dir", "ours": folder, "max_seq_length", "batches": [{"anchor": [...], "positive": [...]}],
          "learning_rate", "warmup_steps", "weight_decay", "max_grad_norm", "scale", "seed", "freeze_embeddings",
          "validation": [{"anchor", "positive"}]}
Answer:  {"ndcg_at_10": {"sentence_transformers", "embedtune", "base"}, "train_seconds", "steps", "final_loss"}
"""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments  # noqa: E402
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator  # noqa: E402
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss  # noqa: E402
from torch.utils.data import BatchSampler, SequentialSampler  # noqa: E402


class InOrderTrainer(SentenceTransformerTrainer):
    """Reads the training rows in the order given: they are EmbedTune's batches, one after another."""

    def get_batch_sampler(self, dataset, batch_size, drop_last, valid_label_columns=None, generator=None, seed=0):
        return BatchSampler(SequentialSampler(dataset), batch_size=batch_size, drop_last=False)


def ndcg_at_10(model, validation) -> float:
    passages = sorted({row["positive"] for row in validation})
    corpus = {f"d{i}": text for i, text in enumerate(passages)}
    ids = {text: f"d{i}" for i, text in enumerate(passages)}
    queries = {f"q{i}": row["anchor"] for i, row in enumerate(validation)}
    relevant = {f"q{i}": {ids[row["positive"]]} for i, row in enumerate(validation)}
    evaluator = InformationRetrievalEvaluator(queries, corpus, relevant, name="validation", ndcg_at_k=[10], show_progress_bar=False)
    results = evaluator(model)
    return next(value for key, value in results.items() if key.endswith("cosine_ndcg@10"))


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    batches = request["batches"]
    batch_size = len(batches[0]["anchor"])
    assert all(len(batch["anchor"]) == batch_size for batch in batches), "every batch is full, so batch_size splits the rows back into them"
    rows = {"anchor": [t for b in batches for t in b["anchor"]], "positive": [t for b in batches for t in b["positive"]]}

    model = SentenceTransformer(request["model"], device="cpu")
    model.max_seq_length = request["max_seq_length"]
    # No dropout, as the EmbedTune run (training.dropout: 0).
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    if request.get("freeze_embeddings"):
        for param in model[0].auto_model.embeddings.parameters():
            param.requires_grad_(False)
    base_ndcg = ndcg_at_10(model, request["validation"])

    args = SentenceTransformerTrainingArguments(
        output_dir=request["output_dir"],
        num_train_epochs=1,
        per_device_train_batch_size=batch_size,
        learning_rate=request["learning_rate"],
        warmup_steps=request["warmup_steps"],
        lr_scheduler_type="linear",
        weight_decay=request["weight_decay"],
        max_grad_norm=request["max_grad_norm"],
        seed=request["seed"],
        save_strategy="no",
        eval_strategy="no",
        logging_steps=10,
        report_to="none",
        use_cpu=True,
        dataloader_drop_last=False,
        disable_tqdm=True,
    )
    trainer = InOrderTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict(rows),
        loss=MultipleNegativesRankingLoss(model, scale=request["scale"]),
    )
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    model.eval()
    ours = SentenceTransformer(request["ours"], device="cpu")
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "ndcg_at_10": {
                    "sentence_transformers": ndcg_at_10(model, request["validation"]),
                    "embedtune": ndcg_at_10(ours, request["validation"]),
                    "base": base_ndcg,
                },
                "train_seconds": seconds,
                "steps": trainer.state.global_step,
                "final_loss": losses[-1] if losses else None,
            },
            f,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
