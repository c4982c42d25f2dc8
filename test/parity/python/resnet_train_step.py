"""PyTorch's training steps for the ResNet training-step parity test: transformers' ResNetForImageClassification,
loaded from the folder EmbedTune exported, in train mode (BatchNorm on batch statistics, running statistics updated
by momentum 0.1 with the unbiased variance), softmax cross-entropy or focal loss, torch.optim.SGD or AdamW.

`freeze_batch_norm` puts every BatchNorm2d in eval mode (running statistics used and kept) while the rest trains;
parameters whose name starts with one of `frozen_prefixes` get requires_grad = False (freezing by stage), which
leaves their BatchNorm in train mode, as PyTorch does.

Request: {"model": folder, "pixels": path (float32 NHWC, steps × batch images), "shape": [steps, n, h, w, c],
          "labels": [[int] per step], "loss": {"type": "softmax"} | {"type": "focal", "gamma": g, "alpha": [per class]},
          "optimizer": {"type": "sgd", "lr": lr} | {"type": "adamw", "lr": lr, "weight_decay": wd},
          "freeze_batch_norm": bool, "frozen_prefixes": [str], "out": folder}
Answer:  {"losses": [float per step]}, and per step k (from 1) in `out`: step{k}.state.safetensors (state_dict after
         the step), step{k}.grads.safetensors (gradients of trainable parameters), and for AdamW
         step{k}.moments.safetensors (`<name>.m`, `<name>.v`).
"""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import ResNetForImageClassification  # noqa: E402


def loss_of(logits, labels, spec):
    log_p = torch.log_softmax(logits, dim=-1).gather(1, labels[:, None])[:, 0]
    if spec["type"] == "softmax":
        return (-log_p).mean()
    alpha = torch.tensor(spec["alpha"], dtype=logits.dtype)[labels]
    return (-alpha * (1 - log_p.exp()) ** spec["gamma"] * log_p).mean()


def optimizer_of(named, spec):
    if spec["type"] == "sgd":
        return torch.optim.SGD([p for _, p in named], lr=spec["lr"])
    decay = [p for name, p in named if not name.endswith(".bias")]
    no_decay = [p for name, p in named if name.endswith(".bias")]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": spec["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=spec["lr"],
        betas=(0.9, 0.999),
        eps=1e-8,
    )


def main(request_path, answer_path):
    with open(request_path) as file:
        request = json.load(file)
    torch.manual_seed(0)
    model = ResNetForImageClassification.from_pretrained(request["model"])
    model.train()
    if request["freeze_batch_norm"]:
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.eval()
    for name, param in model.named_parameters():
        param.requires_grad_(not any(name.startswith(prefix) for prefix in request["frozen_prefixes"]))
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    optimizer = optimizer_of(named, request["optimizer"])
    steps, n, h, w, c = request["shape"]
    pixels = np.fromfile(request["pixels"], dtype="<f4").reshape(steps, n, h, w, c)
    os.makedirs(request["out"], exist_ok=True)
    losses = []
    for step in range(steps):
        batch = torch.from_numpy(np.ascontiguousarray(pixels[step].transpose(0, 3, 1, 2)))
        labels = torch.tensor(request["labels"][step], dtype=torch.long)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(model(pixel_values=batch).logits, labels, request["loss"])
        loss.backward()
        grads = {name: p.grad.detach().clone().contiguous() for name, p in named}
        optimizer.step()
        losses.append(loss.item())
        prefix = os.path.join(request["out"], f"step{step + 1}")
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{prefix}.state.safetensors")
        save_file(grads, f"{prefix}.grads.safetensors")
        if request["optimizer"]["type"] == "adamw":
            moments = {}
            for name, p in named:
                state = optimizer.state[p]
                moments[f"{name}.m"] = state["exp_avg"].contiguous()
                moments[f"{name}.v"] = state["exp_avg_sq"].contiguous()
            save_file(moments, f"{prefix}.moments.safetensors")
    with open(answer_path, "w") as file:
        json.dump({"losses": losses}, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
