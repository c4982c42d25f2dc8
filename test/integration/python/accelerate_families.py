"""Tiny random MPNet and DistilBERT for the accelerate engine's family test, and what a run made of them.

build FOLDER_OF_TOKENIZER OUT: writes OUT/mpnet and OUT/distilbert, each transformers' own model class from a small
config, saved with save_pretrained beside the tiny BERT's WordPiece tokenizer (a real file the test wrote), then
wrapped by sentence-transformers (mean pooling) and saved as the folder users would load.

inspect RUNS_JSON: for each {"base", "export", "checkpoint"} of the list, in one process (torch loads once), prints
JSON: which weights the export changed against the base (by Hugging Face name), the modules the checkpoint's LoRA
weights sit on, and the shape of what SentenceTransformer(export) encodes.
"""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer import modules  # noqa: E402
from transformers import AutoTokenizer, DistilBertConfig, DistilBertModel, MPNetConfig, MPNetModel  # noqa: E402


def build(tokenizer_folder: str, out: str) -> None:
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder)
    models = {
        "mpnet": MPNetModel(
            MPNetConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                        max_position_embeddings=130, pad_token_id=tokenizer.pad_token_id),
            add_pooling_layer=False,
        ),
        "distilbert": DistilBertModel(
            DistilBertConfig(vocab_size=len(tokenizer), dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=128,
                             pad_token_id=tokenizer.pad_token_id)
        ),
    }
    for family, model in models.items():
        folder = os.path.join(out, family)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        transformer = modules.Transformer(folder, max_seq_length=32)
        pooling = modules.Pooling(transformer.get_word_embedding_dimension(), pooling_mode="mean")
        SentenceTransformer(modules=[transformer, pooling], device="cpu").save(folder)


def transformer_weights(folder: str) -> dict:
    return load_file(os.path.join(folder, "model.safetensors"))


def inspect(base: str, export: str, checkpoint: str) -> dict:
    before = transformer_weights(base)
    after = transformer_weights(export)
    changed = sorted(name for name in before if name in after and not torch.equal(before[name], after[name]))
    unchanged = sorted(name for name in before if name in after and torch.equal(before[name], after[name]))
    saved = load_file(os.path.join(checkpoint, "model.safetensors"))
    lora_modules = sorted({name.split(".lora_A.")[0] for name in saved if ".lora_A." in name})
    vectors = SentenceTransformer(export, device="cpu").encode(["the river and the stone", "a bird at night"])
    return {
        "changed": changed,
        "unchanged": unchanged,
        "missing": sorted(set(before) - set(after)),
        "export_has_lora": any("lora_" in name for name in after),
        "lora_modules": lora_modules,
        "encoded": list(vectors.shape),
        "finite": bool(torch.isfinite(torch.tensor(vectors)).all()),
    }


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3])
    else:
        print(json.dumps([inspect(run["base"], run["export"], run["checkpoint"]) for run in json.loads(sys.argv[2])]))
