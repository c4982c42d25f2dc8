import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { batchNormTraining } from '../../src/trainer/model/resnet/batchNormTraining';
import { parseResNetConfig } from '../../src/trainer/model/resnet/resnetConfig';
import { backboneNames } from '../../src/trainer/model/resnet/resnetFolder';
import { resnetStageOf, resnetTrainable } from '../../src/trainer/model/resnet/resnetFreezing';
import { ResNet } from '../../src/trainer/model/resnet/resnetModel';
import { randomResNetWeights } from '../../src/trainer/model/resnet/randomResNetFolder';

const CONFIG = parseResNetConfig(
  {
    model_type: 'resnet',
    layer_type: 'basic',
    embedding_size: 4,
    hidden_sizes: [4, 8],
    depths: [1, 2],
    downsample_in_first_stage: true,
  },
  'config.json',
);
const LABELS = ['crack', 'scratch', 'ok'];
const STEM = 'resnet.embedder.embedder';

function model(options: { freezeBatchNorm?: boolean; trainable?: (name: string) => boolean } = {}): ResNet {
  const weights = randomResNetWeights({ ...CONFIG, labels: LABELS }, 5, true);
  return ResNet.fromWeights({ ...CONFIG, labels: LABELS }, backboneNames(weights), options.trainable, options);
}

function pixels(seed = 3): tf.Tensor4D {
  return tf.randomUniform([3, 32, 32, 3], -1, 1, 'float32', seed) as tf.Tensor4D;
}

function values(variable: tf.Tensor | undefined): number[] {
  return Array.from(variable!.dataSync());
}

function close(actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((value, i) =>
    assert.ok(Math.abs(value - expected[i]!) <= tolerance, `${what}[${i}]: ${value} vs ${expected[i]} (tolerance ${tolerance})`),
  );
}

/** The stem's convolution output, computed here with tfjs's stock conv2d, for statistics worked out by hand. */
function stemConvolution(net: ResNet, input: tf.Tensor4D): tf.Tensor4D {
  const padded = tf.pad(input, [
    [0, 0],
    [3, 3],
    [3, 3],
    [0, 0],
  ]);
  return tf.conv2d(padded, net.variables.get(`${STEM}.convolution.weight`) as tf.Tensor4D, 2, 'valid');
}

/** Gradients of Σ logits² in training mode, by the model's variable names (variableGrads keys them by tfjs's own). */
function trainingGradients(net: ResNet, input: tf.Tensor4D): Record<string, tf.Tensor> {
  const trainable = net.trainableVariables;
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.square(net.forward(input, { training: true }).logits!)) as tf.Scalar,
    [...trainable.values()],
  );
  return Object.fromEntries([...trainable].map(([name, variable]) => [name, grads[variable.name]!]));
}

describe('ResNet training mode', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  it("normalizes by the batch's mean and biased variance, with the gradient of the written-out formula equal to autodiff's", () => {
    const x = tf.randomNormal([2, 3, 5, 4], 1.5, 2, 'float32', 9) as tf.Tensor4D;
    const gamma = tf.tensor1d([0.5, 1.5, -1, 2]);
    const beta = tf.tensor1d([0.1, -0.2, 0.3, 0]);
    const upstream = tf.randomNormal([2, 3, 5, 4], 0, 1, 'float32', 10);
    const reference = (input: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(input, [0, 1, 2]);
      return tf.add(tf.mul(tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    };
    const ours = batchNormTraining(x, gamma, beta, 1e-5);
    close(values(ours.output), values(reference(x, gamma, beta)), 1e-5, 'output');
    const columns = tf.reshape(x, [-1, 4]).arraySync() as number[][];
    const mean = [0, 1, 2, 3].map((c) => columns.reduce((sum, row) => sum + row[c]!, 0) / 30);
    const biased = [0, 1, 2, 3].map((c) => columns.reduce((sum, row) => sum + (row[c]! - mean[c]!) ** 2, 0) / 30);
    close(values(ours.statistics.mean), mean, 1e-5, 'batch mean');
    close(values(ours.statistics.variance), biased, 1e-4, 'biased batch variance');
    assert.equal(ours.statistics.count, 30);

    const grads = (f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c), upstream)))([x, gamma, beta]);
    const custom = grads((a, b, c) => batchNormTraining(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, 1e-5).output);
    const auto = grads(reference);
    ['dx', 'dgamma', 'dbeta'].forEach((name, i) => close(values(custom[i]), values(auto[i]), 1e-4, name));
    // dx sums to zero per channel: a shift of a whole channel is normalized away.
    const dxByChannel = tf.sum(custom[0]!, [0, 1, 2]).arraySync() as number[];
    close(dxByChannel, [0, 0, 0, 0], 1e-4, 'Σ dx per channel');
  });

  it('updates the running statistics as PyTorch does (momentum 0.1, unbiased variance) only when asked, after the step', () => {
    const net = model();
    const input = pixels();
    const runningMean = values(net.variables.get(`${STEM}.normalization.running_mean`));
    const runningVar = values(net.variables.get(`${STEM}.normalization.running_var`));
    const out = net.forward(input, { training: true });
    // Held, not yet applied: the forward pass leaves the running statistics alone.
    close(values(net.variables.get(`${STEM}.normalization.running_mean`)), runningMean, 0, 'running mean before the update');
    // The stem, stage 0's layer (two convolutions and a shortcut), stage 1's two layers (3 + 2).
    assert.equal(net.updateRunningStatistics(), 1 + 3 + 3 + 2);

    const convolved = stemConvolution(net, input);
    const { mean, variance } = tf.moments(convolved, [0, 1, 2]);
    const count = 3 * 16 * 16;
    const expectedMean = values(mean).map((m, c) => 0.9 * runningMean[c]! + 0.1 * m);
    const expectedVar = values(variance).map((v, c) => 0.9 * runningVar[c]! + 0.1 * v * (count / (count - 1)));
    close(values(net.variables.get(`${STEM}.normalization.running_mean`)), expectedMean, 1e-5, 'running mean');
    close(values(net.variables.get(`${STEM}.normalization.running_var`)), expectedVar, 1e-5, 'running var');
    assert.equal(net.updateRunningStatistics(), 0, 'a second update without a forward pass changes nothing');
    tf.dispose([out.lastHiddenState, out.pooled, out.logits!, input]);
    net.dispose();
  });

  it('uses batch statistics in training (outputs differ from eval mode) and counts num_batches_tracked', async () => {
    const net = model();
    const input = pixels();
    const evalLogits = values(net.forward(input).logits);
    const trainLogits = values(net.forward(input, { training: true }).logits);
    assert.ok(
      trainLogits.some((value, i) => Math.abs(value - evalLogits[i]!) > 1e-3),
      'train-mode logits differ from eval-mode ones',
    );
    net.updateRunningStatistics();
    const snapshot = await net.snapshot();
    assert.equal(snapshot.get(`${STEM}.normalization.num_batches_tracked`)!.data[0], 1n);
    net.dispose();
  });

  it('refuses a second training pass before the first one’s statistics are applied', () => {
    const net = model();
    net.forward(pixels(), { training: true });
    assert.throws(() => net.forward(pixels(), { training: true }), /call updateRunningStatistics\(\) after each training step/);
    net.discardBatchStatistics();
    net.forward(pixels(), { training: true });
    net.dispose();
  });

  it('with freeze_batch_norm, trains in eval-mode BatchNorm and keeps the running statistics', async () => {
    const net = model({ freezeBatchNorm: true });
    const input = pixels();
    const before = await net.snapshot();
    const evalLogits = values(net.forward(input).logits);
    const trainLogits = values(net.forward(input, { training: true }).logits);
    close(trainLogits, evalLogits, 0, 'frozen BatchNorm: training logits equal eval logits');
    assert.equal(net.updateRunningStatistics(), 0);
    // The BatchNorm's weight and bias still train; only its statistics are frozen.
    const grads = trainingGradients(net, input);
    assert.ok(
      values(grads[`${STEM}.normalization.weight`]).some((g) => g !== 0),
      'gradient reaches the frozen BatchNorm’s weight',
    );
    assert.equal(grads[`${STEM}.normalization.running_mean`], undefined);
    const after = await net.snapshot();
    for (const name of [`${STEM}.normalization.running_mean`, `${STEM}.normalization.running_var`])
      close(Array.from(after.get(name)!.data as Float32Array), Array.from(before.get(name)!.data as Float32Array), 0, name);
    assert.equal(after.get(`${STEM}.normalization.num_batches_tracked`)!.data[0], 0n);
    net.dispose();
  });
});

describe('ResNet head and freezing', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  it("withClassifier puts a new N-class head in the last fully connected layer's place, initialised as torch.nn.Linear from the seed", () => {
    const net = model({ trainable: () => false });
    net.withClassifier(['a', 'b', 'c', 'd'], 42);
    assert.deepEqual(net.config.labels, ['a', 'b', 'c', 'd']);
    const weight = net.variables.get('classifier.1.weight')!;
    assert.deepEqual(weight.shape, [4, 8]);
    assert.equal(weight.trainable, true, 'the new head trains even where the backbone is frozen');
    const bound = 1 / Math.sqrt(8);
    const drawn = [...values(weight), ...values(net.variables.get('classifier.1.bias'))];
    assert.ok(
      drawn.every((value) => Math.abs(value) <= bound),
      'U(−1/√in, 1/√in)',
    );
    assert.ok(Math.max(...drawn.map(Math.abs)) > 0.7 * bound, 'spread over the range, not near zero');
    const again = model().withClassifier(['a', 'b', 'c', 'd'], 42);
    const other = model().withClassifier(['a', 'b', 'c', 'd'], 43);
    close(values(again.variables.get('classifier.1.weight')), values(weight), 0, 'same seed, same head');
    assert.notDeepEqual(values(other.variables.get('classifier.1.weight')), values(weight));
    const logits = net.forward(pixels()).logits!;
    assert.deepEqual(logits.shape, [3, 4]);
    assert.throws(() => net.withClassifier(['a', 'a'], 1), /distinct/);
    [net, again, other].forEach((m) => m.dispose());
  });

  it('freezes the stem and the first N stages by name, and only the rest gets gradients', () => {
    assert.equal(resnetStageOf(`${STEM}.convolution.weight`), 'stem');
    assert.equal(resnetStageOf('resnet.encoder.stages.1.layers.0.shortcut.normalization.bias'), 1);
    assert.equal(resnetStageOf('classifier.1.weight'), undefined);
    const net = model({ trainable: resnetTrainable({ freezeEmbeddings: true, freezeLayers: 1 }, CONFIG.depths.length) });
    const trainable = [...net.trainableVariables.keys()];
    assert.ok(trainable.every((name) => !name.startsWith('resnet.embedder.') && !name.startsWith('resnet.encoder.stages.0.')));
    assert.ok(trainable.includes('resnet.encoder.stages.1.layers.1.layer.1.convolution.weight'));
    assert.ok(trainable.includes('classifier.1.bias'));
    assert.ok(!trainable.some((name) => name.includes('running_')));
    const input = pixels();
    const grads = trainingGradients(net, input);
    assert.deepEqual(Object.keys(grads).sort(), trainable.sort());
    // Frozen stages keep their weights but, as in PyTorch, their BatchNorm statistics still follow the batches.
    assert.equal(net.updateRunningStatistics(), 9);
    net.setTrainable(() => true);
    assert.ok(net.variables.get(`${STEM}.convolution.weight`)!.trainable);
    assert.ok(!net.variables.get(`${STEM}.normalization.running_var`)!.trainable);
    assert.throws(
      () => resnetTrainable({ freezeEmbeddings: false, freezeLayers: 3 }, 2),
      /freeze_layers is 3, but this ResNet has 2 stages/,
    );
    net.dispose();
  });

  it('restore puts back what snapshot saved: weights, running statistics and num_batches_tracked', async () => {
    const net = model();
    const input = pixels();
    const saved = await net.snapshot();
    const logitsBefore = values(net.forward(input).logits);
    // A training step that moves every trainable weight and the running statistics.
    const grads = trainingGradients(net, input);
    for (const [name, variable] of net.trainableVariables) tf.tidy(() => variable.assign(tf.sub(variable, tf.mul(grads[name]!, 0.1))));
    net.updateRunningStatistics();
    assert.ok(
      values(net.forward(input).logits).some((value, i) => Math.abs(value - logitsBefore[i]!) > 1e-4),
      'the step changed the model',
    );
    net.restore(saved);
    close(values(net.forward(input).logits), logitsBefore, 0, 'logits after restore');
    const again = await net.snapshot();
    assert.equal(again.get(`${STEM}.normalization.num_batches_tracked`)!.data[0], 0n);
    const broken = new Map(saved);
    broken.delete('classifier.1.bias');
    assert.throws(() => net.restore(broken), /no value for "classifier\.1\.bias"/);
    net.dispose();
  });
});
