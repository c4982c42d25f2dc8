import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { scatterEmbeddingLookup } from '../../src/trainer/backend/scatterEmbeddingLookup';
import { selectBackend } from '../../src/trainer/backend/selectBackend';

/** Row r holds r + column / 4 (exact in float32), so a looked-up value names its row. */
function numberedTable(vocab: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from({ length: vocab * dim }, (_, i) => Math.floor(i / dim) + (i % dim) / 4),
    [vocab, dim],
  );
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`the scatter-gradient embedding lookup on ${backend}`, () => {
    it('returns the rows the ids name, in order, repeats included', async () => {
      await selectBackend(backend);
      const rows = tf.tidy(() => scatterEmbeddingLookup(numberedTable(6, 2), tf.tensor1d([4, 0, 4], 'int32')).arraySync());
      assert.deepEqual(rows, [
        [4, 4.25],
        [0, 0.25],
        [4, 4.25],
      ]);
    });

    it('gives the table a gradient that sums the rows of repeated ids and is zero elsewhere', async () => {
      await selectBackend(backend);
      const gradient = tf.tidy(() => {
        const table = numberedTable(5, 2);
        const dy = tf.tensor2d([
          [1, 2],
          [10, 20],
          [100, 200],
        ]);
        const [grad] = tf.grads((t: tf.Tensor) =>
          tf.sum(tf.mul(scatterEmbeddingLookup(t as tf.Tensor2D, tf.tensor1d([3, 1, 3], 'int32')), dy)),
        )([table]);
        return grad!.arraySync();
      });
      assert.deepEqual(gradient, [
        [0, 0],
        [10, 20],
        [0, 0],
        [101, 202],
        [0, 0],
      ]);
    });

    it('still has its ids for the backward pass after the tidy that made them disposed them', async () => {
      await selectBackend(backend);
      // As in the BERT encoder: ids are made and disposed inside the forward pass's own tidy.
      const gradient = tf.tidy(() => {
        const table = numberedTable(4, 1);
        const [grad] = tf.grads((t: tf.Tensor) =>
          tf.sum(tf.tidy(() => scatterEmbeddingLookup(t as tf.Tensor2D, tf.tensor1d([2, 2], 'int32')))),
        )([table]);
        return grad!.arraySync();
      });
      assert.deepEqual(gradient, [[0], [0], [2], [0]]);
    });

    it('computes a 30522-row vocabulary gradient in time linear in the batch, not the vocabulary', async () => {
      await selectBackend(backend);
      const table = tf.zeros([30522, 32]) as tf.Tensor2D;
      const ids = tf.tensor1d(
        Int32Array.from({ length: 256 }, (_, i) => (i * 977) % 30522),
        'int32',
      );
      const start = performance.now();
      const nonZeroRows = tf.tidy(() => {
        const [grad] = tf.grads((t: tf.Tensor) => tf.sum(scatterEmbeddingLookup(t as tf.Tensor2D, ids)))([table]);
        return tf.sum(tf.cast(tf.greater(tf.sum(grad!, 1), 0), 'int32')).dataSync()[0];
      });
      const elapsedMs = performance.now() - start;
      tf.dispose([table, ids]);
      assert.equal(nonZeroRows, 256);
      // A per-vocabulary-row kernel (tfjs-backend-cpu's UnsortedSegmentSum) takes tens of seconds here.
      assert.ok(elapsedMs < 2000, `the gradient took ${Math.round(elapsedMs)} ms`);
    });
  });
}

describe('the scatter-gradient embedding lookup on wasm', () => {
  it('rejects an id outside the table instead of reading past it', async () => {
    await selectBackend('wasm');
    tf.tidy(() => {
      const table = numberedTable(3, 2);
      assert.throws(
        () => scatterEmbeddingLookup(table, tf.tensor1d([0, 3], 'int32')),
        /Token id 3 is outside the embedding table's 3 rows/,
      );
      assert.throws(() => scatterEmbeddingLookup(table, tf.tensor1d([-1], 'int32')), /Token id -1 is outside/);
    });
  });
});
