import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { readImageProcessorSettings } from '../../src/trainer/images/imageProcessorConfig';
import { readSafetensors } from '../../src/trainer/model/safetensors';
import { buildRandomResNetFolder, RESNET_50_PREPROCESSOR } from '../../src/trainer/model/resnet/randomResNetFolder';
import { loadResNetFolder } from '../../src/trainer/model/resnet/resnetFolder';
import { writeTransformersFolder } from '../../src/trainer/model/resnet/transformersResNetFolder';
import { TempWorkspace } from '../helpers/tempWorkspace';

const SMALL = { layer_type: 'bottleneck', embedding_size: 8, hidden_sizes: [16, 32], depths: [1, 2] };
const PREPROCESSOR = { ...RESNET_50_PREPROCESSOR, size: { shortest_edge: 40 } };

describe('ResNet folders written in transformers’ layout', () => {
  const workspace = new TempWorkspace();
  before(async () => {
    await selectBackend('cpu');
  });
  after(() => workspace.dispose());

  it('builds a seeded random ResNetForImageClassification folder that the loader reads, the same for the same seed', () => {
    const built = buildRandomResNetFolder(workspace.path('random'), { config: SMALL, labels: ['a', 'b'], seed: 3, randomBatchNorm: true });
    const config = JSON.parse(readFileSync(workspace.path('random/config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['model_type'], 'resnet');
    assert.deepEqual(config['architectures'], ['ResNetForImageClassification']);
    assert.deepEqual(config['id2label'], { '0': 'a', '1': 'b' });
    assert.deepEqual(config['label2id'], { a: 0, b: 1 });
    const stem = built.weights.get('resnet.embedder.embedder.convolution.weight')!;
    assert.deepEqual(stem.shape, [8, 3, 7, 7]);
    // kaiming_normal_(fan_out): std √(2 / (8·7·7)) ≈ 0.0714.
    const data = stem.data as Float32Array;
    const std = Math.sqrt(data.reduce((sum, value) => sum + value * value, 0) / data.length);
    assert.ok(Math.abs(std - Math.sqrt(2 / (8 * 49))) < 0.01, `stem std ${std}`);
    const loaded = loadResNetFolder(workspace.path('random'));
    assert.equal(loaded.layout, 'transformers');
    assert.deepEqual(loaded.config.labels, ['a', 'b']);
    assert.deepEqual(readImageProcessorSettings(workspace.path('random')).resize, { shortestEdge: 224 });
    loaded.model.dispose();
    const again = buildRandomResNetFolder(workspace.path('again'), { config: SMALL, labels: ['a', 'b'], seed: 3, randomBatchNorm: true });
    assert.deepEqual(again.weights.get('classifier.1.weight')!.data, built.weights.get('classifier.1.weight')!.data);
  });

  it('writes a folder that loads back with the same logits, labels and config, kernels in PyTorch’s [out, in, kh, kw]', async () => {
    buildRandomResNetFolder(workspace.path('base'), { config: SMALL, labels: ['x', 'y'], seed: 5, randomBatchNorm: true });
    const { model } = loadResNetFolder(workspace.path('base'));
    model.withClassifier(['crack', 'scratch', 'dent', 'ok'], 11);
    const input = tf.randomUniform([2, 40, 40, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
    model.forward(input, { training: true });
    model.updateRunningStatistics();
    const logits = model.forward(input).logits!.arraySync();

    const out = workspace.path('exported');
    await writeTransformersFolder(out, model, PREPROCESSOR);
    const reloaded = loadResNetFolder(out);
    assert.deepEqual(reloaded.config, model.config);
    assert.deepEqual(reloaded.model.forward(input).logits!.arraySync(), logits);
    const tensors = readSafetensors(join(out, 'model.safetensors')).tensors;
    assert.deepEqual(tensors.get('resnet.encoder.stages.1.layers.0.layer.1.convolution.weight')!.shape, [8, 8, 3, 3]);
    assert.deepEqual(tensors.get('resnet.encoder.stages.0.layers.0.shortcut.convolution.weight')!.shape, [16, 8, 1, 1]);
    assert.deepEqual(tensors.get('classifier.1.weight')!.shape, [4, 32]);
    assert.equal(tensors.get('resnet.embedder.embedder.normalization.num_batches_tracked')!.data[0], 1n);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'preprocessor_config.json'), 'utf8')), PREPROCESSOR);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(config['id2label'], { '0': 'crack', '1': 'scratch', '2': 'dent', '3': 'ok' });
    const frozen = loadResNetFolder(out, (name) => name.startsWith('classifier.'), { freezeBatchNorm: true }).model;
    assert.equal(frozen.freezeBatchNorm, true);
    assert.deepEqual([...frozen.trainableVariables.keys()], ['classifier.1.weight', 'classifier.1.bias']);
    tf.dispose(input);
    [model, reloaded.model, frozen].forEach((m) => m.dispose());
  });
});
