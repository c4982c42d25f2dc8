import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PNG } from 'pngjs';
import { readImageProcessorSettings } from '../../src/trainer/images/imageProcessorConfig';
import { ImagePipeline } from '../../src/trainer/images/imagePipeline';
import { buildRandomResNetFolder } from '../../src/trainer/model/resnet/randomResNetFolder';
import { loadResNetFolder } from '../../src/trainer/model/resnet/resnetFolder';
import { TempWorkspace } from '../helpers/tempWorkspace';

const CLI = resolve(__dirname, '../../dist/cli.js');

function png(width: number, height: number, seed: number): Buffer {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height * 4; i++) image.data[i] = i % 4 === 3 ? 255 : (i * 37 + seed * 101) % 256;
  return PNG.sync.write(image);
}

function encode(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [CLI, 'encode', ...args, '--backend', 'cpu'], { cwd, encoding: 'utf8', timeout: 120_000 });
}

type Line = { image: string; embedding: number[] };
const linesOf = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Line);

describe('embedtune encode on an image model', () => {
  let ws: TempWorkspace;

  before(async () => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built (npm run build)');
    await tf.setBackend('cpu');
    ws = new TempWorkspace();
    buildRandomResNetFolder(ws.path('resnet'), {
      config: { layer_type: 'basic', embedding_size: 8, hidden_sizes: [8, 12], depths: [1, 1] },
      labels: ['a', 'b', 'c'],
      seed: 1,
      randomBatchNorm: true,
      preprocessor: { image_processor_type: 'ViTImageProcessor', size: { height: 32, width: 32 } },
    });
    mkdirSync(ws.path('photos/nested'), { recursive: true });
    writeFileSync(ws.path('photos/b.png'), png(30, 20, 1));
    writeFileSync(ws.path('photos/a.PNG'), png(16, 40, 2));
    writeFileSync(ws.path('photos/nested/c.png'), png(50, 50, 3));
    writeFileSync(ws.path('photos/notes.txt'), 'not an image');
  });
  after(() => ws.dispose());

  it('writes the pooled embedding of every image of a folder, in sorted order, equal to the ResNet pooler in eval mode', () => {
    const result = encode(ws.root, ['resnet', '--in', 'photos', '--out', 'vectors.jsonl', '--batch-size', '2']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /3 image embeddings of dimension 12 from resnet \(transformers ResNet, pooled\)/);
    const lines = linesOf(ws.path('vectors.jsonl'));
    assert.deepEqual(
      lines.map((line) => line.image),
      ['photos/a.PNG', 'photos/b.png', 'photos/nested/c.png'],
    );
    const { model } = loadResNetFolder(ws.path('resnet'));
    const pipeline = new ImagePipeline({
      processor: readImageProcessorSettings(ws.path('resnet')),
      augment: { horizontalFlip: 0, verticalFlip: 0, rotation: 0 },
    });
    const examples = lines.map((line, index) => ({ image: ws.path(line.image), label: '', source: line.image, index }));
    const pixels = pipeline.pixels(examples, { augment: false });
    const expected = tf.tidy(() => model.forward(tf.tensor4d(pixels.data, pixels.shape)).pooled.arraySync());
    lines.forEach((line, i) => {
      assert.equal(line.embedding.length, 12);
      line.embedding.forEach((value, d) => assert.ok(Math.abs(value - expected[i]![d]!) < 1e-5, `${line.image}[${d}]`));
    });
  });

  it('reads a list of image paths relative to the list, and names an unreadable image', () => {
    writeFileSync(ws.path('photos/list.txt'), 'nested/c.png\nb.png\n');
    const listed = encode(ws.root, ['resnet', '--in', 'photos/list.txt', '--out', 'listed.jsonl']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(
      linesOf(ws.path('listed.jsonl')).map((line) => line.image),
      ['photos/nested/c.png', 'photos/b.png'],
    );
    writeFileSync(ws.path('photos/broken.png'), png(8, 8, 4).subarray(0, 40));
    const broken = encode(ws.root, ['resnet', '--in', 'photos', '--out', 'broken.jsonl']);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /broken\.png/);
  });
});
