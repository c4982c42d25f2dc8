import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { referenceEncoderOps } from '../../src/trainer/backend/encoderOps';
import { loadEmbedder } from '../../src/trainer/model/loadEmbedder';
import { embeddingLoss, type LossParameters, type RoleEmbeddings } from '../../src/trainer/training/embeddingLosses';
import { disposeGradients, microBatchGradients, type LossSettings, type TextBatch } from '../../src/trainer/training/gradientStep';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

/*
 * loss.matryoshka against values worked out by hand on vectors chosen so that every cosine and distance is exact.
 * sentence-transformers' MatryoshkaLoss cuts each embedding to d components, normalizes it to unit length again
 * (its `shrink`), and sums weight_d · loss; the triplet case is chosen so that leaving out that normalization
 * gives another value.
 */

before(async () => {
  await tf.setBackend('cpu');
});

const roles = (anchor: number[][], positive: number[][], negative?: number[][]): RoleEmbeddings => ({
  anchor: tf.tensor2d(anchor),
  positive: tf.tensor2d(positive),
  ...(negative ? { negative: tf.tensor2d(negative) } : {}),
});

function lossValue(name: 'mnrl' | 'triplet' | 'cosine', embeddings: RoleEmbeddings, parameters: LossParameters, scores?: number[]): number {
  const loss = embeddingLoss(name, embeddings, scores ? { scores: Float32Array.from(scores) } : {}, parameters);
  const value = loss.dataSync()[0]!;
  loss.dispose();
  return value;
}

describe('loss.matryoshka', () => {
  it('sums MNRL at each cut size, weighted: log(1+e^(-1/√2)) at 4 dims plus 0.5·log(1+e^(-1)) at 2', () => {
    // At 4 dims each anchor's cosine with its own positive is 1/√2 and with the other 0; at 2 dims they are 1 and 0.
    // With scale 1 each row's MNRL is then log(1 + e^(-cos_own)).
    const embeddings = roles(
      [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
      ],
      [
        [1, 0, 1, 0],
        [0, 1, 0, 1],
      ],
    );
    const expected = Math.log(1 + Math.exp(-1 / Math.SQRT2)) + 0.5 * Math.log(1 + Math.exp(-1));
    const value = lossValue('mnrl', embeddings, { scale: 1, margin: 0, matryoshka: { dims: [4, 2], weights: [1, 0.5] } });
    assert.ok(Math.abs(value - expected) < 1e-6, `loss ${value}, by hand ${expected}`);
    const plain = lossValue('mnrl', embeddings, { scale: 1, margin: 0 });
    assert.ok(Math.abs(plain - Math.log(1 + Math.exp(-1 / Math.SQRT2))) < 1e-6, `plain MNRL ${plain}`);
  });

  it('normalizes each cut embedding again, so the Euclidean triplet loss sees unit vectors: 0.5 + 0, where raw vectors give 0', () => {
    // Unit at 4 dims: a=(1,0,1,0)/√2, p=(1,0,0,1)/√2, n=(0,1,1,0)/√2, so |a−p| = |a−n| = 1 and relu(1 − 1 + 0.5) = 0.5.
    // At 2 dims: a=(1,0), p=(1,0), n=(0,1), so relu(0 − √2 + 0.5) = 0. Unnormalized, both terms are 0.
    const embeddings = roles([[2, 0, 2, 0]], [[1, 0, 0, 1]], [[0, 3, 3, 0]]);
    const value = lossValue('triplet', embeddings, { scale: 20, margin: 0.5, matryoshka: { dims: [4, 2], weights: [1, 1] } });
    assert.ok(Math.abs(value - 0.5) < 1e-6, `loss ${value}, by hand 0.5`);
    assert.equal(lossValue('triplet', embeddings, { scale: 20, margin: 0.5 }), 0, 'the plain triplet loss on raw vectors');
  });

  it('weights scale each size: CosineSimilarityLoss at 2 dims with weight 3 is 3·(cos − score)²', () => {
    // At 2 dims a=(1,0), p=(1,1)/√2: cos = 1/√2; gold score 0 gives 3 · 1/2 = 1.5.
    const embeddings = roles([[5, 0, 9, 9]], [[1, 1, -4, 2]]);
    const value = lossValue('cosine', embeddings, { scale: 20, margin: 0, matryoshka: { dims: [2], weights: [3] } }, [0]);
    assert.ok(Math.abs(value - 1.5) < 1e-6, `loss ${value}, by hand 1.5`);
  });

  it('refuses a dimension above the embedding size, naming both', () => {
    const embeddings = roles([[1, 0]], [[0, 1]]);
    assert.throws(
      () => lossValue('mnrl', embeddings, { scale: 20, margin: 0, matryoshka: { dims: [8], weights: [1] } }),
      /loss\.matryoshka\.dims has 8, more than the model's embedding dimension 2/,
    );
  });
});

describe('loss.matryoshka under the gradient cache', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('gives cached_mnrl the loss and gradients of mnrl, both wrapped, as CachedLossDecorator does', async () => {
    const { folder } = buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32, seed: 9 });
    const { embedder } = await loadEmbedder({
      base: folder,
      baseDir: workspace.path('.'),
      written: undefined,
      resolved: { base: folder, pooling: 'mean', normalize: true, max_seq_length: 16 },
      ops: referenceEncoderOps,
      env: { EMBEDTUNE_OFFLINE: '1' },
    });
    const words = 'river stone light paper music water field night'.split(' ');
    const batch: TextBatch = {
      anchor: words.map((word, i) => `${word} ${words[(i + 3) % words.length]}`),
      positive: words.map((word, i) => `${words[(i + 5) % words.length]} ${word} ${word}`),
      targets: {},
    };
    const matryoshka = { dims: [16, 8, 4], weights: [1, 0.5, 0.25] };
    const run = (settings: LossSettings) => {
      const result = microBatchGradients(embedder, embedder.encoder.variables, batch, settings, { seed: 1, step: 0, microBatch: 0 }, false);
      const gradients = new Map([...result.gradients].map(([name, gradient]) => [name, gradient.dataSync() as Float32Array]));
      disposeGradients(result.gradients);
      return { loss: result.loss, gradients };
    };
    const direct = run({ name: 'mnrl', scale: 20, margin: 0, miniBatchSize: 64, matryoshka });
    const cached = run({ name: 'cached_mnrl', scale: 20, margin: 0, miniBatchSize: 3, matryoshka });
    const unwrapped = run({ name: 'mnrl', scale: 20, margin: 0, miniBatchSize: 64 });
    assert.ok(Math.abs(direct.loss - cached.loss) < 1e-5, `mnrl ${direct.loss}, cached_mnrl ${cached.loss}`);
    assert.ok(Math.abs(direct.loss - unwrapped.loss) > 1e-3, 'the wrapper changes the loss');
    assert.ok(direct.gradients.size > 10 && cached.gradients.size === direct.gradients.size, `${direct.gradients.size} gradients`);
    let worst = 0;
    for (const [name, gradient] of direct.gradients) {
      const other = cached.gradients.get(name)!;
      gradient.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - other[i]!))));
    }
    assert.ok(worst < 1e-5, `largest gradient difference ${worst}`);
  });
});
