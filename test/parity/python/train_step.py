"""The PyTorch reference for EmbedTune's training steps: the same batches through SentenceTransformer, sentence-transformers'
MultipleNegativesRankingLoss, torch.nn.utils.clip_grad_norm_, torch.optim.AdamW (weight decay on every weight but biases
and LayerNorms, as Hugging Face's Trainer groups them) and transformers' linear schedule, with dropout off.

Strategies: full; freeze (embeddings and the first layers get no update); lora through PEFT's LoraConfig and
get_peft_model; adapter through the hand-written Houlsby bottleneck below (PEFT has no such adapter).

It can start from an EmbedTune checkpoint (weights and AdamW moments, converted from EmbedTune's input-major layout),
which is how LoRA and adapter runs get EmbedTune's random initial A and down projections. After each step it compares
every tensor of the matching EmbedTune checkpoint with its own.

Request: {"model", "max_seq_length", "scale", "learning_rate", "warmup_steps", "total_steps", "weight_decay",
          "max_grad_norm", "strategy": {"type", ...}, "start": {"checkpoint", "step"} | null,
          "steps": [{"micro_batches": [{"anchor": [...], "positive": [...]}], "compare": checkpoint | null}]}
Answer:  {"steps": [{"loss", "lr", "grad_norm", "compared": {name: {"max_abs_diff", "max_abs_update", "size",
          "m_largest", "m_max_abs_diff", "v_largest", "v_max_abs_diff", "zero_gradient_elements",
          "zero_gradient_max_abs_diff", "largest_weight"}}}]}
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss  # noqa: E402
from transformers import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup  # noqa: E402

SCHEDULES = {"linear": get_linear_schedule_with_warmup, "cosine": get_cosine_schedule_with_warmup}


class HoulsbyAdapter(torch.nn.Module):
    """Houlsby et al. (2019): x + up(act(down(x))), applied to a sublayer's output before its residual LayerNorm."""

    def __init__(self, hidden: int, size: int, act: str):
        super().__init__()
        self.down = torch.nn.Linear(hidden, size)
        self.up = torch.nn.Linear(size, hidden)
        self.act = {"gelu": torch.nn.GELU(), "relu": torch.nn.ReLU(), "gelu_new": torch.nn.GELU(approximate="tanh")}[act]

    def forward(self, x):
        return x + self.up(self.act(self.down(x)))


def is_layer_norm(name: str) -> bool:
    """LayerNorm weights in every family's names (DistilBERT's are sa_layer_norm and output_layer_norm)."""
    return "LayerNorm" in name or "layer_norm" in name


def embedtune_layout(name: str) -> bool:
    """Whether EmbedTune stores this weight input-major ([in, out]), the transpose of torch's Linear.weight."""
    # MPNet's relative_attention_bias is an embedding table, stored as torch stores it.
    return name.endswith(".weight") and not is_layer_norm(name) and not name.startswith("embeddings.") and "relative_attention_bias" not in name


# Modules PEFT wrapped with LoRA, by name within the BERT model; their own weights move to `<name>.base_layer`.
LORA_WRAPPED: set[str] = set()


def torch_name(name: str, strategy: str) -> str:
    """The torch parameter that EmbedTune's weight `name` corresponds to."""
    if strategy == "lora":
        if ".lora_A." in name or ".lora_B." in name:
            return "base_model.model." + name.replace(".weight", ".default.weight")
        module, leaf = name.rsplit(".", 1)
        if module in LORA_WRAPPED:
            return f"base_model.model.{module}.base_layer.{leaf}"
        return "base_model.model." + name
    if ".adapter." in name:
        return name.replace(".adapter.", ".dropout.1.")
    return name


def build(request):
    model = SentenceTransformer(request["model"], device="cpu")
    model.max_seq_length = request["max_seq_length"]
    strategy = request["strategy"]
    bert = model[0].auto_model
    if strategy["type"] == "lora":
        from peft import LoraConfig, get_peft_model

        lora = strategy["lora"]
        config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=0.0, target_modules=lora["peft_targets"], bias="none")
        peft_model = get_peft_model(bert, config)
        model[0].model = peft_model
        for module_name, module in peft_model.base_model.model.named_modules():
            if hasattr(module, "lora_A"):
                LORA_WRAPPED.add(module_name)
        bert = peft_model
    if strategy["type"] == "adapter":
        hidden = bert.config.hidden_size
        for layer in bert.encoder.layer:
            for sublayer in (layer.attention.output, layer.output):
                adapter = HoulsbyAdapter(hidden, strategy["adapter"]["size"], bert.config.hidden_act)
                sublayer.dropout = torch.nn.Sequential(sublayer.dropout, adapter)
    # No dropout, as the EmbedTune run (training.dropout: 0); eval() turns every dropout off and changes nothing else.
    model.eval()
    return model, bert


def trainable(name: str, strategy) -> bool:
    kind = strategy["type"]
    if kind == "full":
        return True
    if kind == "freeze":
        if name.startswith("embeddings."):
            return not strategy["freeze_embeddings"]
        parts = name.split(".")
        if parts[0] in ("encoder", "transformer") and parts[1] == "layer":
            return int(parts[2]) >= strategy["freeze_layers"]
        return True
    if kind == "lora":
        return ".lora_A." in name or ".lora_B." in name
    if kind == "adapter":
        return ".dropout.1." in name or is_layer_norm(name)
    raise ValueError(kind)


def to_torch(array: np.ndarray, name: str) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array.T if embedtune_layout(name) else array)).float()


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    torch.manual_seed(0)
    strategy = request["strategy"]
    model, bert = build(request)
    params = dict(bert.named_parameters())
    for name, param in params.items():
        param.requires_grad_(trainable(name.removeprefix("base_model.model."), strategy))
    named_trainable = [(name, p) for name, p in params.items() if p.requires_grad and not name.removeprefix("base_model.model.").startswith("pooler.")]
    decay = [p for name, p in named_trainable if not name.endswith("bias") and not is_layer_norm(name)]
    no_decay = [p for name, p in named_trainable if name.endswith("bias") or is_layer_norm(name)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": request["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=request["learning_rate"],
        betas=(0.9, 0.999),
        eps=1e-8,
    )
    schedule = request.get("scheduler", "linear")
    if schedule == "constant":
        scheduler = get_constant_schedule_with_warmup(optimizer, request["warmup_steps"])
    else:
        scheduler = SCHEDULES[schedule](optimizer, request["warmup_steps"], request["total_steps"])

    start = request.get("start")
    if start:
        weights = load_file(f"{start['checkpoint']}/encoder.safetensors")
        moments = load_file(f"{start['checkpoint']}/optimizer.safetensors")
        with torch.no_grad():
            for name, array in weights.items():
                params[torch_name(name, strategy["type"])].copy_(to_torch(array, name))
        by_param = {id(params[torch_name(name, strategy["type"])]): name for name in weights}
        for group in optimizer.param_groups:
            for p in group["params"]:
                name = by_param[id(p)]
                optimizer.state[p] = {
                    "step": torch.tensor(float(start["step"])),
                    "exp_avg": to_torch(moments[f"{name}.m"], name),
                    "exp_avg_sq": to_torch(moments[f"{name}.v"], name),
                }
        for _ in range(start["step"]):
            scheduler.step()

    loss_fn = MultipleNegativesRankingLoss(model, scale=request["scale"])
    trainable_params = [p for _, p in named_trainable]
    answers = []
    for step in request["steps"]:
        before = {name: p.detach().clone() for name, p in params.items()}
        optimizer.zero_grad(set_to_none=True)
        micro = step["micro_batches"]
        losses = []
        for batch in micro:
            features = [model.tokenize(batch["anchor"]), model.tokenize(batch["positive"])]
            loss = loss_fn(features, None)
            # As the Trainer accumulates: each micro-batch's loss divided by their number, gradients summed.
            (loss / len(micro)).backward()
            losses.append(loss.item())
        grad_norm = torch.nn.utils.clip_grad_norm_(trainable_params, request["max_grad_norm"]).item()
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()
        compared = {}
        if step.get("compare"):
            ours = load_file(f"{step['compare']}/encoder.safetensors")
            our_moments = load_file(f"{step['compare']}/optimizer.safetensors")
            for name, array in ours.items():
                param = params[torch_name(name, strategy["type"])]
                theirs = param.detach()
                mine = to_torch(array, name)
                entry = {
                    "max_abs_diff": (mine - theirs).abs().max().item(),
                    "max_abs_update": (theirs - before[torch_name(name, strategy["type"])]).abs().max().item(),
                    "size": mine.numel(),
                }
                # AdamW's moments are running averages of the (clipped) gradients and their squares, so they compare
                # the gradients themselves, before Adam's m/sqrt(v) turns float noise in near-zero gradients into
                # whole steps.
                state = optimizer.state.get(param)
                if state:
                    # Elements whose gradient was exactly 0 at every step so far (unused vocabulary rows and
                    # positions, the second token type): only weight decay moves them, so they check it exactly.
                    untouched = state["exp_avg_sq"] == 0
                    entry["zero_gradient_elements"] = int(untouched.sum().item())
                    entry["zero_gradient_max_abs_diff"] = (mine - theirs)[untouched].abs().max().item() if entry["zero_gradient_elements"] else 0.0
                    entry["largest_weight"] = theirs.abs().max().item()
                if state and f"{name}.m" in our_moments:
                    for key, moment in (("m", "exp_avg"), ("v", "exp_avg_sq")):
                        reference = state[moment]
                        entry[f"{key}_largest"] = reference.abs().max().item()
                        entry[f"{key}_max_abs_diff"] = (to_torch(our_moments[f"{name}.{key}"], name) - reference).abs().max().item()
                compared[name] = entry
        answers.append({"loss": float(np.mean(losses)), "lr": lr, "grad_norm": grad_norm, "compared": compared})
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump({"steps": answers}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
