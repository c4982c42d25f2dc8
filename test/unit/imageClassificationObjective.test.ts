import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PNG } from 'pngjs';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import type { ImageExample } from '../../src/trainer/data/imageDataExample';
import { scoredClassificationReport } from '../../src/trainer/evaluation/scoredClassificationMetrics';
import { readImageProcessorSettings } from '../../src/trainer/images/imageProcessorConfig';
import { ImagePipeline } from '../../src/trainer/images/imagePipeline';
import { ImageModel } from '../../src/trainer/model/imageTrainedModel';
import { buildRandomResNetFolder } from '../../src/trainer/model/resnet/randomResNetFolder';
import { CLASSIFIER_BIAS } from '../../src/trainer/model/resnet/resnetLayers';
import { loadResNetFolder } from '../../src/trainer/model/resnet/resnetFolder';
import { ImageClassificationObjective } from '../../src/trainer/objectives/imageClassificationObjective';
import { TempWorkspace } from '../helpers/tempWorkspace';

const LABELS = ['crack', 'dent', 'ok'];
const AUGMENT_SEED = 5;
const COLOURS: Record<string, [number, number, number]> = { crack: [200, 50, 50], dent: [50, 200, 50], ok: [60, 60, 200] };

let workspace: TempWorkspace;
let train: ImageExample[];
let validation: ImageExample[];

function writeImages(split: string, counts: Record<string, number>): ImageExample[] {
  const examples: ImageExample[] = [];
  let state = split.length;
  for (const [label, count] of Object.entries(counts))
    for (let i = 0; i < count; i++) {
      const png = new PNG({ width: 20, height: 16 });
      for (let pixel = 0; pixel < 20 * 16; pixel++) {
        for (let c = 0; c < 3; c++) {
          state = (state * 1103515245 + 12345) % 2147483648;
          png.data[pixel * 4 + c] = Math.max(0, Math.min(255, COLOURS[label]![c]! + Math.round((state / 2147483648 - 0.5) * 200)));
        }
        png.data[pixel * 4 + 3] = 255;
      }
      const image = workspace.path(`images/${split}/${label}/${i}.png`);
      mkdirSync(join(image, '..'), { recursive: true });
      writeFileSync(image, PNG.sync.write(png));
      examples.push({ image, label, source: image, index: examples.length });
    }
  return examples;
}

before(async () => {
  await tf.setBackend('cpu');
  workspace = new TempWorkspace();
  buildRandomResNetFolder(workspace.path('resnet'), {
    config: { layer_type: 'basic', embedding_size: 8, hidden_sizes: [8, 16], depths: [1, 1] },
    labels: ['a', 'b'],
    seed: 5,
    randomBatchNorm: true,
    preprocessor: {
      image_processor_type: 'ViTImageProcessor',
      size: { height: 32, width: 32 },
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    },
  });
  train = writeImages('train', { crack: 3, dent: 1, ok: 4 });
  validation = writeImages('validation', { crack: 2, dent: 2, ok: 2 });
});
after(() => workspace.dispose());

function objective(
  loss: EmbedTuneConfig['loss'] = {},
  options: { freezeBatchNorm?: boolean; rotation?: number } = {},
): { objective: ImageClassificationObjective; model: ImageModel } {
  const { model: resnet } = loadResNetFolder(workspace.path('resnet'));
  resnet.withClassifier(LABELS, 11);
  resnet.freezeBatchNorm = options.freezeBatchNorm ?? false;
  const pipeline = new ImagePipeline({
    processor: readImageProcessorSettings(workspace.path('resnet')),
    augment: { horizontalFlip: 0.5, verticalFlip: 0, rotation: options.rotation ?? 20 },
    cacheBytes: 0,
  });
  const model = new ImageModel(resnet, pipeline, {});
  const config = resolveConfig({
    task: 'image-classification',
    model: { base: './resnet' },
    data: { train: './images/train' },
    training: { batch_size: 8, seed: 3 },
    preprocess: { augment: { seed: AUGMENT_SEED } },
    ...(loss ? { loss } : {}),
  } as EmbedTuneConfig);
  const data = { kind: 'image-label' as const, train, validation, labels: LABELS };
  return { objective: new ImageClassificationObjective(model, data, config, workspace.root), model };
}

/** The training-mode logits of the batch the objective sees at `epoch` (the batch statistics then dropped). */
function trainingLogits(model: ImageModel, examples: readonly ImageExample[], epoch: number, seed: number): number[][] {
  const pixels = model.pipeline.pixels(examples, { augment: true, epoch, seed });
  const logits = tf.tidy(() => model.resnet.forward(tf.tensor4d(pixels.data, pixels.shape), { training: true }).logits!);
  model.resnet.discardBatchStatistics();
  const rows = logits.arraySync() as number[][];
  logits.dispose();
  return rows;
}

function softmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
}

const COORDINATES = { seed: 3, step: 4, microBatch: 0, epoch: 2 };

describe('ImageClassificationObjective', () => {
  it('takes softmax cross-entropy of the training-mode logits, and the head bias gradient is mean(p − onehot)', () => {
    const { objective: subject, model } = objective();
    const expectedLogits = trainingLogits(model, train, COORDINATES.epoch, AUGMENT_SEED);
    const { loss, gradients } = subject.gradients(train, COORDINATES);
    const gold = train.map((example) => LABELS.indexOf(example.label));
    const probabilities = expectedLogits.map(softmax);
    const expectedLoss = -probabilities.reduce((sum, p, i) => sum + Math.log(p[gold[i]!]!), 0) / train.length;
    assert.ok(Math.abs(loss - expectedLoss) < 1e-5, `${loss} vs ${expectedLoss}`);
    const biasGradient = Array.from(gradients.get(CLASSIFIER_BIAS)!.dataSync());
    const expectedBias = LABELS.map((_, c) => probabilities.reduce((sum, p, i) => sum + p[c]! - (gold[i] === c ? 1 : 0), 0) / train.length);
    biasGradient.forEach((value, c) => assert.ok(Math.abs(value - expectedBias[c]!) < 1e-5, `bias ${c}: ${value} vs ${expectedBias[c]}`));
    assert.ok(gradients.has('resnet.embedder.embedder.convolution.weight'), 'the backbone trains too');
    assert.ok(![...gradients.keys()].some((name) => name.endsWith('running_mean')), 'running statistics get no gradient');
    tf.dispose([...gradients.values()]);
  });

  it('weights focal loss by the balanced class weights, as torch reduces a weighted loss', () => {
    const { objective: subject, model } = objective({ type: 'focal', gamma: 2, alpha: 0.25, class_weights: 'balanced' });
    const logits = trainingLogits(model, train, COORDINATES.epoch, AUGMENT_SEED);
    const { loss, gradients } = subject.gradients(train, COORDINATES);
    tf.dispose([...gradients.values()]);
    const counts = LABELS.map((label) => train.filter((example) => example.label === label).length);
    const weights = counts.map((count) => train.length / (LABELS.length * count));
    let numerator = 0;
    let denominator = 0;
    train.forEach((example, i) => {
      const y = LABELS.indexOf(example.label);
      const p = softmax(logits[i]!)[y]!;
      numerator += weights[y]! * 0.25 * (1 - p) ** 2 * -Math.log(p);
      denominator += weights[y]!;
    });
    assert.ok(Math.abs(loss - numerator / denominator) < 1e-5, `${loss} vs ${numerator / denominator}`);
  });

  it('replays the same augmentation for the same coordinates, and draws new ones in another epoch', () => {
    const { objective: subject } = objective();
    const first = subject.gradients(train, COORDINATES);
    const again = subject.gradients(train, { ...COORDINATES, step: 9, microBatch: 1 });
    const otherEpoch = subject.gradients(train, { ...COORDINATES, epoch: 3 });
    // Step and micro-batch do not change the draws (they are keyed by epoch and image); running statistics moved
    // between the calls, but training-mode BatchNorm does not read them.
    assert.equal(again.loss, first.loss);
    assert.notEqual(otherEpoch.loss, first.loss);
    tf.dispose([...first.gradients.values(), ...again.gradients.values(), ...otherEpoch.gradients.values()]);
  });

  it('folds the batch statistics into the running ones after each micro-batch, unless BatchNorm is frozen', async () => {
    for (const freezeBatchNorm of [false, true]) {
      const { objective: subject, model } = objective({}, { freezeBatchNorm });
      const before = await model.snapshot();
      const { gradients } = subject.gradients(train, COORDINATES);
      tf.dispose([...gradients.values()]);
      const after = await model.snapshot();
      const name = 'resnet.embedder.embedder.normalization.running_mean';
      const tracked = 'resnet.embedder.embedder.normalization.num_batches_tracked';
      const changed = !(after.get(name)!.data as Float32Array).every((value, i) => value === before.get(name)!.data[i]);
      assert.equal(changed, !freezeBatchNorm, `freezeBatchNorm ${freezeBatchNorm}`);
      assert.equal(Number(after.get(tracked)!.data[0]) - Number(before.get(tracked)!.data[0]), freezeBatchNorm ? 0 : 1);
    }
  });

  it('evaluates in eval mode from softmax probabilities: the metrics of scoredClassificationReport, and thumbnails of mistakes', async () => {
    const { objective: subject, model } = objective();
    const evaluation = await subject.evaluate(4);
    const pixels = model.pipeline.pixels(validation, { augment: false });
    const probabilities = tf
      .tidy(() => tf.softmax(model.resnet.forward(tf.tensor4d(pixels.data, pixels.shape)).logits!))
      .arraySync() as number[][];
    const report = scoredClassificationReport(
      LABELS,
      validation.map((example) => example.label),
      probabilities,
    );
    assert.deepEqual(evaluation.metrics, { map: report.map, accuracy: report.metrics.accuracy, f1: report.metrics.f1 });
    for (const [name, scores] of Object.entries(evaluation.perClass!))
      assert.equal(scores.average_precision, report.averagePrecision[name]);
    const wrong = validation.filter((example, i) => LABELS[probabilities[i]!.indexOf(Math.max(...probabilities[i]!))] !== example.label);
    assert.equal(evaluation.misclassified!.length, wrong.length);
    for (const mistake of evaluation.misclassified!) {
      assert.match(mistake.file, /^images\/validation\/[a-z]+\/\d\.png$/);
      assert.equal(Buffer.from(mistake.thumbnail.rgb, 'base64').length, 48 * 48 * 3);
    }
  });

  it('refuses data whose classes are not the head’s, and a row of an unknown class by its source', () => {
    const { model } = objective();
    const config = resolveConfig({ task: 'image-classification', model: { base: 'x' }, data: { train: 'x' } } as EmbedTuneConfig);
    assert.throws(
      () => new ImageClassificationObjective(model, { kind: 'image-label', train, validation, labels: ['crack', 'ok'] }, config, '/'),
      /head predicts crack, dent, ok, but the data's classes are crack, ok/,
    );
    const { objective: subject } = objective();
    assert.throws(
      () => subject.gradients([{ ...train[0]!, label: 'rust', source: 'rows.csv:7' }], COORDINATES),
      /rows\.csv:7: the class "rust"/,
    );
  });
});
