import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { sheetSize, tileOrigin, type ContactSheetLayout } from '../../src/trainer/images/contactSheet';
import { writeImageFolder } from '../helpers/imageFolderFixture';
import { TempWorkspace } from '../helpers/tempWorkspace';

/** embedtune preview-data on an image config, as a real child process: the contact sheet it writes and what it prints. */

const CLI = resolve(__dirname, '../../dist/cli.js');

/** A transformers ResNet folder's two JSON files; preview-data reads only the preprocessing from it. */
const RESNET_CONFIG = {
  model_type: 'resnet',
  architectures: ['ResNetForImageClassification'],
  num_channels: 3,
  embedding_size: 8,
  hidden_sizes: [8, 8, 8, 8],
  depths: [1, 1, 1, 1],
  layer_type: 'basic',
  hidden_act: 'relu',
  downsample_in_first_stage: false,
};
const PREPROCESSOR = {
  image_processor_type: 'ConvNextImageProcessor',
  do_resize: true,
  size: { shortest_edge: 224 },
  crop_pct: 0.875,
  resample: 3,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
};

const config = (augment: string) => `task: image-classification
model:
  base: ./tiny-resnet
data:
  train: ./images/train
preprocess:
  image: { size: 32, crop: 24 }
  augment: ${augment}
`;

function cli(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
}

/** A tile's pixels as RGB triples, row by row. */
function tile(sheet: PNG, layout: ContactSheetLayout, row: number, column: number): number[] {
  const { x, y } = tileOrigin(layout, row, column);
  const pixels: number[] = [];
  for (let dy = 0; dy < layout.tile; dy++)
    for (let dx = 0; dx < layout.tile; dx++) {
      const i = ((y + dy) * sheet.width + x + dx) * 4;
      pixels.push(sheet.data[i]!, sheet.data[i + 1]!, sheet.data[i + 2]!);
    }
  return pixels;
}

function meanAbsoluteDifference(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, value, i) => sum + Math.abs(value - b[i]!), 0) / a.length;
}

/** The tile mirrored left to right. */
function mirrored(pixels: readonly number[], size: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < size; y++) for (let x = size - 1; x >= 0; x--) out.push(...pixels.slice((y * size + x) * 3, (y * size + x) * 3 + 3));
  return out;
}

describe('embedtune preview-data on an image folder, as a real child process', () => {
  const workspace = new TempWorkspace();
  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built (npm run build)');
    workspace.write('tiny-resnet/config.json', JSON.stringify(RESNET_CONFIG));
    workspace.write('tiny-resnet/preprocessor_config.json', JSON.stringify(PREPROCESSOR));
    writeImageFolder(workspace.path('images/train'), { dent: 3, ok: 4, scratch: 3 }, [48, 30]);
    writeImageFolder(workspace.path('images/validation'), { dent: 1, ok: 1, scratch: 1 }, [48, 30]);
    workspace.write('flip.embedtune.yaml', config('{ seed: 3, horizontal_flip: 1.0 }'));
    workspace.write('plain.embedtune.yaml', config('{ seed: 3 }'));
  });
  after(() => workspace.dispose());

  it('writes a contact sheet of rows × (original, cleaned, 4 augmented) tiles and prints its path and legend', () => {
    const result = cli(workspace.root, ['preview-data', 'flip.embedtune.yaml', '--rows', '4', '--sheet', 'out/sheet.png']);
    assert.equal(result.status, 0, result.stderr);
    const path = /^Contact sheet: (.+\.png)$/m.exec(result.stdout)?.[1];
    assert.equal(path, join(workspace.root, 'out', 'sheet.png'));
    assert.match(result.stdout, /^ {2}4 row\(s\) × 6 column\(s\) of 128×128 tiles$/m);
    assert.match(result.stdout, /cleaned \(resized and cropped to 24×24, as validation sees it\)/);
    assert.match(result.stdout, /augmented as training epochs 1–4 draw it \(preprocess\.augment, seed 3/);
    // Rows are spread over the classes, not the first four files of the sorted folder.
    assert.match(result.stdout, /^ {4} 1 {2}dent +images\/train\/dent\/dent_0\.png \(48×30\)$/m);
    assert.match(result.stdout, /^ {4} 2 {2}ok +images\/train\/ok\/ok_0\.png/m);
    assert.match(result.stdout, /^ {4} 3 {2}scratch +images\/train\/scratch\/scratch_0\.png/m);
    assert.match(result.stdout, /^training images: 10; validation images: 3 \(from sibling folder\)$/m);

    const sheet = PNG.sync.read(readFileSync(path!));
    const layout: ContactSheetLayout = { tile: 128, gap: 4, rows: 4, columns: 6, label: 14 };
    assert.deepEqual({ width: sheet.width, height: sheet.height }, sheetSize(layout));
    for (let row = 0; row < 4; row++) {
      const original = tile(sheet, layout, row, 0);
      const cleaned = tile(sheet, layout, row, 1);
      const augmented = tile(sheet, layout, row, 2);
      assert.ok(
        meanAbsoluteDifference(original, cleaned) > 5,
        `row ${row}: the 48×30 original is letterboxed, the 24×24 crop fills its tile`,
      );
      assert.ok(meanAbsoluteDifference(cleaned, augmented) > 20, `row ${row}: the augmented tile differs from the cleaned one`);
      // horizontal_flip: 1.0 mirrors every draw, and nothing else is drawn.
      assert.ok(
        meanAbsoluteDifference(mirrored(cleaned, 128), augmented) < 2,
        `row ${row}: the augmented tile is the cleaned one mirrored`,
      );
    }
  });

  it('leaves out the augmented columns, and says why, when preprocess.augment sets no image augmentation', () => {
    const result = cli(workspace.root, ['preview-data', 'plain.embedtune.yaml', '--rows', '2', '--sheet', 'out/plain.png']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /no augmented columns: preprocess\.augment sets no image augmentation/);
    const sheet = PNG.sync.read(readFileSync(workspace.path('out/plain.png')));
    assert.deepEqual({ width: sheet.width, height: sheet.height }, sheetSize({ tile: 128, gap: 4, rows: 2, columns: 2, label: 14 }));
  });

  it('says which preprocess.image keys to write when the model folder is not on this machine', () => {
    writeFileSync(workspace.path('hub.embedtune.yaml'), config('{ seed: 3 }').replace('./tiny-resnet', 'microsoft/resnet-50'));
    const result = cli(workspace.root, ['preview-data', 'hub.embedtune.yaml', '--sheet', 'out/hub.png']);
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stderr, /^embedtune preview-data: .*write preprocess\.image size, mean and std/m);
    assert.equal(existsSync(workspace.path('out/hub.png')), false);
  });

  it('fails naming the image folder when it is missing', () => {
    writeFileSync(workspace.path('missing.embedtune.yaml'), config('{ seed: 3 }').replace('./images/train', './images/absent'));
    const result = cli(workspace.root, ['preview-data', 'missing.embedtune.yaml']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /absent/);
  });
});
