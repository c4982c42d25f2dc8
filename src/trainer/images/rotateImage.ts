import { rgbImage, type RgbImage } from './rgbImage';

/**
 * PIL's `image.rotate(degrees, resample=BILINEAR)` for RGB (what torchvision's RandomRotation does to a PIL image),
 * step for step: counter-clockwise about the image center, same size (no expand), the inverse affine matrix with
 * Pillow's rounding of cos and sin to 15 decimals, each output pixel center mapped back and sampled bilinearly with
 * edge clamping, values truncated to bytes, and black where the source point falls outside the image.
 */
export function rotateBilinear(image: RgbImage, degrees: number): RgbImage {
  if (!Number.isFinite(degrees)) throw new Error(`Cannot rotate an image by ${degrees} degrees.`);
  const turned = exactTurn(image, degrees);
  if (turned) return turned;
  const { width, height, data } = image;
  const matrix = rotationMatrix(width, height, degrees);
  const [a, b, c, d, e, f] = matrix;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sourceX = a * (x + 0.5) + b * (y + 0.5) + c;
      const sourceY = d * (x + 0.5) + e * (y + 0.5) + f;
      if (sourceX < 0 || sourceX >= width || sourceY < 0 || sourceY >= height) continue;
      sampleBilinear(data, width, height, sourceX - 0.5, sourceY - 0.5, out, (y * width + x) * 3);
    }
  }
  return rgbImage(width, height, out);
}

/** Pillow's `rotate`: the matrix maps output coordinates to input ones, about (width / 2, height / 2). */
function rotationMatrix(width: number, height: number, degrees: number): [number, number, number, number, number, number] {
  const angle = -((degrees % 360) * Math.PI) / 180;
  const round15 = (value: number) => Number(value.toFixed(15));
  const a = round15(Math.cos(angle));
  const b = round15(Math.sin(angle));
  const d = round15(-Math.sin(angle));
  const e = round15(Math.cos(angle));
  const centerX = width / 2;
  const centerY = height / 2;
  return [a, b, a * -centerX + b * -centerY + centerX, d, e, d * -centerX + e * -centerY + centerY];
}

/** Pillow's BILINEAR_HEAD and BILINEAR_BODY: clamped columns, and the row below replaced by the row itself at the edge. */
function sampleBilinear(data: Uint8Array, width: number, height: number, x: number, y: number, out: Uint8Array, at: number): void {
  const left = Math.floor(x);
  const top = Math.floor(y);
  const dx = x - left;
  const dy = y - top;
  const clampX = (value: number) => (value < 0 ? 0 : value >= width ? width - 1 : value);
  const row = top < 0 ? 0 : top >= height ? height - 1 : top;
  const x0 = clampX(left) * 3;
  const x1 = clampX(left + 1) * 3;
  const hasNextRow = top + 1 >= 0 && top + 1 < height;
  for (let channel = 0; channel < 3; channel++) {
    const upper = row * width * 3 + channel;
    const p0 = data[upper + x0]!;
    const v1 = p0 + (data[upper + x1]! - p0) * dx;
    let v2 = v1;
    if (hasNextRow) {
      const lower = (top + 1) * width * 3 + channel;
      const q0 = data[lower + x0]!;
      v2 = q0 + (data[lower + x1]! - q0) * dx;
    }
    out[at + channel] = Math.trunc(v1 + (v2 - v1) * dy);
  }
}

/** Pillow rotates by 0 and 180 degrees (and 90 and 270 for a square) by transposing, not by resampling. */
function exactTurn(image: RgbImage, degrees: number): RgbImage | undefined {
  const turn = ((degrees % 360) + 360) % 360;
  if (turn === 0) return rgbImage(image.width, image.height, image.data.slice());
  if (turn === 180) return transposed(image, (x, y) => [image.width - 1 - x, image.height - 1 - y]);
  if (image.width !== image.height) return undefined;
  // Counter-clockwise by 90: the output pixel (x, y) comes from (width - 1 - y, x).
  if (turn === 90) return transposed(image, (x, y) => [image.width - 1 - y, x]);
  if (turn === 270) return transposed(image, (x, y) => [y, image.height - 1 - x]);
  return undefined;
}

function transposed(image: RgbImage, sourceOf: (x: number, y: number) => [number, number]): RgbImage {
  const out = new Uint8Array(image.data.length);
  for (let y = 0; y < image.height; y++)
    for (let x = 0; x < image.width; x++) {
      const [sourceX, sourceY] = sourceOf(x, y);
      const from = (sourceY * image.width + sourceX) * 3;
      out.set(image.data.subarray(from, from + 3), (y * image.width + x) * 3);
    }
  return rgbImage(image.width, image.height, out);
}
