/**
 * Parity of timm's ResNet layout with timm itself: small random ResNets (basic and bottleneck blocks) built by timm's
 * own ResNet class and saved by timm's save_for_hf (config.json with `architecture`, weights named `conv1`,
 * `layer1.0.conv1`, `downsample.0`, `fc`) load through EmbedTune's folder resolution as the timm layout, and their
 * pooled features and logits on random pixel values are within 1e-4 of timm's forward in eval mode.
 *
 * timm is installed without its dependencies (`pip install --no-deps timm==1.0.31` into the py-peers env), because
 * its torchvision dependency would replace the env's torch; test/parity/python/tiny_timm_resnet.py explains how timm's
 * model code then runs. timm's preprocessing (which needs torchvision) is not compared here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { loadResNetFolder } from '../../src/trainer/model/resnet/resnetFolder';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { PARITY_BACKEND } from './parityBackend';
import { maxAbsDifference, PEERS_PYTHON, peersProblem, runReference } from './pythonPeers';

const TOLERANCE = 1e-4;

/** bench/python/setup installs timm; a peers folder without it is out of date, which fails rather than skips. */
function timmMissing(): string | undefined {
  const probe = spawnSync(PEERS_PYTHON, ['-c', 'import importlib.util, sys; sys.exit(importlib.util.find_spec("timm") is None)']);
  return probe.status === 0 ? undefined : `timm is not installed in the Python peers: run bench/python/setup again`;
}

const MODELS = {
  bottleneck: { block: 'bottleneck', layers: [2, 1, 1, 2], channels: [8, 16, 24, 32], stem_width: 16, num_classes: 4 },
  basic: { block: 'basic', layers: [1, 2, 1, 1], channels: [8, 16, 24, 32], stem_width: 8, num_classes: 3 },
};

interface TimmAnswer {
  readonly timm: string;
  readonly pixels: string;
  readonly shape: [number, number, number, number];
  readonly models: Record<string, { folder: string; pooled: number[][]; logits: number[][]; names: string[] }>;
}

describe("timm's ResNet layout matches timm's forward", { skip: peersProblem }, () => {
  const workspace = new TempWorkspace();
  let answer: TimmAnswer;
  before(async () => {
    const missing = timmMissing();
    assert.equal(missing, undefined, missing);
    await selectBackend(PARITY_BACKEND);
    answer = runReference<TimmAnswer>('tiny_timm_resnet.py', {
      out: workspace.path('timm'),
      seed: 29,
      pixels: { batch: 3, size: 80 },
      models: MODELS,
    });
  });
  after(() => workspace.dispose());

  for (const name of Object.keys(MODELS)) {
    it(`${name} blocks: a timm folder loads as the timm layout, pooled features and logits within ${TOLERANCE}`, (t) => {
      const reference = answer.models[name]!;
      const { model, layout, config } = loadResNetFolder(reference.folder);
      assert.equal(layout, 'timm');
      assert.deepEqual(
        config.labels,
        MODELS[name as keyof typeof MODELS].num_classes === 4
          ? ['class_0', 'class_1', 'class_2', 'class_3']
          : ['class_0', 'class_1', 'class_2'],
      );
      const nchw = tf.tensor4d(new Float32Array(readFileSync(answer.pixels).buffer.slice(0)), answer.shape);
      const nhwc = tf.transpose(nchw, [0, 2, 3, 1]) as tf.Tensor4D;
      const outputs = model.forward(nhwc);
      const pooledGap = maxAbsDifference(outputs.pooled.arraySync(), reference.pooled);
      const logitsGap = maxAbsDifference(outputs.logits!.arraySync(), reference.logits);
      tf.dispose([nchw, nhwc, outputs.lastHiddenState, outputs.pooled, outputs.logits!]);
      model.dispose();
      t.diagnostic(
        `${name} (timm ${answer.timm}, ${PARITY_BACKEND}): pooled ${pooledGap.value.toExponential(2)}, logits ${logitsGap.value.toExponential(2)}`,
      );
      assert.ok(
        pooledGap.value <= TOLERANCE,
        `pooled features differ by ${pooledGap.value} at image ${pooledGap.row}, feature ${pooledGap.column}`,
      );
      assert.ok(logitsGap.value <= TOLERANCE, `logits differ by ${logitsGap.value} at image ${logitsGap.row}, class ${logitsGap.column}`);
    });
  }
});
