"""PyTorch's side of bench/images/imageThroughput.ts: transformers' ResNetForImageClassification with random weights,
trained with plain SGD on random 224x224 pixels, as the tfjs worker trains its own. Prints one JSON line."""

import json
import sys
import time

import torch
from transformers import ResNetConfig, ResNetForImageClassification


def main() -> None:
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    model = ResNetForImageClassification(ResNetConfig(num_labels=spec["labels"], **spec["config"]))
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    pixels = torch.randn(spec["batch"], 3, spec["size"], spec["size"])
    labels = torch.arange(spec["batch"]) % spec["labels"]

    def step() -> float:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(pixel_values=pixels).logits, labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(spec["warmup"]):
        step()
    seconds = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
