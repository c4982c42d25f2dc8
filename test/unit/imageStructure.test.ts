import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { decodeImageBytes } from '../../src/trainer/images/decodeImage';
import * as zlib from 'node:zlib';
import { imageStructureProblem, tableCrc32 } from '../../src/trainer/images/imageStructure';
import { jpegBytes, pngBytes, rgbaPixels } from '../helpers/imageFiles';

/*
 * The load-time check of image files: it must find every cut of a PNG or JPEG that the full decoder refuses, pass
 * every whole file, and name what is wrong.
 */

const files = {
  png: pngBytes(23, 17, 3),
  // Grayscale and palette-free 16-bit PNGs have other chunk layouts; pngjs writes several IDATs for a large image.
  grayPng: PNG.sync.write(Object.assign(new PNG({ width: 40, height: 30, colorType: 0 }), { data: rgbaPixels(40, 30, 5) }), {
    colorType: 0,
  }),
  jpeg: jpegBytes(23, 17, 3),
  largeJpeg: jpegBytes(64, 48, 9),
};

describe('imageStructureProblem', () => {
  for (const [name, bytes] of Object.entries(files)) {
    it(`passes the whole ${name} and refuses every truncation of it, as the full decoder does`, () => {
      assert.equal(imageStructureProblem(bytes), undefined);
      assert.doesNotThrow(() => decodeImageBytes(bytes, name));
      for (let cut = 0; cut < bytes.length; cut++) {
        const problem = imageStructureProblem(bytes.subarray(0, cut));
        assert.ok(problem !== undefined, `${name} cut to ${cut} of ${bytes.length} bytes passed`);
      }
    });
  }

  it('names an empty file, a text file, a truncated PNG and JPEG, and a damaged PNG chunk', () => {
    assert.equal(imageStructureProblem(new Uint8Array()), 'is empty (0 bytes)');
    assert.match(imageStructureProblem(Buffer.from('just text, named .jpg'))!, /neither a PNG nor a JPEG/);
    assert.match(imageStructureProblem(files.png.subarray(0, files.png.length - 30))!, /truncated PNG/);
    assert.match(imageStructureProblem(files.jpeg.subarray(0, files.jpeg.length - 30))!, /truncated JPEG/);
    const damaged = Buffer.from(files.png);
    const inData = damaged.length - 20;
    damaged[inData] = damaged[inData]! ^ 0xff;
    assert.match(imageStructureProblem(damaged)!, /CRC of its \w+ chunk is wrong/);
    assert.throws(() => decodeImageBytes(damaged, 'damaged'));
  });

  it("computes PNG's CRC-32 without zlib's as zlib does, for a Node without zlib.crc32", () => {
    for (const bytes of [new Uint8Array(), Buffer.from('IEND'), files.png, files.jpeg])
      assert.equal(tableCrc32(bytes), zlib.crc32(bytes) >>> 0);
  });

  it('costs a few milliseconds at most for a 640×480 JPEG', () => {
    const photo = jpegBytes(640, 480, 1);
    const started = performance.now();
    for (let i = 0; i < 20; i++) assert.equal(imageStructureProblem(photo), undefined);
    const perImage = (performance.now() - started) / 20;
    assert.ok(perImage < 5, `${perImage.toFixed(2)} ms per image`);
  });
});
