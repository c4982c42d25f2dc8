import { rgbImage, type RgbImage } from './rgbImage';

/** `[left, top, right, bottom]` in pixels, right and bottom exclusive, as PIL's `Image.crop` takes a box. */
export type CropBox = readonly [number, number, number, number];

/**
 * Cuts `box` out of `image` as PIL's `Image.crop` does: the result is exactly (right − left) × (bottom − top), and
 * any part of the box outside the image is black. It is the config's `crop_box`, applied before anything else.
 */
export function cropToBox(image: RgbImage, box: CropBox): RgbImage {
  const [left, top, right, bottom] = box;
  if (![left, top, right, bottom].every(Number.isInteger) || right <= left || bottom <= top)
    throw new Error(`crop_box [${box.join(', ')}] must be whole pixels [left, top, right, bottom] with right > left and bottom > top.`);
  const width = right - left;
  const height = bottom - top;
  const out = new Uint8Array(width * height * 3);
  // Only the columns inside the image are copied; the rest stay 0 (black).
  const firstX = Math.max(left, 0);
  const lastX = Math.min(right, image.width);
  for (let y = 0; y < height && firstX < lastX; y++) {
    const sourceY = top + y;
    if (sourceY < 0 || sourceY >= image.height) continue;
    const from = (sourceY * image.width + firstX) * 3;
    out.set(image.data.subarray(from, from + (lastX - firstX) * 3), (y * width + firstX - left) * 3);
  }
  return rgbImage(width, height, out);
}
