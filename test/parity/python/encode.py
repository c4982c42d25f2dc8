"""Tokenizes and (optionally) encodes texts with SentenceTransformer(folder), as a user of the folder would.

Request: {"model": folder, "texts": [...], "embed": bool, "batch_size": int}
Answer:  {"input_ids": [[...]], "embeddings": [[...]] | null, "max_seq_length": int, "modules": [...],
          "encode_seconds": float}
"""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

from sentence_transformers import SentenceTransformer  # noqa: E402


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    model = SentenceTransformer(request["model"], device="cpu")
    texts = request["texts"]
    # Exactly what encode() feeds the model: the module's tokenizer, truncated at max_seq_length.
    input_ids = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
    embeddings = None
    seconds = 0.0
    if request.get("embed"):
        started = time.perf_counter()
        vectors = model.encode(texts, batch_size=request.get("batch_size", 32), convert_to_numpy=True)
        seconds = time.perf_counter() - started
        embeddings = vectors.tolist()
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "input_ids": input_ids,
                "embeddings": embeddings,
                "max_seq_length": model.max_seq_length,
                "modules": [type(module).__name__ for module in model],
                "encode_seconds": seconds,
            },
            f,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
