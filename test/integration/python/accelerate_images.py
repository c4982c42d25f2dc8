"""A tiny random ResNet and a generated PNG ImageFolder for the accelerate engine's image test, and what a run made.

build OUT: writes OUT/resnet, transformers' own ResNetForImageClassification from a small config (basic blocks, two
stages, a 5-class head that the run must replace), saved with save_pretrained beside a preprocessor_config.json
(ConvNextImageProcessor, as microsoft/resnet-50 has), and OUT/images/{train,validation}/<class>/*.png: three classes
told apart by colour, with noise, in RGB, grayscale and RGBA files, and one truncated PNG in train/red.

inspect REQUEST_JSON: {"base", "export", "checkpoint", "images": [paths]}: which weights the checkpoint changed
against the base (by transformers' name, BatchNorm running statistics apart), the export's config labels and
preprocessor, the checkpoint optimizer's groups ([parameters, initial learning rate]), and
pipeline("image-classification")'s predictions for the images, as JSON on the last line.

augment MODEL IMAGE: whether ImageRows replays the same augmented pixels for the same (seed, epoch, row), draws others
for another epoch or seed, and without augmentation gives exactly the model's AutoImageProcessor output.

bad FOLDER: the engine's check of prepared rows (check_images) on FOLDER's red-0/red-1, truncated.png and an empty file,
under data.on_bad_row skip and error.

loss: the engine's softmax (balanced class weights) against torch's CrossEntropyLoss(weight=...), and focal against its
formula written out in numpy, as JSON differences.

freeze MODEL: the names of the weights and BatchNorm statistics that three training steps moved under strategy freeze
(freeze_embeddings, freeze_layers 1), with freeze_batch_norm off and on.

ap: prints, as JSON, this engine's average_precision (python/embedtune_accelerate/image_metrics.py) and scikit-learn's
average_precision_score on random and tied scores, for the test to compare.
"""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

CLASSES = {"blue": (40, 60, 200), "green": (40, 190, 60), "red": (210, 40, 40)}


def build(out: str) -> None:
    import torch
    from PIL import Image
    from transformers import ResNetConfig, ResNetForImageClassification

    torch.manual_seed(0)
    config = ResNetConfig(num_channels=3, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic", num_labels=5)
    model = ResNetForImageClassification(config)
    folder = os.path.join(out, "resnet")
    model.save_pretrained(folder)
    with open(os.path.join(folder, "preprocessor_config.json"), "w", encoding="utf-8") as file:
        json.dump({
            "image_processor_type": "ConvNextImageProcessor", "crop_pct": 0.875, "do_normalize": True, "do_rescale": True,
            "do_resize": True, "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "resample": 3,
            "rescale_factor": 1 / 255, "size": {"shortest_edge": 32},
        }, file)
    rng = np.random.default_rng(0)
    for split, count in (("train", 12), ("validation", 4)):
        for name, colour in CLASSES.items():
            os.makedirs(os.path.join(out, "images", split, name), exist_ok=True)
            for i in range(count):
                pixels = np.clip(np.array(colour) + rng.normal(0, 40, (36, 44, 3)), 0, 255).astype(np.uint8)
                image = Image.fromarray(pixels, "RGB")
                # A few files in the other modes the decoder must turn into RGB.
                image = image.convert("RGBA") if i == 1 else image
                image.save(os.path.join(out, "images", split, name, f"{name}-{i}.png"))
    gray = Image.fromarray(rng.integers(0, 255, (36, 44), dtype=np.uint8), "L")
    gray.save(os.path.join(out, "images", "train", "green", "green-gray.png"))
    with open(os.path.join(out, "images", "train", "red", "red-0.png"), "rb") as file:
        whole = file.read()
    with open(os.path.join(out, "images", "train", "red", "truncated.png"), "wb") as file:
        file.write(whole[: len(whole) // 2])


def inspect(request: dict) -> dict:
    import torch
    from safetensors.torch import load_file
    from transformers import pipeline

    before = load_file(os.path.join(request["base"], "model.safetensors"))
    after = load_file(os.path.join(request["checkpoint"], "model.safetensors"))
    statistics = ("running_mean", "running_var", "num_batches_tracked")
    weights = [name for name in before if name in after and not name.endswith(statistics)]
    changed = sorted(name for name in weights if not torch.equal(before[name], after[name]))
    unchanged = sorted(name for name in weights if torch.equal(before[name], after[name]))
    stats = [name for name in before if name in after and name.endswith(("running_mean", "running_var"))]
    stats_changed = sorted(name for name in stats if not torch.equal(before[name], after[name]))
    with open(os.path.join(request["export"], "config.json"), encoding="utf-8") as file:
        exported = json.load(file)
    classifier = pipeline("image-classification", model=request["export"], device="cpu")
    predictions = [classifier(path, top_k=1)[0] for path in request["images"]]
    optimizer = torch.load(os.path.join(request["checkpoint"], "optimizer.pt"), weights_only=False)
    return {
        "optimizer_groups": sorted([len(group["params"]), group["initial_lr"]] for group in optimizer["param_groups"]),
        "changed": changed,
        "unchanged": unchanged,
        "stats_changed": stats_changed,
        "head_shape": list(after["classifier.1.weight"].shape),
        "id2label": exported.get("id2label"),
        "architectures": exported.get("architectures"),
        "predicted": [p["label"] for p in predictions],
        "scores": [float(p["score"]) for p in predictions],
    }


def average_precision_check() -> dict:
    from sklearn.metrics import average_precision_score

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
    from embedtune_accelerate.image_metrics import average_precision

    rng = np.random.default_rng(7)
    cases = []
    for trial in range(40):
        n = int(rng.integers(2, 60))
        relevant = rng.random(n) < rng.uniform(0.1, 0.9)
        if not relevant.any():
            relevant[0] = True
        # Every third case rounds the scores so that positives and negatives tie.
        scores = rng.random(n) if trial % 3 else np.round(rng.random(n), 1)
        cases.append({"ours": average_precision(relevant, scores), "sklearn": float(average_precision_score(relevant, scores))})
    return {"cases": cases, "absent": average_precision(np.zeros(4, dtype=bool), np.arange(4.0))}


def augment_check(model_folder: str, image_path: str) -> dict:
    """The same (seed, epoch, row) draws the same pixels; another epoch or seed others; no augment is the processor's."""
    import torch
    from PIL import Image

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
    from embedtune_accelerate.image_data import Augment, ImageRows, image_processor

    processor = image_processor(model_folder, {"crop_box": [2, 2, 42, 34], "size": {"shortest_edge": 24}})
    settings = {"horizontal_flip": 0.5, "vertical_flip": 0.5, "rotation": 20, "random_resized_crop": {"scale": [0.5, 1]},
                "color_jitter": {"brightness": 0.3, "contrast": 0.3, "saturation": 0.3}}
    rows = [{"image": image_path, "label": "a"}]

    def pixels(augment, seed: int, epoch: int):
        dataset = ImageRows(rows, ["a"], processor, (2, 2, 42, 34), augment, seed)
        dataset.epoch = epoch
        return dataset[0]["pixel_values"]

    augment = Augment.of(settings)
    first = pixels(augment, 42, 0)
    plain = pixels(None, 42, 0)
    with Image.open(image_path) as image:
        expected = processor(images=[image.convert("RGB").crop((2, 2, 42, 34))], return_tensors="pt")["pixel_values"][0]
    # Turning one operation off leaves the others' draws: without the flips, rotation and crop, the jitter is the same.
    jitter_only = Augment.of({"color_jitter": settings["color_jitter"]})
    both = Augment.of({"color_jitter": settings["color_jitter"], "vertical_flip": 1.0})
    flipped_back = torch.flip(pixels(both, 42, 0), dims=[1])
    return {
        "shape": list(first.shape),
        "plain_shape": list(plain.shape),
        "replayed": bool(torch.equal(first, pixels(augment, 42, 0))),
        "other_epoch_differs": not torch.equal(first, pixels(augment, 42, 1)),
        "other_seed_differs": not torch.equal(first, pixels(augment, 7, 0)),
        "plain_is_processor": bool(torch.equal(plain, expected)),
        "off_by_default": Augment.of({"seed": 42, "horizontal_flip": 0}) is None,
        "streams_independent": bool(torch.equal(flipped_back, pixels(jitter_only, 42, 0))),
    }


def bad_images_check(folder: str) -> dict:
    """The engine's own check of the prepared rows: under skip the truncated PNG is left out and named; under error it stops."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
    from embedtune_accelerate.image_data import BadImage, check_images

    import tempfile

    empty = os.path.join(tempfile.mkdtemp(), "empty.png")
    open(empty, "wb").close()
    rows = [{"image": os.path.join(folder, name), "label": "red", "source": source}
            for name, source in (("red-0.png", "t.csv:2"), ("truncated.png", "t.csv:3"), ("red-1.png", "t.csv:4"))]
    rows.append({"image": empty, "label": "red", "source": empty})
    kept, problems = check_images(rows, "skip", "training")
    try:
        check_images(rows, "error", "training")
        stopped = None
    except BadImage as error:
        stopped = str(error)
    return {"kept": [os.path.basename(row["image"]) for row in kept], "problems": problems, "stopped": stopped}


def loss_check() -> dict:
    """The engine's loss against torch's CrossEntropyLoss(weight=...) and the focal formula written out in numpy."""
    import torch

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
    from embedtune_accelerate.image_loss import ImageClassificationLoss, balanced_class_weights

    labels = ["a", "b", "c"]
    train = ["a"] * 6 + ["b"] * 3 + ["c"]
    torch.manual_seed(3)
    logits = torch.randn(10, 3, dtype=torch.float64)
    targets = torch.tensor([0, 0, 1, 2, 1, 0, 2, 2, 1, 0])
    weights = balanced_class_weights(labels, train)
    softmax = ImageClassificationLoss({"type": "softmax", "class_weights": "balanced"}, labels, train)(logits, targets)
    reference = torch.nn.functional.cross_entropy(logits.float(), targets, weight=torch.tensor(weights))
    alpha = [0.2, 0.5, 0.9]
    focal = ImageClassificationLoss({"type": "focal", "gamma": 2.0, "alpha": alpha, "class_weights": "balanced"}, labels, train)(logits, targets)
    p = torch.softmax(logits, -1).numpy()[np.arange(10), targets.numpy()]
    w = np.array(weights)[targets.numpy()]
    per_row = -np.array(alpha)[targets.numpy()] * (1 - p) ** 2 * np.log(p)
    plain = ImageClassificationLoss({"type": "focal", "gamma": 0.0, "alpha": 1.0}, labels, train)(logits, targets)
    return {
        "weights": weights,
        "softmax_vs_torch": abs(float(softmax) - float(reference)),
        "focal_vs_formula": abs(float(focal) - float((w * per_row).sum() / w.sum())),
        "focal_gamma0_vs_cross_entropy": abs(float(plain) - float(torch.nn.functional.cross_entropy(logits.float(), targets))),
    }


def freeze_check(model_folder: str) -> dict:
    """
    The engine's strategy freeze (freeze_embeddings, freeze_layers 1) on the tiny ResNet, three AdamW steps in train
    mode: which weights and BatchNorm statistics moved, with and without freeze_batch_norm.
    """
    import torch

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
    from embedtune_accelerate.image_model import apply_image_strategy, build_image_model

    answers = {}
    for freeze_batch_norm in (False, True):
        torch.manual_seed(0)
        model = build_image_model(model_folder, ["a", "b", "c"])
        apply_image_strategy(model, {"type": "freeze", "freeze_embeddings": True, "freeze_layers": 1, "freeze_batch_norm": freeze_batch_norm})
        before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.01)
        for _ in range(3):
            model.train()
            loss = torch.nn.functional.cross_entropy(model(pixel_values=torch.randn(4, 3, 32, 32)).logits, torch.tensor([0, 1, 2, 0]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        after = model.state_dict()
        moved = sorted(name for name in before if not name.endswith("num_batches_tracked") and not torch.equal(before[name], after[name]))
        answers["batch_norm_frozen" if freeze_batch_norm else "batch_norm_training"] = moved
    return answers


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "build":
        build(sys.argv[2])
    elif command == "inspect":
        print(json.dumps(inspect(json.loads(sys.argv[2]))))
    elif command == "augment":
        print(json.dumps(augment_check(sys.argv[2], sys.argv[3])))
    elif command == "bad":
        print(json.dumps(bad_images_check(sys.argv[2])))
    elif command == "loss":
        print(json.dumps(loss_check()))
    elif command == "freeze":
        print(json.dumps(freeze_check(sys.argv[2])))
    elif command == "ap":
        print(json.dumps(average_precision_check()))
    else:
        raise SystemExit(f"unknown command {command}")
