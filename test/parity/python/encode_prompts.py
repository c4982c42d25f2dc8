"""Loads an exported folder and encodes with its saved prompts, as a user of encode_query/encode_document would.

Request: {"model": folder, "texts": [...]}
Answer:  {"prompts": {...}, "default_prompt_name": str | null, "query": [[...]], "document": [[...]], "plain": [[...]]}
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

from sentence_transformers import SentenceTransformer  # noqa: E402


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    model = SentenceTransformer(request["model"], device="cpu")
    texts = request["texts"]
    answer = {
        "prompts": model.prompts,
        "default_prompt_name": model.default_prompt_name,
        "query": model.encode_query(texts, convert_to_numpy=True).tolist(),
        "document": model.encode_document(texts, convert_to_numpy=True).tolist(),
        "plain": model.encode(texts, convert_to_numpy=True).tolist(),
    }
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump(answer, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
