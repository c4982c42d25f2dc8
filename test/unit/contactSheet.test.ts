import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { encodeContactSheet, sheetSize, tileOrigin } from '../../src/trainer/images/contactSheet';
import { glyphOf } from '../../src/trainer/images/pixelFont';
import { rgbImage, type RgbImage } from '../../src/trainer/images/rgbImage';

function solid(width: number, height: number, color: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(color, i * 3);
  return rgbImage(width, height, data);
}

function pixelAt(png: PNG, x: number, y: number): number[] {
  const i = (y * png.width + x) * 4;
  return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
}

describe('contact sheet', () => {
  it('lays tiles out as rows × columns, each picture centered in its tile with its aspect ratio kept', () => {
    const red = solid(40, 20, [200, 0, 0]);
    const green = solid(10, 10, [0, 180, 0]);
    const blue = solid(7, 30, [0, 0, 220]);
    const { png, layout } = encodeContactSheet(
      [
        [red, green, blue],
        [green, undefined, red],
      ],
      { tile: 32, gap: 2 },
    );
    const sheet = PNG.sync.read(png);
    assert.deepEqual({ width: sheet.width, height: sheet.height }, sheetSize(layout));
    assert.deepEqual({ width: sheet.width, height: sheet.height }, { width: 3 * 32 + 4 * 2, height: 2 * 32 + 3 * 2 });
    const center = (r: number, c: number) => {
      const { x, y } = tileOrigin(layout, r, c);
      return pixelAt(sheet, x + 16, y + 16);
    };
    assert.deepEqual(center(0, 0), [200, 0, 0]);
    assert.deepEqual(center(0, 1), [0, 180, 0]);
    assert.deepEqual(center(0, 2), [0, 0, 220]);
    assert.deepEqual(center(1, 1), [64, 64, 64], 'a missing picture leaves a blank tile');
    // The 40×20 picture fills the tile's width and half its height, centered: the tile's top rows stay blank.
    const { x, y } = tileOrigin(layout, 0, 0);
    assert.deepEqual(pixelAt(sheet, x + 16, y + 2), [64, 64, 64]);
    assert.deepEqual(pixelAt(sheet, x + 16, y + 9), [200, 0, 0]);
    assert.deepEqual(pixelAt(sheet, 0, 0), [32, 32, 32], 'the gap around the grid');
  });

  it('titles the columns above the grid and each row above its tiles, growing only the height', () => {
    const picture = solid(8, 8, [10, 20, 30]);
    const plain = PNG.sync.read(encodeContactSheet([[picture, picture]], { tile: 40, gap: 2 }).png);
    const { png, layout } = encodeContactSheet([[picture, picture]], {
      tile: 40,
      gap: 2,
      columnTitles: ['original', 'cleaned'],
      rowTitles: ['1 dent dent/0.png'],
    });
    const titled = PNG.sync.read(png);
    assert.equal(titled.width, plain.width);
    assert.equal(titled.height, plain.height + 2 * layout.label);
    const inkIn = (top: number, bottom: number) => {
      let ink = 0;
      for (let y = top; y < bottom; y++) for (let x = 0; x < titled.width; x++) if (pixelAt(titled, x, y)[0] === 230) ink++;
      return ink;
    };
    assert.ok(inkIn(0, layout.gap + layout.label) > 20, 'column titles drawn');
    assert.ok(inkIn(layout.gap + layout.label, tileOrigin(layout, 0, 0).y) > 20, 'row title drawn');
  });

  it('has a 3×5 glyph for every letter, digit and file-name character, and ? for the rest', () => {
    for (const character of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -._/:()#+=×?,') assert.equal(glyphOf(character).length, 15);
    assert.deepEqual(glyphOf('a'), glyphOf('A'));
    assert.deepEqual(glyphOf('é'), glyphOf('?'));
    assert.notDeepEqual(glyphOf('O'), glyphOf('0'));
  });

  it('refuses an empty sheet', () => {
    assert.throws(() => encodeContactSheet([]), /at least one image/);
  });
});
