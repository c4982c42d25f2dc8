"""Applies an adapter folder in PEFT's layout to its base model with peft, as a user would, and embeds texts with it
(mean pooling over the attention mask, then L2 normalization, as the base model's sentence-transformers modules do).

Request: {"base": folder, "adapter": folder, "texts": [...], "max_seq_length": int}
Answer:  {"embeddings": [[...]], "base_embeddings": [[...]], "peft_type": str, "lora_modules": int}
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from peft import PeftConfig, PeftModel  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402


def embed(model, tokenizer, texts, max_length):
    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        tokens = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1).tolist()


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    tokenizer = AutoTokenizer.from_pretrained(request["base"])
    base = AutoModel.from_pretrained(request["base"]).eval()
    base_embeddings = embed(base, tokenizer, request["texts"], request["max_seq_length"])
    config = PeftConfig.from_pretrained(request["adapter"])
    model = PeftModel.from_pretrained(base, request["adapter"]).eval()
    lora_modules = sum(1 for _, module in model.named_modules() if hasattr(module, "lora_A") and len(module.lora_A) > 0)
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "embeddings": embed(model, tokenizer, request["texts"], request["max_seq_length"]),
                "base_embeddings": base_embeddings,
                "peft_type": str(config.peft_type.value if hasattr(config.peft_type, "value") else config.peft_type),
                "lora_modules": lora_modules,
            },
            f,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
