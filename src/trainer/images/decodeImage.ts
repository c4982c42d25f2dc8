import { readFileSync, statSync } from 'node:fs';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { rgbFromRgba, type RgbImage } from './rgbImage';

/**
 * Decodes PNG and JPEG files to 8-bit RGB with pure-JS decoders (pngjs, jpeg-js), so that images load on every
 * platform the extension runs on without a native addon. Grayscale, palette and RGBA images all become RGB; alpha is
 * dropped as PIL's `convert("RGB")` drops it, which is what transformers' image processors see.
 *
 * Every failure throws an `ImageDecodeError` naming the file, so data loading can treat the image as a bad row.
 */

export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`Image ${file}: ${problem}`);
    this.name = 'ImageDecodeError';
  }
}

export type ImageFormat = 'png' | 'jpeg';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

/** jpeg-js's own guards against a header that claims a huge image; a real dataset image is far below both. */
const MAX_JPEG_MEGAPIXELS = 100;
const MAX_JPEG_MEMORY_MB = 1024;

/** The format the file's first bytes announce (not its extension, which a dataset can get wrong), or undefined. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const startsWith = (signature: number[]) => bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte);
  if (startsWith(PNG_SIGNATURE)) return 'png';
  if (startsWith(JPEG_SIGNATURE)) return 'jpeg';
  return undefined;
}

/** Reads and decodes one image file; a folder, a device, an empty file or a broken image throws an `ImageDecodeError`. */
export function decodeImageFile(path: string): RgbImage {
  let bytes: Buffer;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ImageDecodeError(path, 'is not a regular file.');
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    throw new ImageDecodeError(path, `cannot be read (${(error as Error).message}).`);
  }
  return decodeImageBytes(bytes, path);
}

/** Decodes a whole PNG or JPEG held in memory; `source` names it in errors. */
export function decodeImageBytes(bytes: Uint8Array, source: string): RgbImage {
  if (bytes.length === 0) throw new ImageDecodeError(source, 'is empty (0 bytes).');
  const format = sniffImageFormat(bytes);
  if (format === undefined) throw new ImageDecodeError(source, 'is neither a PNG nor a JPEG (its first bytes match neither signature).');
  try {
    return format === 'png' ? decodePng(bytes) : decodeJpeg(bytes);
  } catch (error) {
    throw new ImageDecodeError(
      source,
      `is not a readable ${format.toUpperCase()}; it may be truncated or corrupt (${(error as Error).message}).`,
    );
  }
}

function decodePng(bytes: Uint8Array): RgbImage {
  // pngjs widens grayscale and palette images to RGBA and scales 16-bit samples down to 8 bits.
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return rgbFromRgba(png.width, png.height, png.data);
}

function decodeJpeg(bytes: Uint8Array): RgbImage {
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: MAX_JPEG_MEGAPIXELS,
    maxMemoryUsageInMB: MAX_JPEG_MEMORY_MB,
  });
  return rgbFromRgba(decoded.width, decoded.height, decoded.data);
}
