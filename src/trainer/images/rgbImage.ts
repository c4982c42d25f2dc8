/** An 8-bit RGB image, row-major and interleaved (height × width × 3), the form every image takes after decoding. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Builds an image, refusing data that does not fill width × height × 3 exactly. */
export function rgbImage(width: number, height: number, data: Uint8Array): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0)
    throw new Error(`An image must be at least 1×1 pixels; this one is ${width}×${height}.`);
  if (data.length !== width * height * 3)
    throw new Error(`A ${width}×${height} RGB image needs ${width * height * 3} bytes but was given ${data.length}.`);
  return { width, height, data };
}

/** Drops the alpha channel of interleaved RGBA, as PIL's `convert("RGB")` does (no compositing over a background). */
export function rgbFromRgba(width: number, height: number, rgba: Uint8Array): RgbImage {
  const pixels = width * height;
  if (rgba.length < pixels * 4) throw new Error(`A ${width}×${height} RGBA image needs ${pixels * 4} bytes but has ${rgba.length}.`);
  const rgb = new Uint8Array(pixels * 3);
  for (let pixel = 0; pixel < pixels; pixel++) {
    rgb[pixel * 3] = rgba[pixel * 4]!;
    rgb[pixel * 3 + 1] = rgba[pixel * 4 + 1]!;
    rgb[pixel * 3 + 2] = rgba[pixel * 4 + 2]!;
  }
  return rgbImage(width, height, rgb);
}
