"""sentence-transformers' MatryoshkaLoss around each EmbedTune loss, on one fixed batch, without dropout.

Request: {"model": folder, "dims": [...], "weights": [...], "cases": [{"loss": name, "scale": s, "margin": m,
          "mini_batch_size": k, "anchor": [...], "positive": [...], "negative": [...]?, "scores": [...]?,
          "labels": [...]?}]}
Answer:  {"losses": [float, ...], "plain": [float, ...]}: the MatryoshkaLoss value of each case, and the base loss's.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer import losses  # noqa: E402


def base_loss(model, case):
    name = case["loss"]
    if name == "mnrl":
        return losses.MultipleNegativesRankingLoss(model, scale=case["scale"])
    if name == "cached_mnrl":
        return losses.CachedMultipleNegativesRankingLoss(model, scale=case["scale"], mini_batch_size=case["mini_batch_size"])
    if name == "cosent":
        return losses.CoSENTLoss(model, scale=case["scale"])
    if name == "cosine":
        return losses.CosineSimilarityLoss(model)
    if name == "contrastive":
        return losses.ContrastiveLoss(model, distance_metric=losses.SiameseDistanceMetric.COSINE_DISTANCE, margin=case["margin"])
    if name == "triplet":
        return losses.TripletLoss(model, distance_metric=losses.TripletDistanceMetric.EUCLIDEAN, triplet_margin=case["margin"])
    raise ValueError(name)


def value(loss, model, case):
    columns = [case["anchor"], case["positive"]] + ([case["negative"]] if case.get("negative") else [])
    # As the trainer's collator prepares each column: the model's own preprocessing, tensors only.
    features = [model.preprocess(texts) for texts in columns]
    features = [{key: tensor.to(model.device) for key, tensor in feature.items() if isinstance(tensor, torch.Tensor)} for feature in features]
    if case.get("scores") is not None:
        labels = torch.tensor(case["scores"], dtype=torch.float32)
    elif case.get("labels") is not None:
        labels = torch.tensor(case["labels"], dtype=torch.float32)
    else:
        labels = torch.zeros(len(case["anchor"]))
    with torch.no_grad():
        return float(loss(features, labels))


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    model = SentenceTransformer(request["model"], device="cpu")
    model.eval()
    results, plain = [], []
    for case in request["cases"]:
        results.append(value(losses.MatryoshkaLoss(model, base_loss(model, case), request["dims"], request["weights"]), model, case))
        plain.append(value(base_loss(model, case), model, case))
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump({"losses": results, "plain": plain}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
