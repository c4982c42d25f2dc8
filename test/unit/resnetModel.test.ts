import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { hostTensor, type NamedTensors } from '../../src/trainer/model/namedTensors';
import { parseResNetConfig } from '../../src/trainer/model/resnet/resnetConfig';
import { backboneNames } from '../../src/trainer/model/resnet/resnetFolder';
import { allConvs, resnetLayout } from '../../src/trainer/model/resnet/resnetLayers';
import { ResNet } from '../../src/trainer/model/resnet/resnetModel';

/** transformers 5.24: ResNetForImageClassification(ResNetConfig(**CONFIG)).state_dict(), convolutions and head (shapes). */
const TRANSFORMERS_SHAPES: Record<string, number[]> = {
  'resnet.embedder.embedder.convolution.weight': [4, 3, 7, 7],
  'resnet.encoder.stages.0.layers.0.shortcut.convolution.weight': [4, 4, 1, 1],
  'resnet.encoder.stages.0.layers.0.layer.0.convolution.weight': [4, 4, 3, 3],
  'resnet.encoder.stages.0.layers.0.layer.1.convolution.weight': [4, 4, 3, 3],
  'resnet.encoder.stages.1.layers.0.shortcut.convolution.weight': [8, 4, 1, 1],
  'resnet.encoder.stages.1.layers.0.layer.0.convolution.weight': [8, 4, 3, 3],
  'resnet.encoder.stages.1.layers.0.layer.1.convolution.weight': [8, 8, 3, 3],
  'resnet.encoder.stages.1.layers.1.layer.0.convolution.weight': [8, 8, 3, 3],
  'resnet.encoder.stages.1.layers.1.layer.1.convolution.weight': [8, 8, 3, 3],
  'classifier.1.weight': [3, 8],
  'classifier.1.bias': [3],
};
const CONFIG = {
  model_type: 'resnet',
  layer_type: 'basic',
  embedding_size: 4,
  hidden_sizes: [4, 8],
  depths: [1, 2],
  downsample_in_first_stage: true,
  id2label: { '0': 'crack', '1': 'scratch', '2': 'ok' },
};

/** A checkpoint as transformers saves it, with seeded values and BatchNorm statistics away from the identity. */
function checkpoint(): NamedTensors {
  let state = 7;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
  const weights: NamedTensors = new Map();
  for (const [name, shape] of Object.entries(TRANSFORMERS_SHAPES)) {
    weights.set(name, hostTensor(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next)));
    if (name.endsWith('convolution.weight')) {
      const prefix = name.replace('convolution.weight', 'normalization.');
      const channels = shape[0]!;
      weights.set(
        `${prefix}weight`,
        hostTensor(
          [channels],
          Float32Array.from({ length: channels }, () => 1 + next()),
        ),
      );
      weights.set(`${prefix}bias`, hostTensor([channels], Float32Array.from({ length: channels }, next)));
      weights.set(`${prefix}running_mean`, hostTensor([channels], Float32Array.from({ length: channels }, next)));
      weights.set(
        `${prefix}running_var`,
        hostTensor(
          [channels],
          Float32Array.from({ length: channels }, () => 1 + next()),
        ),
      );
      weights.set(`${prefix}num_batches_tracked`, hostTensor([], new BigInt64Array(1)));
    }
  }
  return weights;
}

describe('ResNet in tfjs, named as transformers names it', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  it("lays out the convolutions under transformers' names and shapes, shortcuts where channels or stride change", () => {
    const config = parseResNetConfig(CONFIG, 'config.json');
    const ours = Object.fromEntries(
      allConvs(resnetLayout(config)).map((conv) => [
        `resnet.${conv.prefix}.convolution.weight`,
        [conv.outChannels, conv.inChannels, conv.kernelSize, conv.kernelSize],
      ]),
    );
    const theirs = Object.fromEntries(Object.entries(TRANSFORMERS_SHAPES).filter(([name]) => name.includes('convolution')));
    assert.deepEqual(ours, theirs);
    assert.deepEqual(config.labels, ['crack', 'scratch', 'ok']);
  });

  it('runs the forward pass: a 64-pixel input halved by the stem, the pool and each stage (to 4), pooled = spatial mean, logits = pooled · Wᵀ + b', () => {
    const model = ResNet.fromWeights(parseResNetConfig(CONFIG, 'config.json'), backboneNames(checkpoint()));
    assert.ok(model.hasClassifier);
    const input = tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const { lastHiddenState, pooled, logits } = model.forward(input);
    assert.deepEqual(lastHiddenState.shape, [2, 4, 4, 8]);
    const hidden = lastHiddenState.arraySync();
    const pooledValues = pooled.arraySync();
    for (let image = 0; image < 2; image++) {
      for (let channel = 0; channel < 8; channel++) {
        const mean = hidden[image]!.flat().reduce((sum, pixel) => sum + pixel[channel]!, 0) / 16;
        assert.ok(Math.abs(pooledValues[image]![channel]! - mean) < 1e-6);
      }
    }
    const weight = checkpoint().get('classifier.1.weight')!.data as Float32Array;
    const bias = checkpoint().get('classifier.1.bias')!.data as Float32Array;
    const logitValues = logits!.arraySync();
    for (let label = 0; label < 3; label++) {
      const expected = bias[label]! + pooledValues[0]!.reduce((sum, value, channel) => sum + value * weight[label * 8 + channel]!, 0);
      assert.ok(Math.abs(logitValues[0]![label]! - expected) < 1e-5);
    }
    tf.dispose([input, lastHiddenState, pooled, logits!]);
    model.dispose();
  });

  it('never trains the running statistics, and trains the rest as asked', () => {
    const model = ResNet.fromWeights(
      parseResNetConfig(CONFIG, 'config.json'),
      backboneNames(checkpoint()),
      (name) => !name.startsWith('resnet.embedder'),
    );
    const trainable = (name: string) => model.variables.get(name)!.trainable;
    assert.equal(trainable('resnet.encoder.stages.0.layers.0.layer.0.normalization.running_mean'), false);
    assert.equal(trainable('resnet.encoder.stages.0.layers.0.layer.0.normalization.running_var'), false);
    assert.equal(trainable('resnet.encoder.stages.0.layers.0.layer.0.normalization.weight'), true);
    assert.equal(trainable('resnet.embedder.embedder.convolution.weight'), false);
    assert.equal(trainable('classifier.1.weight'), true);
    model.dispose();
  });

  it('reads a bare ResNetModel checkpoint (no resnet. prefix, no head) as a backbone', () => {
    const bare: NamedTensors = new Map(
      [...checkpoint()].filter(([name]) => name.startsWith('resnet.')).map(([name, tensor]) => [name.slice('resnet.'.length), tensor]),
    );
    const model = ResNet.fromWeights(parseResNetConfig(CONFIG, 'config.json'), backboneNames(bare));
    assert.equal(model.hasClassifier, false);
    const input = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    const outputs = model.forward(input);
    assert.equal(outputs.logits, undefined);
    assert.deepEqual(outputs.pooled.shape, [1, 8]);
    tf.dispose([input, outputs.lastHiddenState, outputs.pooled]);
    model.dispose();
  });

  it('names the missing or misshapen weight, and the config key it does not support', () => {
    const config = parseResNetConfig(CONFIG, 'config.json');
    const missing = backboneNames(checkpoint());
    missing.delete('encoder.stages.1.layers.0.shortcut.normalization.running_var');
    assert.throws(
      () => ResNet.fromWeights(config, missing),
      /no weight "encoder\.stages\.1\.layers\.0\.shortcut\.normalization\.running_var"/,
    );
    const misshapen = backboneNames(checkpoint());
    misshapen.set('embedder.embedder.convolution.weight', hostTensor([4, 3, 3, 3], new Float32Array(108)));
    assert.throws(
      () => ResNet.fromWeights(config, misshapen),
      /"embedder\.embedder\.convolution\.weight" has shape \[4, 3, 3, 3\]; config\.json .* implies \[4, 3, 7, 7\]/,
    );
    assert.throws(() => parseResNetConfig({ ...CONFIG, layer_type: 'preact' }, '/m/config.json'), {
      message: '/m/config.json: "layer_type" is "preact"; it must be "basic" or "bottleneck".',
    });
    assert.throws(() => parseResNetConfig({ ...CONFIG, depths: [1] }, 'c.json'), /"depths" has 1 stages but "hidden_sizes" has 2/);
    assert.throws(() => parseResNetConfig({ ...CONFIG, hidden_act: 'gelu' }, 'c.json'), /"hidden_act" is "gelu"/);
    assert.throws(() => parseResNetConfig({ ...CONFIG, model_type: 'bert' }, 'c.json'), /"model_type" is "bert", not "resnet"/);
  });
});
