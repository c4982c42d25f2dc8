import { rgbImage, type RgbImage } from './rgbImage';

/**
 * PIL's `Image.resize` for 8-bit RGB (Pillow's libImaging/Resample.c), reproduced step for step, because transformers'
 * image processors resize through PIL and a model's inputs should not depend on which side resized them: a filter
 * whose support widens with the downscale factor (antialiasing), fixed-point weights with 22 fractional bits, a
 * horizontal pass into an 8-bit intermediate image, then a vertical pass, each rounded and clamped to 0–255.
 */

/** PIL's resampling filters by their `PIL.Image.Resampling` number, which preprocessor_config.json stores as `resample`. */
export type PilFilter = 'bilinear' | 'bicubic';

export const PIL_RESAMPLING_NUMBERS: Readonly<Record<number, PilFilter>> = { 2: 'bilinear', 3: 'bicubic' };

const PRECISION_BITS = 32 - 8 - 2;

interface Filter {
  readonly support: number;
  weight(x: number): number;
}

const FILTERS: Readonly<Record<PilFilter, Filter>> = {
  bilinear: {
    support: 1,
    weight: (x) => {
      const distance = Math.abs(x);
      return distance < 1 ? 1 - distance : 0;
    },
  },
  bicubic: {
    support: 2,
    // Keys' cubic convolution with a = -0.5, as Pillow uses.
    weight: (x) => {
      const a = -0.5;
      const distance = Math.abs(x);
      if (distance < 1) return ((a + 2) * distance - (a + 3)) * distance * distance + 1;
      if (distance < 2) return (((distance - 5) * distance + 8) * distance - 4) * a;
      return 0;
    },
  },
};

/** For each output pixel: the first input pixel it reads, how many it reads, and their fixed-point weights. */
interface Coefficients {
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly kernelSize: number;
  readonly weights: Int32Array;
}

function precomputeCoefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * kernelSize);
  const raw = new Float64Array(kernelSize);
  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const min = Math.max(Math.trunc(center - support + 0.5), 0);
    const max = Math.min(Math.trunc(center + support + 0.5), inSize) - min;
    let total = 0;
    for (let x = 0; x < max; x++) {
      raw[x] = filter.weight((x + min - center + 0.5) / filterScale);
      total += raw[x]!;
    }
    for (let x = 0; x < max; x++) {
      const normalized = total !== 0 ? raw[x]! / total : raw[x]!;
      weights[out * kernelSize + x] = Math.trunc(
        normalized < 0 ? -0.5 + normalized * (1 << PRECISION_BITS) : 0.5 + normalized * (1 << PRECISION_BITS),
      );
    }
    first[out] = min;
    count[out] = max;
  }
  return { first, count, kernelSize, weights };
}

/** Rounds a fixed-point sum (which fits in 32 bits) back to a byte, as Pillow's clip8 does. */
function clip8(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** Resizes `image` to `width` × `height` exactly as PIL's `image.resize((width, height), resample)` does for RGB. */
export function pilResize(image: RgbImage, width: number, height: number, filterName: PilFilter): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0)
    throw new Error(`Cannot resize an image to ${width}×${height} pixels.`);
  if (width === image.width && height === image.height) return rgbImage(width, height, image.data.slice());
  const filter = FILTERS[filterName];
  const horizontal = precomputeCoefficients(image.width, width, filter);
  const vertical = precomputeCoefficients(image.height, height, filter);
  let current = image;
  if (width !== image.width) {
    // Pillow resizes horizontally only the rows the vertical pass will read.
    const firstRow = vertical.first[0]!;
    const lastRow = vertical.first[height - 1]! + vertical.count[height - 1]!;
    current = resampleHorizontal(image, firstRow, lastRow, horizontal, width);
    if (height !== image.height) {
      const shifted = vertical.first.map((row) => row - firstRow);
      return resampleVertical(current, { ...vertical, first: shifted }, height);
    }
    return current;
  }
  return resampleVertical(current, vertical, height);
}

function resampleHorizontal(image: RgbImage, firstRow: number, lastRow: number, coefficients: Coefficients, width: number): RgbImage {
  const rows = lastRow - firstRow;
  const out = new Uint8Array(width * rows * 3);
  const { first, count, kernelSize, weights } = coefficients;
  for (let row = 0; row < rows; row++) {
    const inRow = (row + firstRow) * image.width * 3;
    for (let x = 0; x < width; x++) {
      const start = first[x]!;
      const kernel = x * kernelSize;
      let red = 1 << (PRECISION_BITS - 1);
      let green = red;
      let blue = red;
      for (let k = 0; k < count[x]!; k++) {
        const weight = weights[kernel + k]!;
        const at = inRow + (start + k) * 3;
        red += image.data[at]! * weight;
        green += image.data[at + 1]! * weight;
        blue += image.data[at + 2]! * weight;
      }
      const to = (row * width + x) * 3;
      out[to] = clip8(red);
      out[to + 1] = clip8(green);
      out[to + 2] = clip8(blue);
    }
  }
  return rgbImage(width, rows, out);
}

function resampleVertical(image: RgbImage, coefficients: Coefficients, height: number): RgbImage {
  const width = image.width;
  const out = new Uint8Array(width * height * 3);
  const { first, count, kernelSize, weights } = coefficients;
  for (let y = 0; y < height; y++) {
    const start = first[y]!;
    const kernel = y * kernelSize;
    for (let x = 0; x < width; x++) {
      let red = 1 << (PRECISION_BITS - 1);
      let green = red;
      let blue = red;
      for (let k = 0; k < count[y]!; k++) {
        const weight = weights[kernel + k]!;
        const at = ((start + k) * width + x) * 3;
        red += image.data[at]! * weight;
        green += image.data[at + 1]! * weight;
        blue += image.data[at + 2]! * weight;
      }
      const to = (y * width + x) * 3;
      out[to] = clip8(red);
      out[to + 1] = clip8(green);
      out[to + 2] = clip8(blue);
    }
  }
  return rgbImage(width, height, out);
}
