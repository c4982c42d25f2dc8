"""The transformer's forward and the sentence embeddings of a model folder, as transformers and sentence-transformers give them.

Request: {"model": folder, "token_texts": [...], "forward_texts": [...], "max_seq_length": int}
Answer:  {"model_class": str, "input_ids": [[...]] (token_texts, truncated at max_seq_length, no padding),
          "batch_ids": [[...]] (forward_texts, padded), "attention_mask": [[...]],
          "hidden": [[[...]]] (last_hidden_state of forward_texts, padding rows included), "embeddings": [[...]]}
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    folder, length = request["model"], request["max_seq_length"]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    input_ids = tokenizer(request["token_texts"], truncation=True, max_length=length)["input_ids"] if request["token_texts"] else []
    batch = tokenizer(request["forward_texts"], truncation=True, max_length=length, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    st = SentenceTransformer(folder, device="cpu")
    st.max_seq_length = length
    embeddings = st.encode(request["forward_texts"], batch_size=16, convert_to_numpy=True)
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "model_class": type(model).__name__,
                "input_ids": input_ids,
                "batch_ids": batch["input_ids"].tolist(),
                "attention_mask": batch["attention_mask"].tolist(),
                "hidden": hidden.tolist(),
                "embeddings": embeddings.tolist(),
            },
            f,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
