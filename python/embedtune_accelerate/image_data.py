"""
Image rows for the accelerate engine: the CLI's loader (both layouts, ImageFolder and CSV/TSV/JSONL) wrote each
example as {image: absolute path, label, source}; this module decodes them with Pillow, applies preprocess.image
and, on the training split, preprocess.augment, and gives the Trainer `pixel_values` as the model's own
AutoImageProcessor makes them.

Augmentation is written with Pillow and numpy, not torchvision: PyPI has no torchvision build for the torch this
engine pins. Each image's draws come from numpy generators seeded with (seed, epoch, row index, operation), so a
resumed run replays the same augmented images. The draws are not the tfjs engine's (another generator), but the
operations, their order and their ranges are.
"""

from __future__ import annotations

import base64
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

THUMBNAIL_SIZE = 48


class BadImage(ValueError):
    """An image that cannot be used: unreadable, truncated or empty."""


def open_rgb(path: str) -> Any:
    """The decoded image as 8-bit RGB (grayscale, palette and RGBA become RGB, as transformers' convert_rgb does)."""
    from PIL import Image, UnidentifiedImageError

    try:
        if os.path.getsize(path) == 0:
            raise BadImage(f"{path} is empty (0 bytes).")
        with Image.open(path) as image:
            image.load()
            return image.convert("RGB")
    except BadImage:
        raise
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as error:
        raise BadImage(f"{path} cannot be decoded as an image ({error}).") from error


def crop_box_of(image_settings: dict[str, Any] | None) -> tuple[int, int, int, int] | None:
    box = (image_settings or {}).get("crop_box")
    return None if box is None else tuple(int(v) for v in box)  # type: ignore[return-value]


def cleaned(image: Any, box: tuple[int, int, int, int] | None) -> Any:
    """preprocess.image.crop_box, in pixels of the original, applied before anything else; outside the image is black."""
    return image if box is None else image.crop(box)


def check_images(rows: list[dict[str, Any]], policy: str, split: str) -> tuple[list[dict[str, Any]], list[str]]:
    """
    Decodes every image once before training, so that a bad file stops the run at the start (on_bad_row: error) or
    is left out with a message naming it (skip), rather than failing mid-epoch.
    """
    kept: list[dict[str, Any]] = []
    problems: list[str] = []
    for row in rows:
        try:
            open_rgb(row["image"])
            kept.append(row)
        except BadImage as error:
            source = row.get("source") or row["image"]
            # The error names the file; the source adds the data file's line for CSV/TSV/JSONL rows.
            message = f"{split} image skipped: {error}" if source == row["image"] else f"{split} row {source}: {error}"
            if policy != "skip":
                raise BadImage(f"{message} (data.on_bad_row: skip leaves such rows out)") from error
            problems.append(message)
    return kept, problems


def image_processor(folder: str, image_settings: dict[str, Any] | None) -> Any:
    """
    The model's AutoImageProcessor (its preprocessor_config.json) with preprocess.image's size, crop, mean and std
    written over it: this processor makes the pixels in training and evaluation, and is saved with every checkpoint
    and the export, so that pipeline("image-classification") preprocesses as training did.
    """
    from transformers import AutoImageProcessor

    if not os.path.exists(os.path.join(folder, "preprocessor_config.json")):
        raise FileNotFoundError(f"{folder} has no preprocessor_config.json; an image model needs it to know its input size and normalization.")
    overrides: dict[str, Any] = {}
    settings = image_settings or {}
    size = settings.get("size")
    if isinstance(size, dict):
        overrides["size"] = {"shortest_edge": size["shortest_edge"]} if "shortest_edge" in size else {"height": size["height"], "width": size["width"]}
    elif size is not None:
        overrides["size"] = {"height": size, "width": size}
    crop = settings.get("crop")
    if crop is False:
        overrides["do_center_crop"] = False
    elif crop is not None:
        overrides["do_center_crop"] = True
        overrides["crop_size"] = {"height": crop["height"], "width": crop["width"]} if isinstance(crop, dict) else {"height": crop, "width": crop}
    if settings.get("mean") is not None:
        overrides["image_mean"] = list(settings["mean"])
    if settings.get("std") is not None:
        overrides["image_std"] = list(settings["std"])
    processor = AutoImageProcessor.from_pretrained(folder, **overrides)
    if "do_center_crop" in overrides and hasattr(processor, "crop_pct"):
        # ConvNeXT's processor (microsoft/resnet-50's) crops by crop_pct and has no center-crop switch: a crop
        # written in the config would be ignored, so it is refused by name.
        raise ValueError(f"preprocess.image.crop: {type(processor).__name__} crops by crop_pct and takes no crop size; set preprocess.image.size instead.")
    return processor


@dataclass(frozen=True)
class Augment:
    """preprocess.augment's image operations, each off at its default."""

    horizontal_flip: float = 0.0
    vertical_flip: float = 0.0
    rotation: float = 0.0
    random_resized_crop: dict[str, Any] | None = None
    color_jitter: dict[str, Any] | None = None

    @staticmethod
    def of(settings: dict[str, Any] | None) -> "Augment | None":
        settings = settings or {}
        augment = Augment(
            horizontal_flip=float(settings.get("horizontal_flip") or 0.0),
            vertical_flip=float(settings.get("vertical_flip") or 0.0),
            rotation=float(settings.get("rotation") or 0.0),
            random_resized_crop=settings.get("random_resized_crop") or None,
            color_jitter=settings.get("color_jitter") or None,
        )
        return None if augment == Augment() else augment

    def apply(self, image: Any, draws: "Draws") -> Any:
        """Horizontal flip, vertical flip, rotation, color jitter, in this order, as the tfjs engine's imageAugmentation.ts."""
        from PIL import Image, ImageEnhance

        # torchvision flips when torch.rand(1) < p.
        if self.horizontal_flip > 0 and draws.stream("horizontal_flip").random() < self.horizontal_flip:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if self.vertical_flip > 0 and draws.stream("vertical_flip").random() < self.vertical_flip:
            image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        if self.rotation > 0:
            # Counter-clockwise about the center; corners the rotation brings in are black, as torchvision's RandomRotation.
            angle = float(draws.stream("rotation").uniform(-self.rotation, self.rotation))
            image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=(0, 0, 0))
        if self.color_jitter:
            random = draws.stream("color_jitter")
            enhancers = {"brightness": ImageEnhance.Brightness, "contrast": ImageEnhance.Contrast, "saturation": ImageEnhance.Color}
            # torchvision's ColorJitter applies the three in a random order.
            for key in random.permutation(list(enhancers)):
                amount = float(self.color_jitter.get(key) or 0.0)
                if amount > 0:
                    image = enhancers[key](image).enhance(float(random.uniform(max(0.0, 1 - amount), 1 + amount)))
        return image


class Draws:
    """
    The random streams of one image in one epoch: one numpy generator per operation, seeded with (seed, epoch, row
    index, operation), so that turning one operation on or off leaves what the others draw unchanged.
    """

    OPERATIONS = {"horizontal_flip": 1, "vertical_flip": 2, "rotation": 3, "random_resized_crop": 4, "color_jitter": 5}

    def __init__(self, seed: int, epoch: int, index: int) -> None:
        self.key = [seed, epoch, index]

    def stream(self, operation: str) -> np.random.Generator:
        return np.random.default_rng([*self.key, self.OPERATIONS[operation]])


def output_size(processor: Any) -> tuple[int, int]:
    """
    The processor's final width × height: the crop size, else a square size (ConvNeXT's crop_pct resize is square).
    A shortest-edge resize with no crop gives each image its own shape, which no batch can hold.
    """
    crop = getattr(processor, "crop_size", None)
    if getattr(processor, "do_center_crop", False) and crop:
        return int(crop["width"]), int(crop["height"])
    size = processor.size
    if "height" in size and "width" in size:
        return int(size["width"]), int(size["height"])
    if hasattr(processor, "crop_pct") and "shortest_edge" in size:
        return int(size["shortest_edge"]), int(size["shortest_edge"])
    raise ValueError("preprocess.image: a shortest_edge resize with no crop gives each image its own shape, which a batch cannot hold; "
                     "set preprocess.image.crop (or size as a number or {height, width}).")


def random_resized_box(width: int, height: int, settings: dict[str, Any], rng: np.random.Generator) -> tuple[int, int, int, int]:
    """
    torchvision's RandomResizedCrop.get_params: a region of scale × the area and an aspect ratio drawn log-uniformly,
    ten tries, else the center crop at the nearest allowed ratio.
    """
    scale = settings.get("scale") or [0.08, 1.0]
    ratio = settings.get("ratio") or [3 / 4, 4 / 3]
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = int(rng.integers(0, height - h + 1))
            left = int(rng.integers(0, width - w + 1))
            return left, top, left + w, top + h
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        w, h = int(round(height * max(ratio))), height
    else:
        w, h = width, height
    top, left = (height - h) // 2, (width - w) // 2
    return left, top, left + w, top + h


class ImageRows:
    """
    A map-style dataset of {pixel_values, labels}, made as the tfjs engine's ImagePipeline makes them: decode,
    crop_box, then the processor's resize and center crop (or, when training with random_resized_crop, a random
    region resized to the same size), then the drawn flips, rotation and color jitter on that 8-bit image, then the
    processor's rescale and normalize. `epoch` is set by the run before each epoch's batches are drawn.
    """

    def __init__(self, rows: list[dict[str, Any]], labels: list[str], processor: Any, box: tuple[int, int, int, int] | None,
                 augment: Augment | None = None, seed: int = 0) -> None:
        self.rows = rows
        self.index = {label: i for i, label in enumerate(labels)}
        self.processor = processor
        self.box = box
        self.augment = augment
        self.seed = seed
        self.epoch = 0
        self.size = output_size(processor)

    def __len__(self) -> int:
        return len(self.rows)

    def cleaned(self, i: int) -> Any:
        """Decoded, crop box, resize and center crop: the 8-bit image validation uses (and thumbnails show)."""
        return resized(self.processor, cleaned(open_rgb(self.rows[i]["image"]), self.box))

    def model_image(self, i: int) -> Any:
        if self.augment is None:
            return self.cleaned(i)
        # The example's index in file order, as the loader numbered it; the row's position where it did not.
        draws = Draws(self.seed, self.epoch, int(self.rows[i].get("index", i)))
        if self.augment.random_resized_crop is None:
            return self.augment.apply(self.cleaned(i), draws)
        original = cleaned(open_rgb(self.rows[i]["image"]), self.box)
        region = random_resized_box(original.width, original.height, self.augment.random_resized_crop, draws.stream("random_resized_crop"))
        from PIL import Image

        image = original.resize(self.size, resample=Image.Resampling(int(getattr(self.processor, "resample", 2))), box=region)
        return self.augment.apply(image, draws)

    def __getitem__(self, i: int) -> dict[str, Any]:
        pixels = self.processor(images=[self.model_image(i)], do_resize=False, do_center_crop=False, return_tensors="pt")["pixel_values"][0]
        return {"pixel_values": pixels, "labels": self.index[str(self.rows[i]["label"])]}


def resized(processor: Any, image: Any) -> Any:
    """The processor's resize and center crop alone, as an 8-bit PIL image (its values are exactly the processor's)."""
    from PIL import Image

    array = processor(images=[image], do_rescale=False, do_normalize=False, return_tensors="np")["pixel_values"][0]
    return Image.fromarray(np.asarray(array).transpose(1, 2, 0).astype(np.uint8), "RGB")


def thumbnail(rows: ImageRows, i: int, size: int = THUMBNAIL_SIZE) -> dict[str, Any]:
    """The cleaned image (what the model sees, unaugmented) at size × size, Pillow bilinear, as base64 raw RGB bytes."""
    from PIL import Image

    image = rows.cleaned(i).resize((size, size), resample=Image.Resampling.BILINEAR)
    return {"width": size, "height": size, "rgb": base64.b64encode(image.tobytes()).decode("ascii")}
