import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { parseImageProcessorSettings, readImageProcessorSettings } from '../../src/trainer/images/imageProcessorConfig';
import { ImagePipeline } from '../../src/trainer/images/imagePipeline';
import { exportedPreprocessor, ImageModel, preprocessorJson } from '../../src/trainer/model/imageTrainedModel';
import { buildRandomResNetFolder, RESNET_50_PREPROCESSOR } from '../../src/trainer/model/resnet/randomResNetFolder';
import { loadResNetFolder } from '../../src/trainer/model/resnet/resnetFolder';
import { TempWorkspace } from '../helpers/tempWorkspace';

let workspace: TempWorkspace;

before(async () => {
  await tf.setBackend('cpu');
  workspace = new TempWorkspace();
  buildRandomResNetFolder(workspace.path('resnet'), {
    config: { layer_type: 'bottleneck', embedding_size: 8, hidden_sizes: [8, 16], depths: [1, 1] },
    labels: ['a', 'b'],
    seed: 2,
    randomBatchNorm: true,
  });
});
after(() => workspace.dispose());

function imageModel(): ImageModel {
  const { model } = loadResNetFolder(workspace.path('resnet'));
  model.withClassifier(['crack', 'dent', 'ok'], 4);
  const pipeline = new ImagePipeline({
    processor: readImageProcessorSettings(workspace.path('resnet')),
    augment: { horizontalFlip: 0, verticalFlip: 0, rotation: 0 },
  });
  return new ImageModel(model, pipeline, RESNET_50_PREPROCESSOR);
}

describe('ImageModel', () => {
  it('reads back from its checkpoint folder exactly the snapshot it wrote, running statistics and batch counts included', async () => {
    const model = imageModel();
    // Move the running statistics and num_batches_tracked off their loaded values.
    const pixels = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const { lastHiddenState, pooled, logits } = model.resnet.forward(pixels, { training: true });
    tf.dispose([lastHiddenState, pooled, logits!]);
    model.resnet.updateRunningStatistics();
    const snapshot = await model.snapshot();
    await model.writeCheckpointFolder(workspace.path('checkpoint'), snapshot);
    const read = model.readCheckpointWeights(workspace.path('checkpoint'));
    assert.deepEqual([...read.keys()].sort(), [...snapshot.keys()].sort());
    for (const [name, tensor] of snapshot) {
      assert.deepEqual(read.get(name)!.shape, tensor.shape, name);
      assert.deepEqual(read.get(name)!.data, tensor.data, name);
    }
    // And the restored model computes what the saved one did.
    const restored = imageModel();
    restored.restore(read);
    const expected = tf.tidy(() => model.resnet.forward(pixels).logits!.arraySync());
    assert.deepEqual(
      tf.tidy(() => restored.resnet.forward(pixels).logits!.arraySync()),
      expected,
    );
  });

  it('counts parameters as PyTorch does, without the running statistics', () => {
    const model = imageModel();
    const all = [...model.variables.values()].reduce((sum, variable) => sum + variable.size, 0);
    const statistics = [...model.variables]
      .filter(([name]) => name.endsWith('running_mean') || name.endsWith('running_var'))
      .reduce((sum, [, variable]) => sum + variable.size, 0);
    assert.ok(statistics > 0);
    assert.equal(model.parameterCount(), all - statistics);
    assert.deepEqual([...model.headNames].sort(), ['classifier.1.bias', 'classifier.1.weight']);
  });
});

describe('the exported preprocessor_config.json', () => {
  it('is the model’s own file when preprocess.image rewrites none of its keys', () => {
    const settings = readImageProcessorSettings(workspace.path('resnet'));
    assert.deepEqual(exportedPreprocessor(workspace.path('resnet'), {}, settings), RESNET_50_PREPROCESSOR);
    assert.deepEqual(exportedPreprocessor(workspace.path('resnet'), { crop_box: [0, 0, 4, 4] }, settings), RESNET_50_PREPROCESSOR);
  });

  it('otherwise writes the run’s settings, which transformers’ processors read back as the same preprocessing', () => {
    const convNext = readImageProcessorSettings(workspace.path('resnet'));
    const shortestEdgeThenCrop = { ...convNext, cropPct: undefined, resize: { shortestEdge: 40 }, centerCrop: { height: 32, width: 32 } };
    const exactSize = { ...shortestEdgeThenCrop, resize: { height: 30, width: 20 }, centerCrop: undefined, filter: 'bilinear' as const };
    for (const settings of [convNext, shortestEdgeThenCrop, exactSize]) {
      const json = preprocessorJson(settings);
      writeFileSync(workspace.path('written.json'), JSON.stringify(json));
      assert.deepEqual(parseImageProcessorSettings(json, 'written.json'), settings);
    }
    assert.equal(preprocessorJson(convNext)['image_processor_type'], 'ConvNextImageProcessor');
    assert.equal(preprocessorJson(shortestEdgeThenCrop)['image_processor_type'], 'BitImageProcessor');
    assert.deepEqual(
      exportedPreprocessor(workspace.path('resnet'), { size: 40, crop: 32 }, shortestEdgeThenCrop),
      preprocessorJson(shortestEdgeThenCrop),
    );
  });
});
