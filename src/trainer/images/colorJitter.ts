import { rgbImage, type RgbImage } from './rgbImage';

/**
 * torchvision's adjust_brightness, adjust_contrast and adjust_saturation on a PIL image, which are Pillow's
 * ImageEnhance classes: each blends the image with a "degenerate" image (black; the mean gray; the image in
 * grayscale) by `factor`, as Pillow's ImagingBlend does in single-precision float, truncating to bytes and clipping
 * only when the factor extrapolates (outside 0–1).
 */

export type ColorAdjustment = 'brightness' | 'contrast' | 'saturation';

export function adjustColor(image: RgbImage, adjustment: ColorAdjustment, factor: number): RgbImage {
  if (!(factor >= 0)) throw new Error(`A ${adjustment} factor must be 0 or more, not ${factor}.`);
  const degenerate = DEGENERATE[adjustment](image);
  return blend(degenerate, image, factor);
}

const DEGENERATE: Readonly<Record<ColorAdjustment, (image: RgbImage) => Uint8Array>> = {
  brightness: (image) => new Uint8Array(image.data.length),
  contrast: (image) => {
    // ImageStat's mean of the L image, rounded half up, as ImageEnhance.Contrast takes it.
    const gray = luminance(image);
    let sum = 0;
    for (const value of gray) sum += value;
    return new Uint8Array(image.data.length).fill(Math.trunc(sum / gray.length + 0.5));
  },
  saturation: (image) => {
    const gray = luminance(image);
    const out = new Uint8Array(image.data.length);
    gray.forEach((value, pixel) => out.fill(value, pixel * 3, pixel * 3 + 3));
    return out;
  },
};

/** Pillow's RGB → L conversion (ITU-R 601-2 luma in 16-bit fixed point, rounded). */
function luminance(image: RgbImage): Uint8Array {
  const pixels = image.width * image.height;
  const gray = new Uint8Array(pixels);
  for (let pixel = 0; pixel < pixels; pixel++) {
    const at = pixel * 3;
    gray[pixel] = (image.data[at]! * 19595 + image.data[at + 1]! * 38470 + image.data[at + 2]! * 7471 + 0x8000) >> 16;
  }
  return gray;
}

/** ImagingBlend(degenerate, image, alpha) with alpha a C float. */
function blend(degenerate: Uint8Array, image: RgbImage, factor: number): RgbImage {
  const alpha = Math.fround(factor);
  const interpolates = alpha >= 0 && alpha <= 1;
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) {
    const base = degenerate[i]!;
    const value = Math.fround(base + Math.fround(alpha * (image.data[i]! - base)));
    out[i] = interpolates ? Math.trunc(value) : value <= 0 ? 0 : value >= 255 ? 255 : Math.trunc(value);
  }
  return rgbImage(image.width, image.height, out);
}
