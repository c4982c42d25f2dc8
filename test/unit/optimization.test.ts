import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW, clipByGlobalNorm, DEFAULT_ADAMW } from '../../src/trainer/training/adamW';
import { learningRateAt } from '../../src/trainer/training/learningRateSchedule';

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

describe('AdamW', () => {
  it('matches torch.optim.AdamW step for step, with decoupled decay only on weights', async () => {
    await tf.setBackend('cpu');
    const weight = tf.variable(tf.tensor1d([0.5, -1.0]), true, 'w');
    const bias = tf.variable(tf.tensor1d([0.25]), true, 'b');
    const optimizer = new AdamW(
      new Map([
        ['layer.dense.weight', weight],
        ['layer.dense.bias', bias],
      ]),
      { ...DEFAULT_ADAMW, weightDecay: 0.1 },
    );
    const lr = 0.01;
    const grads = [
      [0.2, -0.4, 1.0],
      [0.1, 0.3, -0.5],
    ];
    // The torch update written out: p *= 1 - lr·wd; m, v moments; p -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps).
    const expected = { w: [0.5, -1.0], b: [0.25] };
    const m = { w: [0, 0], b: [0] };
    const v = { w: [0, 0], b: [0] };
    for (let step = 1; step <= grads.length; step++) {
      const g = grads[step - 1]!;
      optimizer.apply(
        new Map([
          ['layer.dense.weight', tf.tensor1d(g.slice(0, 2))],
          ['layer.dense.bias', tf.tensor1d(g.slice(2))],
        ]),
        lr,
      );
      for (const [key, grad, decay] of [
        ['w', g.slice(0, 2), 0.1],
        ['b', g.slice(2), 0],
      ] as const) {
        for (let i = 0; i < grad.length; i++) {
          expected[key][i] = expected[key][i]! * (1 - lr * decay);
          m[key][i] = 0.9 * m[key][i]! + 0.1 * grad[i]!;
          v[key][i] = 0.999 * v[key][i]! + 0.001 * grad[i]! ** 2;
          const denominator = Math.sqrt(v[key][i]!) / Math.sqrt(1 - 0.999 ** step) + 1e-8;
          expected[key][i] = expected[key][i]! - (lr / (1 - 0.9 ** step)) * (m[key][i]! / denominator);
        }
      }
      close(await weight.data(), expected.w);
      close(await bias.data(), expected.b);
    }
  });

  it('gives a task head its own learning rate, as a torch parameter group with its own lr does', async () => {
    await tf.setBackend('cpu');
    const start = { encoder: [0.5, -1.0, 0.25], head: [0.1, -0.2, 0.3] };
    const grads = [
      [0.2, -0.4, 1.0],
      [0.1, 0.3, -0.5],
      [-0.7, 0.05, 0.2],
    ];
    const settings = { ...DEFAULT_ADAMW, weightDecay: 0.1 };
    const encoder = tf.variable(tf.tensor1d(start.encoder));
    const head = tf.variable(tf.tensor1d(start.head));
    const grouped = new AdamW(
      new Map([
        ['encoder.layer.0.dense.weight', encoder],
        ['classifier.weight', head],
      ]),
      { ...settings, learningRateScale: (name) => (name.startsWith('classifier.') ? 20 : 1) },
    );
    // The same two variables, each under its own optimizer at its own rate: what two parameter groups amount to.
    const encoderAlone = tf.variable(tf.tensor1d(start.encoder));
    const headAlone = tf.variable(tf.tensor1d(start.head));
    const encoderOptimizer = new AdamW(new Map([['encoder.layer.0.dense.weight', encoderAlone]]), settings);
    const headOptimizer = new AdamW(new Map([['classifier.weight', headAlone]]), settings);
    const lr = 0.001;
    for (const g of grads) {
      grouped.apply(
        new Map([
          ['encoder.layer.0.dense.weight', tf.tensor1d(g)],
          ['classifier.weight', tf.tensor1d(g)],
        ]),
        lr,
      );
      encoderOptimizer.apply(new Map([['encoder.layer.0.dense.weight', tf.tensor1d(g)]]), lr);
      headOptimizer.apply(new Map([['classifier.weight', tf.tensor1d(g)]]), lr * 20);
    }
    close(await encoder.data(), await encoderAlone.data(), 0);
    close(await head.data(), await headAlone.data(), 0);
    // With equal gradients, the head moved 20 times as far from where it started (decay aside).
    const moved = (now: ArrayLike<number>, from: number[]) => Math.abs(now[0]! - from[0]!);
    assert.ok(moved(await head.data(), start.head) > 10 * moved(await encoder.data(), start.encoder));
  });

  it('keeps state only for the variables it trains', () => {
    const optimizer = new AdamW(new Map([['a.weight', tf.variable(tf.zeros([3, 4]))]]), { ...DEFAULT_ADAMW, weightDecay: 0 });
    assert.equal(optimizer.stateParameterCount, 24);
  });
});

describe('gradient clipping by global norm', () => {
  it('scales all gradients together when the norm exceeds the limit, and reports the norm before clipping', async () => {
    const gradients = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor1d([0, 4])],
    ]);
    const norm = clipByGlobalNorm(gradients, 1);
    assert.ok(Math.abs(norm - 5) < 1e-6);
    close(await gradients.get('a')!.data(), [3 / (5 + 1e-6), 0]);
    close(await gradients.get('b')!.data(), [0, 4 / (5 + 1e-6)]);
    const small = new Map<string, tf.Tensor>([['a', tf.tensor1d([0.3, 0.4])]]);
    clipByGlobalNorm(small, 1);
    close(await small.get('a')!.data(), [0.3, 0.4]);
  });
});

describe('learning-rate schedules', () => {
  it('warm up linearly, then decay as Hugging Face schedules do', () => {
    assert.equal(learningRateAt(0, 1, 10, 110, 'linear'), 0);
    assert.equal(learningRateAt(5, 1, 10, 110, 'linear'), 0.5);
    assert.equal(learningRateAt(10, 1, 10, 110, 'linear'), 1);
    assert.equal(learningRateAt(60, 1, 10, 110, 'linear'), 0.5);
    assert.equal(learningRateAt(110, 1, 10, 110, 'linear'), 0);
    assert.ok(Math.abs(learningRateAt(60, 1, 10, 110, 'cosine') - 0.5) < 1e-12);
    assert.ok(Math.abs(learningRateAt(35, 1, 10, 110, 'cosine') - 0.5 * (1 + Math.cos(Math.PI * 0.25))) < 1e-12);
    assert.equal(learningRateAt(100, 2, 10, 110, 'constant'), 2);
    assert.equal(learningRateAt(3, 2, 0, 110, 'constant'), 2);
  });
});

describe('optimizer memory', () => {
  it('holds exactly two moment tensors per variable and leaks nothing when created and disposed', () => {
    const variable = tf.variable(tf.zeros([4, 4]));
    const before = tf.memory().numTensors;
    const optimizer = new AdamW(new Map([['w.weight', variable]]), { ...DEFAULT_ADAMW, weightDecay: 0 });
    assert.equal(tf.memory().numTensors, before + 2);
    optimizer.apply(new Map([['w.weight', tf.ones([4, 4])]]), 0.1);
    optimizer.dispose();
    assert.equal(tf.memory().numTensors, before + 1, 'only the gradient passed in is left, owned by the caller');
  });
});
