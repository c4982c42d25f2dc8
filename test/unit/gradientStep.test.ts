import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { referenceEncoderOps } from '../../src/trainer/backend/encoderOps';
import { BertEncoder } from '../../src/trainer/model/bert/bertEncoder';
import { readBertConfig, readBertWeights } from '../../src/trainer/model/bertConfig';
import { SentenceEmbedder } from '../../src/trainer/model/sentenceEmbedder';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import {
  accumulate,
  microBatchGradients,
  scaleGradients,
  type LossSettings,
  type TextBatch,
} from '../../src/trainer/training/gradientStep';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const workspace = new TempWorkspace();
let embedder: SentenceEmbedder;

before(async () => {
  await tf.setBackend('cpu');
  const { folder } = buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64 });
  const { config } = readBertConfig(folder);
  const encoder = BertEncoder.fromWeights(config, readBertWeights(folder, config), referenceEncoderOps);
  embedder = new SentenceEmbedder(TextTokenizer.fromFolder(folder), encoder, { pooling: 'mean', normalize: false, maxSeqLength: 32 });
});
after(() => workspace.dispose());

const ANCHORS = [
  'how do i reset my password',
  'what is the capital of france',
  'how long to boil an egg',
  'why is the sky blue',
  'best way to learn python',
  'how does a vaccine work',
  'what time is sunset',
  'where do penguins live',
];
const POSITIVES = [
  'open settings and choose reset password',
  'paris is the capital of france',
  'boil the egg for nine minutes',
  'light scatters off air molecules',
  'write small programs every day',
  'it trains the immune system',
  'the sun sets around eight',
  'penguins live in the southern hemisphere',
];

function batch(from: number, to: number): TextBatch {
  return {
    anchor: ANCHORS.slice(from, to),
    positive: POSITIVES.slice(from, to),
    targets: { scores: Float32Array.from({ length: to - from }, (_, i) => ((from + i) % 3) / 2) },
  };
}

async function values(gradients: Map<string, tf.Tensor>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, gradient] of gradients) out.set(name, (await gradient.data()) as Float32Array);
  return out;
}

function assertClose(actual: Map<string, Float32Array>, expected: Map<string, Float32Array>, tolerance: number): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [name, want] of expected) {
    const got = actual.get(name)!;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      scale = Math.max(scale, Math.abs(want[i]!));
    }
    assert.ok(worst <= tolerance * Math.max(scale, 1e-3), `${name}: max difference ${worst} with max magnitude ${scale}`);
  }
}

const trainable = () => embedder.encoder.variables;
const coordinates = { seed: 7, step: 3, microBatch: 0 };

describe('gradients of one optimizer step', () => {
  it('with gradient accumulation equal the gradient of the whole batch, for a loss that averages over rows', async () => {
    const loss: LossSettings = { name: 'cosine', scale: 20, margin: 0.5, miniBatchSize: 4 };
    const whole = microBatchGradients(embedder, trainable(), batch(0, 8), loss, coordinates, false);
    const total = new Map<string, tf.Tensor>();
    for (const [index, [from, to]] of [
      [0, 4],
      [4, 8],
    ].entries()) {
      accumulate(
        total,
        microBatchGradients(embedder, trainable(), batch(from!, to!), loss, { ...coordinates, microBatch: index }, false).gradients,
      );
    }
    scaleGradients(total, 1 / 2);
    assertClose(await values(total), await values(whole.gradients), 1e-5);
  });

  it('with the gradient cache (cached_mnrl) equal plain MNRL on the same batch', async () => {
    const mnrl = microBatchGradients(
      embedder,
      trainable(),
      batch(0, 8),
      { name: 'mnrl', scale: 20, margin: 0, miniBatchSize: 8 },
      coordinates,
      false,
    );
    const cached = microBatchGradients(
      embedder,
      trainable(),
      batch(0, 8),
      { name: 'cached_mnrl', scale: 20, margin: 0, miniBatchSize: 3 },
      coordinates,
      false,
    );
    assert.ok(Math.abs(cached.loss - mnrl.loss) < 1e-5, `${cached.loss} vs ${mnrl.loss}`);
    assertClose(await values(cached.gradients), await values(mnrl.gradients), 1e-4);
  });

  it('replay the same dropout masks for the same coordinates, and draw new ones for another step', () => {
    const loss: LossSettings = { name: 'mnrl', scale: 20, margin: 0, miniBatchSize: 8 };
    const first = microBatchGradients(embedder, trainable(), batch(0, 8), loss, coordinates, true);
    const again = microBatchGradients(embedder, trainable(), batch(0, 8), loss, coordinates, true);
    const other = microBatchGradients(embedder, trainable(), batch(0, 8), loss, { ...coordinates, step: 4 }, true);
    assert.equal(first.loss, again.loss);
    assert.notEqual(first.loss, other.loss);
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    const { gradients } = microBatchGradients(
      embedder,
      trainable(),
      batch(0, 8),
      { name: 'cached_mnrl', scale: 20, margin: 0, miniBatchSize: 3 },
      coordinates,
      true,
    );
    const held = gradients.size;
    for (const gradient of gradients.values()) gradient.dispose();
    assert.equal(tf.memory().numTensors, before, `${held} gradients were returned; everything else must be freed`);
  });
});
