"""Mines hard negatives with sentence-transformers' own mine_hard_negatives, as a user of the library would.

Request: {"model": folder, "anchors": [...], "positives": [...], "settings": {keyword arguments of mine_hard_negatives}}
Answer:  {"rows": [{"anchor": ..., "positive": ..., "negatives": [...], "scores": [positive, negative...]}],
          "seconds": float}
Each answer row is one (anchor, positive, negative) triplet, or one n-tuple with all its negatives, as
output_format says; scores come from output_scores=True.
"""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

from datasets import Dataset  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.util import mine_hard_negatives  # noqa: E402


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    model = SentenceTransformer(request["model"], device="cpu")
    dataset = Dataset.from_dict({"anchor": request["anchors"], "positive": request["positives"]})
    started = time.perf_counter()
    mined = mine_hard_negatives(
        dataset, model, output_scores=True, verbose=False, batch_size=32, **request["settings"]
    )
    seconds = time.perf_counter() - started
    negative_columns = [name for name in mined.column_names if name.startswith("negative")]
    rows = [
        {
            "anchor": row["anchor"],
            "positive": row["positive"],
            "negatives": [row[name] for name in negative_columns],
            "scores": row["scores"],
        }
        for row in mined
    ]
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump({"rows": rows, "seconds": seconds}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
