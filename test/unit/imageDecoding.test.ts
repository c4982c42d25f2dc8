import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImageBytes, decodeImageFile, ImageDecodeError } from '../../src/trainer/images/decodeImage';
import { TempWorkspace } from '../helpers/tempWorkspace';

const WIDTH = 16;
const HEIGHT = 12;

/** A deterministic RGBA test card whose alpha varies, so that dropping (not compositing) alpha shows. */
function rgbaPixels(): Buffer {
  const data = Buffer.alloc(WIDTH * HEIGHT * 4);
  for (let pixel = 0; pixel < WIDTH * HEIGHT; pixel++) {
    data[pixel * 4] = (pixel * 37) % 256;
    data[pixel * 4 + 1] = (pixel * 11 + 90) % 256;
    data[pixel * 4 + 2] = 255 - ((pixel * 5) % 256);
    data[pixel * 4 + 3] = (pixel * 13) % 256;
  }
  return data;
}

function pngBytes(options: { colorType?: 0 | 2 | 4 | 6 } = {}): Buffer {
  const png = new PNG({ width: WIDTH, height: HEIGHT });
  rgbaPixels().copy(png.data);
  return PNG.sync.write(png, { colorType: options.colorType ?? 6 });
}

function jpegBytes(): Buffer {
  return Buffer.from(jpeg.encode({ width: WIDTH, height: HEIGHT, data: rgbaPixels() }, 95).data);
}

describe('image decoding', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  const file = (name: string, bytes: Uint8Array): string => {
    const path = workspace.path(name);
    mkdirSync(workspace.root, { recursive: true });
    writeFileSync(path, bytes);
    return path;
  };

  it('decodes an RGBA PNG to its RGB values, dropping alpha as PIL does', () => {
    const image = decodeImageFile(file('card.png', pngBytes()));
    const rgba = rgbaPixels();
    assert.deepEqual([image.width, image.height, image.data.length], [WIDTH, HEIGHT, WIDTH * HEIGHT * 3]);
    for (let pixel = 0; pixel < WIDTH * HEIGHT; pixel++) {
      assert.deepEqual(
        [...image.data.subarray(pixel * 3, pixel * 3 + 3)],
        [rgba[pixel * 4], rgba[pixel * 4 + 1], rgba[pixel * 4 + 2]],
        `pixel ${pixel}`,
      );
    }
  });

  it('turns a grayscale PNG into RGB with the gray level in every channel', () => {
    const image = decodeImageFile(file('gray.png', pngBytes({ colorType: 0 })));
    assert.deepEqual([image.width, image.height], [WIDTH, HEIGHT]);
    for (let pixel = 0; pixel < WIDTH * HEIGHT; pixel++) {
      const [red, green, blue] = image.data.subarray(pixel * 3, pixel * 3 + 3);
      assert.ok(red === green && green === blue, `pixel ${pixel} is gray`);
    }
    const levels = new Set(image.data);
    assert.ok(levels.size > 10, 'the gray levels vary across the image');
  });

  it('decodes a JPEG to RGB close to the pixels it encoded', () => {
    const image = decodeImageFile(file('card.jpg', jpegBytes()));
    assert.deepEqual([image.width, image.height, image.data.length], [WIDTH, HEIGHT, WIDTH * HEIGHT * 3]);
    const rgba = rgbaPixels();
    let total = 0;
    for (let pixel = 0; pixel < WIDTH * HEIGHT; pixel++) {
      for (let channel = 0; channel < 3; channel++) total += Math.abs(image.data[pixel * 3 + channel]! - rgba[pixel * 4 + channel]!);
    }
    // A noisy 16×12 card at quality 95: lossy, but nowhere near random.
    assert.ok(total / (WIDTH * HEIGHT * 3) < 40, `mean error ${total / (WIDTH * HEIGHT * 3)}`);
  });

  it('sniffs the format from the bytes, not the extension', () => {
    const image = decodeImageFile(file('actually-a-png.jpg', pngBytes()));
    assert.equal(image.width, WIDTH);
  });

  it('names the file when a PNG is truncated, at any cut', () => {
    const whole = pngBytes();
    for (const cut of [whole.length - 12, Math.floor(whole.length / 2), 40, 9]) {
      const path = file(`truncated-${cut}.png`, whole.subarray(0, cut));
      assert.throws(
        () => decodeImageFile(path),
        (error: unknown) =>
          error instanceof ImageDecodeError &&
          error.file === path &&
          error.message.includes(path) &&
          /truncated or corrupt/.test(error.message),
        `cut at ${cut} of ${whole.length} bytes`,
      );
    }
  });

  it('names the file when a JPEG is truncated, at any cut', () => {
    const whole = jpegBytes();
    for (const cut of [whole.length - 2, Math.floor(whole.length / 2), 200, 4]) {
      const path = file(`truncated-${cut}.jpg`, whole.subarray(0, cut));
      assert.throws(
        () => decodeImageFile(path),
        (error: unknown) => error instanceof ImageDecodeError && error.message.includes(path) && /JPEG/.test(error.message),
        `cut at ${cut} of ${whole.length} bytes`,
      );
    }
  });

  it('names the file when it is empty', () => {
    const path = file('empty.png', new Uint8Array(0));
    assert.throws(() => decodeImageFile(path), { name: 'ImageDecodeError', message: `Image ${path}: is empty (0 bytes).` });
  });

  it('names the file when it is neither PNG nor JPEG, missing, or a folder', () => {
    const text = file('notes.png', Buffer.from('not an image at all'));
    assert.throws(
      () => decodeImageFile(text),
      (error: unknown) =>
        error instanceof ImageDecodeError && error.message.includes(text) && /neither a PNG nor a JPEG/.test(error.message),
    );
    const missing = workspace.path('missing.png');
    assert.throws(
      () => decodeImageFile(missing),
      (error: unknown) => error instanceof ImageDecodeError && error.message.includes(missing) && /cannot be read/.test(error.message),
    );
    const folder = workspace.path('a-folder.png');
    mkdirSync(folder);
    assert.throws(
      () => decodeImageFile(folder),
      (error: unknown) => error instanceof ImageDecodeError && error.message.includes(folder) && /not a regular file/.test(error.message),
    );
  });

  it('decodes bytes held in memory and names the given source on failure', () => {
    assert.equal(decodeImageBytes(new Uint8Array(pngBytes()), 'row 3').height, HEIGHT);
    assert.throws(
      () => decodeImageBytes(new Uint8Array(jpegBytes().subarray(0, 100)), 'row 3'),
      /^ImageDecodeError: Image row 3: is not a readable JPEG/,
    );
  });
});
