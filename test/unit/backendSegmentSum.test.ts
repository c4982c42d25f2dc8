import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { accumulateSegments, registerSegmentSumKernels } from '../../src/trainer/backend/segmentSumKernels';
import { selectBackend } from '../../src/trainer/backend/selectBackend';

describe('registerSegmentSumKernels', () => {
  // First in the file, so that its first call is the one that registers.
  it('can run any number of times, leaving one kernel per backend and printing nothing', () => {
    const warnings: unknown[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      registerSegmentSumKernels();
      const first = ['wasm', 'cpu'].map((backend) => tf.getKernel(tf.UnsortedSegmentSum, backend)?.kernelFunc);
      registerSegmentSumKernels();
      registerSegmentSumKernels();
      const again = ['wasm', 'cpu'].map((backend) => tf.getKernel(tf.UnsortedSegmentSum, backend)?.kernelFunc);
      assert.deepEqual(again, first);
      assert.ok(first.every((kernel) => typeof kernel === 'function'));
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(warnings, []);
  });
});

describe('accumulateSegments', () => {
  it('adds each row into the segment its id names and drops ids outside the segments', () => {
    const out = new Float32Array(3 * 2);
    accumulateSegments(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), Int32Array.from([2, 0, 2, -1, 3]), out, 2);
    assert.deepEqual(Array.from(out), [3, 4, 0, 0, 6, 8]);
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`UnsortedSegmentSum on ${backend}`, () => {
    it('sums rows by segment id, leaving empty segments zero and dropping out-of-range ids', async () => {
      await selectBackend(backend);
      const sums = tf.tidy(() =>
        tf
          .unsortedSegmentSum(
            tf.tensor2d([
              [1, 2],
              [3, 4],
              [5, 6],
              [7, 8],
            ]),
            tf.tensor1d([2, 0, 2, 5], 'int32'),
            4,
          )
          .arraySync(),
      );
      assert.deepEqual(sums, [
        [3, 4],
        [0, 0],
        [6, 8],
        [0, 0],
      ]);
    });

    it('sums whole slices of a 3-D int32 tensor by their leading index', async () => {
      await selectBackend(backend);
      const sums = tf.tidy(() =>
        tf.unsortedSegmentSum(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 2, 2], 'int32'), tf.tensor1d([1, 0, 1], 'int32'), 2),
      );
      assert.equal(sums.dtype, 'int32');
      assert.deepEqual(sums.arraySync(), [
        [
          [5, 6],
          [7, 8],
        ],
        [
          [10, 12],
          [14, 16],
        ],
      ]);
      sums.dispose();
    });

    it('gives tf.gather its gradient, which wasm alone cannot', async () => {
      await selectBackend(backend);
      const gradient = tf.tidy(() => {
        const [grad] = tf.grads((table: tf.Tensor) =>
          tf.sum(tf.mul(tf.gather(table, tf.tensor1d([1, 1, 0], 'int32')), tf.tensor2d([[1], [2], [4]]))),
        )([tf.zeros([3, 1])]);
        return grad!.arraySync();
      });
      assert.deepEqual(gradient, [[4], [3], [0]]);
    });
  });
}
