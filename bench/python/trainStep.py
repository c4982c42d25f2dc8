"""PyTorch's side of bench/trainThroughput.ts: one process, one model shape, one mode, timed step by step.

What a sentence-transformers MNRL fine-tune does per optimizer step, written out so that nothing but the step is
timed: transformers' BertModel with random weights (train mode, so dropout as in the config), mean pooling over the
attention mask, MultipleNegativesRankingLoss (scale 20, cross-entropy over the anchor x positive cosine matrix),
backward, clip_grad_norm_(1.0), torch.optim.AdamW with Hugging Face Trainer's weight-decay groups (no decay on biases
and LayerNorm weights). Anchors and positives go through the encoder as one batch of 2 x pairs sequences, as
EmbedTune does. Token batches are built directly at exactly `seq` tokens ([CLS] ... [SEP], no padding), so no time is
spent tokenizing on either side.

Mode "encode" times inference instead: eval mode, torch.inference_mode(), batch of `batch` sequences, mean pooling and
L2 normalization, as SentenceTransformer.encode does for all-MiniLM-L6-v2.

Usage: python trainStep.py '{"mode": "train", "layers": 6, "hidden": 384, "heads": 12, "intermediate": 1536,
        "vocab": 30522, "seq": 64, "batch": 32, "warmup": 2, "steps": 5, "threads": 2}'
Prints one JSON object on the last line of stdout.
"""

import json
import resource
import sys
import time


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main() -> None:
    spec = json.loads(sys.argv[1])
    started = time.perf_counter()
    import torch
    import transformers
    from transformers import BertConfig, BertModel, MPNetConfig, MPNetModel

    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec.get("seed", 0))
    rss_after_import = current_rss_mib()

    if spec["mode"] == "matmul":
        print(json.dumps(time_matmuls(torch, spec, started, rss_after_import)))
        return

    mpnet = spec.get("family") == "mpnet"
    shape = dict(
        vocab_size=spec["vocab"],
        hidden_size=spec["hidden"],
        num_hidden_layers=spec["layers"],
        num_attention_heads=spec["heads"],
        intermediate_size=spec["intermediate"],
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )
    # sentence-transformers' Transformer module loads AutoModel, whose pooler it never uses; leaving it out keeps the
    # gradient work identical to EmbedTune's (which has no pooler), and costs PyTorch nothing it would otherwise spend.
    if mpnet:
        # all-mpnet-base-v2's architecture: 514 positions after padding id 1, 32 relative-position buckets, no token types.
        model = MPNetModel(MPNetConfig(max_position_embeddings=514, pad_token_id=1, relative_attention_num_buckets=32, **shape), add_pooling_layer=False)
    else:
        model = BertModel(BertConfig(max_position_embeddings=512, **shape), add_pooling_layer=False)
    attention = getattr(model.config, "_attn_implementation", "eager")

    batch, seq = spec["batch"], spec["seq"]
    rows = 2 * batch if spec["mode"] == "train" else batch
    generator = torch.Generator().manual_seed(spec.get("seed", 0))
    ids = torch.randint(1000, spec["vocab"], (rows, seq), generator=generator)
    ids[:, 0] = 101
    ids[:, -1] = 102
    mask = torch.ones(rows, seq, dtype=torch.long)
    # MPNet takes no token type ids.
    types = {} if mpnet else {"token_type_ids": torch.zeros(rows, seq, dtype=torch.long)}

    def mean_pool(tokens: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(tokens.dtype)
        return (tokens * m).sum(1) / m.sum(1).clamp(min=1e-9)

    times = []
    losses = []
    if spec["mode"] == "train":
        model.train()
        decay = [p for n, p in model.named_parameters() if not (n.endswith(".bias") or "LayerNorm" in n)]
        no_decay = [p for n, p in model.named_parameters() if n.endswith(".bias") or "LayerNorm" in n]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=2e-5, betas=(0.9, 0.999), eps=1e-8
        )
        labels = torch.arange(batch)
        for i in range(spec["warmup"] + spec["steps"]):
            t0 = time.perf_counter()
            tokens = model(input_ids=ids, attention_mask=mask, **types).last_hidden_state
            embeddings = mean_pool(tokens)
            anchors, positives = embeddings[:batch], embeddings[batch:]
            scores = torch.nn.functional.normalize(anchors, dim=-1) @ torch.nn.functional.normalize(positives, dim=-1).T * 20.0
            loss = torch.nn.functional.cross_entropy(scores, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
            dt = time.perf_counter() - t0
            if i >= spec["warmup"]:
                times.append(dt)
    else:
        model.eval()
        with torch.inference_mode():
            for i in range(spec["warmup"] + spec["steps"]):
                t0 = time.perf_counter()
                tokens = model(input_ids=ids, attention_mask=mask, **types).last_hidden_state
                vectors = torch.nn.functional.normalize(mean_pool(tokens), dim=-1)
                vectors.numpy().sum()
                dt = time.perf_counter() - t0
                if i >= spec["warmup"]:
                    times.append(dt)

    print(
        json.dumps(
            {
                "peer": "pytorch",
                "mode": spec["mode"],
                "step_seconds": times,
                "losses": losses,
                "peak_rss_mib": peak_rss_mib(),
                "rss_after_import_mib": rss_after_import,
                "wall_seconds": time.perf_counter() - started,
                "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
                "threads": torch.get_num_threads(),
                "attention": attention,
                "blas": blas_of(torch),
                "parameters": sum(p.numel() for p in model.parameters()),
            }
        )
    )


def layer_products(spec: dict) -> list:
    """The (m, k, n) of one encoder layer's dense products over a training step's tokens: Q, K, V, O, FFN in, FFN out."""
    tokens = 2 * spec["batch"] * spec["seq"]
    h, f = spec["hidden"], spec["intermediate"]
    return [(tokens, h, h)] * 4 + [(tokens, h, f), (tokens, f, h)]


def time_matmuls(torch, spec: dict, started: float, rss_after_import: float) -> dict:
    """Mode "matmul": only one layer's dense products, A @ B in float32, as the ceiling a step's matrix work sets."""
    generator = torch.Generator().manual_seed(spec.get("seed", 0))
    pairs = [(torch.randn(m, k, generator=generator), torch.randn(k, n, generator=generator)) for m, k, n in layer_products(spec)]
    times = []
    for i in range(spec["warmup"] + spec["steps"]):
        t0 = time.perf_counter()
        for a, b in pairs:
            (a @ b).sum().item()
        dt = time.perf_counter() - t0
        if i >= spec["warmup"]:
            times.append(dt)
    return {
        "peer": "pytorch",
        "mode": "matmul",
        "step_seconds": times,
        "losses": [],
        "peak_rss_mib": peak_rss_mib(),
        "rss_after_import_mib": rss_after_import,
        "wall_seconds": time.perf_counter() - started,
        "versions": {"torch": torch.__version__},
        "threads": torch.get_num_threads(),
        "blas": blas_of(torch),
        "parameters": 0,
    }


def blas_of(torch_module) -> str:
    shown = torch_module.__config__.show()
    if "Math Kernel Library" in shown:
        return "MKL"
    if "BLAS_INFO=open" in shown:
        return "OpenBLAS"
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("internal_api") == "openblas":
                return f"OpenBLAS {pool.get('version')} ({pool.get('architecture')})"
    except ImportError:
        pass
    return "system BLAS (BLAS_INFO=generic)"


if __name__ == "__main__":
    main()
