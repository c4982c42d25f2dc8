import { rgbImage, type RgbImage } from './rgbImage';

/** Mirrors left to right, as PIL's `transpose(FLIP_LEFT_RIGHT)` (torchvision's hflip on a PIL image). */
export function flipHorizontal(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out.set(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3), (y * width + width - 1 - x) * 3);
  return rgbImage(width, height, out);
}

/** Flips upside down, as PIL's `transpose(FLIP_TOP_BOTTOM)`. */
export function flipVertical(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  const row = width * 3;
  for (let y = 0; y < height; y++) out.set(data.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  return rgbImage(width, height, out);
}
