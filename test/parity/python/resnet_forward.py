"""transformers' answer for the ResNet parity test: the model folder's own image processor (AutoImageProcessor) on the
given RGB pixels, then ResNetForImageClassification's pooled output and logits in eval mode.

The pixels come as raw RGB byte files (height × width × 3), decoded by EmbedTune, so that this compares preprocessing
and the forward pass, not two JPEG decoders (the test compares decoders separately).

Request: {"model": folder, "images": [{"rgb": path, "width": int, "height": int}], "pixel_values_out": path}
Answer:  {"processor_class": str, "pixel_values_shape": [N, 3, H, W], "pooled": [[...]], "logits": [[...]]}
         and pixel_values (NCHW float32, little-endian) written to pixel_values_out.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoImageProcessor, ResNetForImageClassification  # noqa: E402


def main(request_path, answer_path):
    with open(request_path) as file:
        request = json.load(file)
    images = []
    for spec in request["images"]:
        with open(spec["rgb"], "rb") as file:
            raw = np.frombuffer(file.read(), dtype=np.uint8)
        images.append(raw.reshape(spec["height"], spec["width"], 3))
    processor = AutoImageProcessor.from_pretrained(request["model"])
    pixel_values = processor(images=images, return_tensors="pt", input_data_format="channels_last")["pixel_values"]
    model = ResNetForImageClassification.from_pretrained(request["model"]).eval()
    with torch.no_grad():
        outputs = model.resnet(pixel_values)
        logits = model.classifier(outputs.pooler_output)
    with open(request["pixel_values_out"], "wb") as file:
        file.write(pixel_values.numpy().astype("<f4").tobytes())
    answer = {
        "processor_class": type(processor).__name__,
        "pixel_values_shape": list(pixel_values.shape),
        "pooled": outputs.pooler_output.flatten(1).tolist(),
        "logits": logits.tolist(),
    }
    with open(answer_path, "w") as file:
        json.dump(answer, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
