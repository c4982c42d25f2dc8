import * as tf from '@tensorflow/tfjs-core';

/**
 * Dropout whose masks are a pure function of (seed, step, micro-batch, call order). Replaying a forward pass
 * with the same coordinates draws the same masks, which the gradient cache and exact resume both rely on.
 */
export class DropoutSource {
  private calls = 0;

  constructor(private readonly seed: number) {}

  /**
   * x with each element zeroed with probability `rate` and the rest scaled by 1 / (1 - rate), as tf.dropout does.
   * The mask comes from mulberry32 in a plain loop: tf.dropout draws through tfjs's seeded Alea generator, which took
   * 60 to 190 ms per million elements here (over a second a step for BERT-mini at batch 32), against a few ms.
   */
  apply(x: tf.Tensor, rate: number): tf.Tensor {
    const mask = dropoutMask(x.size, rate, mixSeed(this.seed, this.calls++));
    return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
  }

  /** A seed for a sub-source, drawn like one more call, so that a part of the pass can be replayed on its own. */
  nextSeed(): number {
    return mixSeed(this.seed, this.calls++);
  }

  /** A source for one forward pass, identified by the step and the chunk within it. */
  static forPass(baseSeed: number, step: number, chunk: number): DropoutSource {
    return new DropoutSource(mixSeed(mixSeed(baseSeed, step), chunk));
  }
}

/** A 32-bit integer hash (from murmur3's finalizer), so nearby inputs give unrelated seeds. */
export function mixSeed(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x6a09e667, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** size values: 0 with probability `rate`, else 1 / (1 - rate); a pure function of the seed (mulberry32). */
export function dropoutMask(size: number, rate: number, seed: number): Float32Array {
  const keep = 1 - rate;
  const scale = 1 / keep;
  // Compare the raw 32-bit draw with the threshold instead of dividing each one.
  const threshold = Math.floor(keep * 4294967296);
  const mask = new Float32Array(size);
  let state = seed | 0;
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    if ((t ^ (t >>> 14)) >>> 0 < threshold) mask[i] = scale;
  }
  return mask;
}
