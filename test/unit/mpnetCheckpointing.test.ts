import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { encoderOpsFor } from '../../src/trainer/backend/encoderOpsFor';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { BertEncoder } from '../../src/trainer/model/bert/bertEncoder';
import { expectedBertWeightShapes, readBertConfig, type BertConfig } from '../../src/trainer/model/bertConfig';
import { mpnetLayout } from '../../src/trainer/model/mpnet/mpnetFamily';
import type { NamedTensors } from '../../src/trainer/model/namedTensors';
import { SentenceEmbedder } from '../../src/trainer/model/sentenceEmbedder';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { disposeGradients, microBatchGradients, type TextBatch } from '../../src/trainer/training/gradientStep';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

/*
 * MPNet's relative attention bias is one trainable table that every layer adds to its logits. With activation
 * checkpointing each layer is replayed in the backward pass, and the bias must still get its gradient from every
 * layer: the loss and every gradient, the bias's included, equal those of the pass that keeps its activations.
 */

const LAYOUT = mpnetLayout(32);
const workspace = new TempWorkspace();
let config: BertConfig;
let weights: NamedTensors;
let tokenizer: TextTokenizer;

before(async () => {
  await selectBackend('cpu');
  const { folder } = buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64 });
  config = { ...readBertConfig(folder).config, typeVocabSize: 0, padTokenId: 1 };
  tokenizer = TextTokenizer.fromFolder(folder);
  weights = new Map();
  let seed = 1;
  for (const [name, shape] of expectedBertWeightShapes(config, LAYOUT)) {
    const isScale = name.endsWith('LayerNorm.weight');
    const values = tf.tidy(() =>
      tf.add(tf.randomNormal(shape, 0, name.includes('relative') ? 0.5 : 0.08, 'float32', seed++), isScale ? 1 : 0),
    );
    weights.set(name, { dtype: 'F32', shape, data: values.dataSync() as Float32Array });
    values.dispose();
  }
});
after(() => workspace.dispose());

const BATCH: TextBatch = {
  anchor: ['how do i reset my password', 'what is the capital of france', 'why is the sky blue'],
  positive: ['open settings and choose reset password', 'paris is the capital of france', 'light scatters off air'],
  targets: {},
};

function gradientsOf(checkpointing: boolean): { loss: number; gradients: Map<string, Float32Array> } {
  const encoder = BertEncoder.fromWeights(config, weights, encoderOpsFor(tf.getBackend()), () => true, undefined, LAYOUT);
  encoder.gradientCheckpointing = checkpointing;
  const embedder = new SentenceEmbedder(tokenizer, encoder, { pooling: 'mean', normalize: false, maxSeqLength: 24 });
  const trainable = new Map([...encoder.variables].filter(([, variable]) => variable.trainable));
  const loss = { name: 'mnrl' as const, scale: 20, margin: 0, miniBatchSize: 3 };
  const result = microBatchGradients(embedder, trainable, BATCH, loss, { seed: 5, step: 1, microBatch: 0 }, true);
  const gradients = new Map([...result.gradients].map(([name, gradient]) => [name, gradient.dataSync() as Float32Array]));
  disposeGradients(result.gradients);
  encoder.dispose();
  return { loss: result.loss, gradients };
}

describe('MPNet with activation checkpointing', () => {
  it('gives the relative attention bias and every other weight the gradients of the pass that keeps its activations', () => {
    const kept = gradientsOf(false);
    const recomputed = gradientsOf(true);
    assert.ok(Math.abs(kept.loss - recomputed.loss) <= 1e-6, `loss ${recomputed.loss} vs ${kept.loss}`);
    assert.ok(kept.gradients.has(LAYOUT.relativeAttentionBias!.weight), 'the bias is trained');
    for (const [name, want] of kept.gradients) {
      const got = recomputed.gradients.get(name);
      assert.ok(got, `${name} has a gradient with checkpointing`);
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < want.length; i++) {
        worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        scale = Math.max(scale, Math.abs(want[i]!));
      }
      if (name === LAYOUT.relativeAttentionBias!.weight) assert.ok(scale > 0, 'the bias gets a gradient');
      assert.ok(worst <= 1e-5 * Math.max(scale, 1e-6), `${name}: max difference ${worst} against max magnitude ${scale}`);
    }
  });
});
