import * as tf from '@tensorflow/tfjs-core';

/**
 * Dropout whose masks are a pure function of (seed, step, micro-batch, call order). Replaying a forward pass
 * with the same coordinates draws the same masks, which the gradient cache and exact resume both rely on.
 */
export class DropoutSource {
  private calls = 0;

  constructor(private readonly seed: number) {}

  apply(x: tf.Tensor, rate: number): tf.Tensor {
    const callSeed = mixSeed(this.seed, this.calls++);
    return tf.dropout(x, rate, undefined, callSeed);
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
