"""Writes a smaller sentence-transformers model: the first layers of a real one (all-MiniLM-L6-v2), with its
embeddings, tokenizer and pooling. Pretrained, so that a short fine-tune starts from a useful model, yet a few times
faster to train than the whole one.

Request: {"source": folder, "target": folder, "layers": int}
Answer:  {"layers": int, "parameters": int}
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

from sentence_transformers import SentenceTransformer  # noqa: E402


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    model = SentenceTransformer(request["source"], device="cpu")
    bert = model[0].auto_model
    keep = request["layers"]
    bert.encoder.layer = bert.encoder.layer[:keep]
    bert.config.num_hidden_layers = keep
    model.save(request["target"])
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump({"layers": keep, "parameters": sum(p.numel() for p in bert.parameters())}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
