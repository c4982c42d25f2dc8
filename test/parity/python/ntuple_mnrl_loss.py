"""sentence-transformers' (Cached)MultipleNegativesRankingLoss on one batch of n-tuples, without dropout.

Request: {"model": folder, "cases": [{"loss": "mnrl"|"cached_mnrl", "scale": s, "mini_batch_size": k,
          "anchor": [...], "positive": [...], "negatives": [[column 1 ...], [column 2 ...], ...]}]}
Answer:  {"losses": [float, ...]}: each case's loss with the columns (anchor, positive, negative_1, ..., negative_n),
         as the trainer's collator feeds a dataset with those columns.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer import losses  # noqa: E402


def loss_for(model, case):
    if case["loss"] == "mnrl":
        return losses.MultipleNegativesRankingLoss(model, scale=case["scale"])
    return losses.CachedMultipleNegativesRankingLoss(model, scale=case["scale"], mini_batch_size=case["mini_batch_size"])


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    model = SentenceTransformer(request["model"], device="cpu")
    model.eval()
    results = []
    for case in request["cases"]:
        columns = [case["anchor"], case["positive"], *case["negatives"]]
        features = [model.preprocess(texts) for texts in columns]
        features = [{key: tensor for key, tensor in feature.items() if isinstance(tensor, torch.Tensor)} for feature in features]
        with torch.no_grad():
            results.append(float(loss_for(model, case)(features, torch.zeros(len(case["anchor"])))))
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump({"losses": results}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
