"""transformers' image-classification pipeline on a folder EmbedTune exported, for the ResNet parity test: PIL writes
small synthetic PNGs, `pipeline("image-classification", model=folder)` classifies them from their paths, and the
answer is every label's raw logit (function_to_apply="none", top_k=None).

Request: {"model": folder, "out": folder, "seed": int, "images": [{"name", "width", "height"}]}
Answer:  {"pipeline_class": str, "model_class": str, "images": [{"path": str, "logits": {label: float}}]}
"""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import pipeline  # noqa: E402


def main(request_path, answer_path):
    with open(request_path) as file:
        request = json.load(file)
    rng = np.random.default_rng(request["seed"])
    os.makedirs(request["out"], exist_ok=True)
    paths = []
    for spec in request["images"]:
        y, x = np.mgrid[0 : spec["height"], 0 : spec["width"]].astype(np.float64)
        base = np.stack([255 * x / spec["width"], 255 * y / spec["height"], 128 + 60 * np.sin(x / 5)], axis=-1)
        base += rng.normal(0, 30, size=base.shape)
        path = os.path.join(request["out"], f"{spec['name']}.png")
        Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB").save(path)
        paths.append(path)
    classify = pipeline("image-classification", model=request["model"], device="cpu")
    results = classify(paths, top_k=None, function_to_apply="none")
    images = [{"path": path, "logits": {entry["label"]: entry["score"] for entry in result}} for path, result in zip(paths, results)]
    answer = {"pipeline_class": type(classify).__name__, "model_class": type(classify.model).__name__, "images": images}
    with open(answer_path, "w") as file:
        json.dump(answer, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
