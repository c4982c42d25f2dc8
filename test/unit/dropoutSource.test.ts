import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DropoutSource, dropoutMask } from '../../src/trainer/model/bert/dropoutSource';

describe('dropout masks', () => {
  it('zero each element with probability rate and scale the rest by 1 / (1 - rate)', () => {
    for (const rate of [0.1, 0.5]) {
      const mask = dropoutMask(200_000, rate, 12345);
      const kept = mask.filter((value) => value !== 0);
      assert.ok(kept.every((value) => Math.abs(value - 1 / (1 - rate)) < 1e-6));
      // Binomial standard deviation at n = 200k is at most 0.0011; allow five of them.
      assert.ok(Math.abs(kept.length / mask.length - (1 - rate)) < 0.0056, `kept ${kept.length / mask.length} at rate ${rate}`);
      // Neighbours must be independent: a sequential generator with a short period or a stuck bit would show here.
      let bothDropped = 0;
      for (let i = 1; i < mask.length; i++) if (mask[i] === 0 && mask[i - 1] === 0) bothDropped++;
      assert.ok(Math.abs(bothDropped / (mask.length - 1) - rate * rate) < 0.006, `pairs dropped together: ${bothDropped / mask.length}`);
    }
  });

  it('are a pure function of the seed, and differ between seeds and between calls', () => {
    assert.deepEqual(dropoutMask(1000, 0.1, 7), dropoutMask(1000, 0.1, 7));
    assert.notDeepEqual(dropoutMask(1000, 0.1, 7), dropoutMask(1000, 0.1, 8));
    const x = tf.ones([64, 64]);
    const replay = (seed: number) => {
      const source = new DropoutSource(seed);
      return [source.apply(x, 0.3).arraySync(), source.apply(x, 0.3).arraySync()];
    };
    const [first, second] = replay(99);
    assert.deepEqual(replay(99), [first, second]);
    assert.notDeepEqual(first, second);
    x.dispose();
  });
});
