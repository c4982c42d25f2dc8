import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostTensor, type NamedTensors } from '../../src/trainer/model/namedTensors';
import { isTimmResNet, timmResNetConfig, transformersNameOfTimm } from '../../src/trainer/model/resnet/timmResNet';

function shapes(entries: Record<string, number[]>): NamedTensors {
  return new Map(
    Object.entries(entries).map(([name, shape]) => [name, hostTensor(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)))]),
  );
}

describe("timm's ResNet names", () => {
  it('maps the stem, blocks, shortcut and head to the transformers names they equal', () => {
    assert.equal(transformersNameOfTimm('conv1.weight'), 'embedder.embedder.convolution.weight');
    assert.equal(transformersNameOfTimm('bn1.running_var'), 'embedder.embedder.normalization.running_var');
    assert.equal(transformersNameOfTimm('layer1.0.conv1.weight'), 'encoder.stages.0.layers.0.layer.0.convolution.weight');
    assert.equal(transformersNameOfTimm('layer3.5.bn3.bias'), 'encoder.stages.2.layers.5.layer.2.normalization.bias');
    assert.equal(transformersNameOfTimm('layer2.0.downsample.0.weight'), 'encoder.stages.1.layers.0.shortcut.convolution.weight');
    assert.equal(
      transformersNameOfTimm('layer2.0.downsample.1.running_mean'),
      'encoder.stages.1.layers.0.shortcut.normalization.running_mean',
    );
    assert.equal(transformersNameOfTimm('fc.weight'), 'classifier.1.weight');
  });

  it('refuses ResNet-D weights (deep stem, average-pool shortcut) by name', () => {
    assert.throws(() => transformersNameOfTimm('conv1.0.weight'), /"conv1\.0\.weight" that a plain timm ResNet .* does not have/);
    assert.throws(() => transformersNameOfTimm('layer2.0.downsample.2.weight'), /"layer2\.0\.downsample\.2\.weight"/);
  });

  it("reads a ResNet-50's architecture from its weights' shapes", () => {
    const entries: Record<string, number[]> = { 'conv1.weight': [64, 3, 7, 7] };
    [3, 4, 6, 3].forEach((blocks, stage) => {
      for (let block = 0; block < blocks; block++) {
        entries[`layer${stage + 1}.${block}.conv1.weight`] = [1, 1, 1, 1];
        entries[`layer${stage + 1}.${block}.conv3.weight`] = [256 * 2 ** stage, 1, 1, 1];
      }
    });
    const weights = shapes(entries);
    assert.ok(isTimmResNet(weights));
    assert.deepEqual(timmResNetConfig(weights, [], 'config.json'), {
      numChannels: 3,
      embeddingSize: 64,
      hiddenSizes: [256, 512, 1024, 2048],
      depths: [3, 4, 6, 3],
      layerType: 'bottleneck',
      downsampleInFirstStage: false,
      downsampleInBottleneck: false,
      labels: [],
    });
    assert.equal(isTimmResNet(shapes({ 'embedder.embedder.convolution.weight': [64, 3, 7, 7] })), false);
  });
});
