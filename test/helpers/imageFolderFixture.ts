import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A deterministic RGBA picture that differs by `seed` and is asymmetric, so flips and crops change its pixels. */
export function testPicture(width: number, height: number, seed: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / Math.max(1, width - 1);
      data[i + 1] = (y * 255) / Math.max(1, height - 1);
      data[i + 2] = (seed * 53 + (x < width / 3 && y < height / 2 ? 200 : 20)) % 256;
      data[i + 3] = 255;
    }
  }
  return data;
}

export function pngFile(width: number, height: number, seed = 0): Buffer {
  const png = new PNG({ width, height });
  testPicture(width, height, seed).copy(png.data);
  return PNG.sync.write(png);
}

export function jpegFile(width: number, height: number, seed = 0): Buffer {
  return Buffer.from(jpeg.encode({ width, height, data: testPicture(width, height, seed) }, 90).data);
}

/** Writes `<root>/<class>/<class>_<i>.png|jpg` for each class and count, alternating PNG and JPEG; returns the root. */
export function writeImageFolder(root: string, counts: Readonly<Record<string, number>>, size: [number, number] = [20, 16]): string {
  mkdirSync(root, { recursive: true });
  for (const [name, count] of Object.entries(counts)) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < count; i++) {
      const asJpeg = i % 2 === 1;
      writeFileSync(
        join(root, name, `${name}_${i}.${asJpeg ? 'jpg' : 'png'}`),
        asJpeg ? jpegFile(size[0], size[1], i) : pngFile(size[0], size[1], i),
      );
    }
  }
  return root;
}
