import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { encoderOpsFor } from '../../src/trainer/backend/encoderOpsFor';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { BertEncoder, type EncoderExtensions } from '../../src/trainer/model/bert/bertEncoder';
import { readBertConfig, readBertWeights, type BertConfig } from '../../src/trainer/model/bertConfig';
import type { NamedTensors } from '../../src/trainer/model/namedTensors';
import { SentenceEmbedder } from '../../src/trainer/model/sentenceEmbedder';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { disposeGradients, microBatchGradients, type LossSettings, type TextBatch } from '../../src/trainer/training/gradientStep';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

/*
 * Activation checkpointing recomputes each layer in the backward pass. It must change nothing but memory: the loss
 * and every gradient equal those of the pass that keeps its activations, dropout included (the replayed layer must
 * draw the same masks), for every strategy's variables, and it must leave no tensor behind.
 */

const workspace = new TempWorkspace();
let folder: string;
let config: BertConfig;
let weights: NamedTensors;
let tokenizer: TextTokenizer;

before(() => {
  ({ folder } = buildTinyBert(workspace.path('tiny'), { layers: 3, hidden: 32, heads: 4, intermediate: 64 }));
  ({ config } = readBertConfig(folder));
  weights = readBertWeights(folder, config);
  tokenizer = TextTokenizer.fromFolder(folder);
});
after(() => workspace.dispose());

const BATCH: TextBatch = {
  anchor: ['how do i reset my password', 'what is the capital of france', 'how long to boil an egg', 'why is the sky blue'],
  positive: [
    'open settings and choose reset password',
    'paris is the capital of france',
    'boil the egg for nine minutes',
    'light scatters off air',
  ],
  targets: {},
};
const MNRL: LossSettings = { name: 'mnrl', scale: 20, margin: 0, miniBatchSize: 4 };

interface Variant {
  readonly name: string;
  readonly trainable?: (name: string) => boolean;
  readonly extensions?: EncoderExtensions;
}

const VARIANTS: Variant[] = [
  { name: 'full' },
  {
    name: 'freeze (bottom layer and embeddings)',
    trainable: (name) => !name.startsWith('embeddings.') && !name.startsWith('encoder.layer.0.'),
  },
  {
    name: 'lora',
    trainable: (name) => name.includes('.lora_'),
    extensions: { seed: 3, lora: { r: 4, alpha: 8, dropout: 0.1, targets: ['query', 'value', 'dense'] } },
  },
  {
    name: 'adapter',
    trainable: (name) => name.includes('.adapter.') || name.includes('LayerNorm'),
    extensions: { seed: 3, adapter: { size: 8 } },
  },
];

function gradientsOf(variant: Variant, checkpointing: boolean, loss: LossSettings): { loss: number; gradients: Map<string, Float32Array> } {
  const encoder = BertEncoder.fromWeights(config, weights, encoderOpsFor(tf.getBackend()), variant.trainable, variant.extensions);
  // LoRA B starts at zero, which would hide its A's gradient; give B a value so that every path carries one.
  for (const [name, variable] of encoder.variables)
    if (name.includes('lora_B') || name.includes('adapter.up')) variable.assign(tf.randomNormal(variable.shape, 0, 0.05, 'float32', 11));
  encoder.gradientCheckpointing = checkpointing;
  const embedder = new SentenceEmbedder(tokenizer, encoder, { pooling: 'mean', normalize: false, maxSeqLength: 24 });
  const trainable = new Map([...encoder.variables].filter(([, variable]) => variable.trainable));
  const result = microBatchGradients(embedder, trainable, BATCH, loss, { seed: 5, step: 2, microBatch: 0 }, true);
  const gradients = new Map([...result.gradients].map(([name, gradient]) => [name, gradient.dataSync() as Float32Array]));
  disposeGradients(result.gradients);
  encoder.dispose();
  return { loss: result.loss, gradients };
}

function assertSameGradients(actual: Map<string, Float32Array>, expected: Map<string, Float32Array>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [name, want] of expected) {
    const got = actual.get(name)!;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      scale = Math.max(scale, Math.abs(want[i]!));
    }
    assert.ok(scale > 0, `${name}: the reference gradient is zero, so the comparison would prove nothing`);
    assert.ok(worst <= 1e-5 * scale, `${name}: max difference ${worst} against max magnitude ${scale}`);
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`activation checkpointing on the ${backend} backend`, () => {
    before(async () => {
      await selectBackend(backend);
    });

    for (const variant of VARIANTS) {
      it(`${variant.name}: the loss and every gradient equal those without checkpointing, with dropout on`, () => {
        const kept = gradientsOf(variant, false, MNRL);
        const recomputed = gradientsOf(variant, true, MNRL);
        assert.ok(kept.gradients.size > 0);
        assert.equal(recomputed.loss, kept.loss);
        assertSameGradients(recomputed.gradients, kept.gradients);
      });
    }

    it('composes with the gradient cache (cached_mnrl), which replays chunks', () => {
      const cached: LossSettings = { ...MNRL, name: 'cached_mnrl', miniBatchSize: 3 };
      const kept = gradientsOf(VARIANTS[0]!, false, cached);
      const recomputed = gradientsOf(VARIANTS[0]!, true, cached);
      assert.ok(Math.abs(recomputed.loss - kept.loss) <= 1e-6 * Math.abs(kept.loss));
      assertSameGradients(recomputed.gradients, kept.gradients);
    });

    it('leaves no tensor behind and keeps fewer bytes alive at the peak of a step', async () => {
      const peakOf = async (checkpointing: boolean) => {
        gradientsOf(VARIANTS[0]!, checkpointing, MNRL); // tfjs caches small scalars on first use.
        const before = tf.memory().numTensors;
        const profile = await tf.profile(() => {
          gradientsOf(VARIANTS[0]!, checkpointing, MNRL);
        });
        assert.equal(tf.memory().numTensors, before, `tensors left behind with checkpointing ${checkpointing}`);
        return profile.peakBytes;
      };
      const kept = await peakOf(false);
      const recomputed = await peakOf(true);
      // Three layers: keeping all their activations and gradients must cost clearly more than keeping one layer's.
      assert.ok(recomputed < 0.8 * kept, `peak ${recomputed} bytes with checkpointing against ${kept} without`);
    });
  });
}
