import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Small real image files for tests, made with pngjs and jpeg-js so that no binary is committed. */

/** RGBA pixels of a width × height picture whose color depends on (x, y) and `shade`. */
export function rgbaPixels(width: number, height: number, shade = 0): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data.set([(x * 37 + shade) % 256, (y * 53 + shade * 3) % 256, (x * y + shade * 7) % 256, 255], (y * width + x) * 4);
  return data;
}

export function pngBytes(width: number, height: number, shade = 0): Buffer {
  const png = new PNG({ width, height });
  rgbaPixels(width, height, shade).copy(png.data);
  return PNG.sync.write(png);
}

export function jpegBytes(width: number, height: number, shade = 0): Buffer {
  return Buffer.from(jpeg.encode({ width, height, data: rgbaPixels(width, height, shade) }, 95).data);
}

export function writeBytes(path: string, bytes: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}
