import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { im2colFilterGradient, trainableConv2d } from '../../src/trainer/backend/trainableConv2d';

/** Float32 rounding of sums over a few hundred products, relative to the largest magnitude. */
const TOLERANCE = 1e-4;

interface ConvCase {
  readonly batch: number;
  readonly size: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
}

// Kernels 1, 3, 7; strides 1, 2; padding 0, 1, 3; batch > 1; odd and even sizes (a stride-2 window that misses the
// last row must still give that row a zero gradient).
const CASES: ConvCase[] = [
  { batch: 2, size: 6, inChannels: 4, outChannels: 5, kernel: 1, stride: 1, padding: 0 },
  { batch: 3, size: 7, inChannels: 4, outChannels: 6, kernel: 1, stride: 2, padding: 0 },
  { batch: 2, size: 8, inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 1 },
  { batch: 2, size: 9, inChannels: 5, outChannels: 3, kernel: 3, stride: 2, padding: 1 },
  { batch: 2, size: 8, inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 0 },
  { batch: 2, size: 12, inChannels: 3, outChannels: 8, kernel: 7, stride: 2, padding: 3 },
  { batch: 3, size: 10, inChannels: 2, outChannels: 3, kernel: 7, stride: 1, padding: 3 },
];

const describeCase = (c: ConvCase) =>
  `${c.kernel}x${c.kernel} stride ${c.stride} padding ${c.padding}, batch ${c.batch}, ${c.size}x${c.size}x${c.inChannels} → ${c.outChannels}`;

interface CaseData {
  readonly input: Float32Array;
  readonly filter: Float32Array;
  readonly weighting: Float32Array;
  readonly outputShape: number[];
}

interface Result {
  readonly value: Float32Array;
  readonly dInput: Float32Array;
  readonly dFilter: Float32Array;
}

const inputShape = (c: ConvCase): [number, number, number, number] => [c.batch, c.size, c.size, c.inChannels];
const filterShape = (c: ConvCase): [number, number, number, number] => [c.kernel, c.kernel, c.inChannels, c.outChannels];

/** Seeded values made once on cpu, so both backends see the same numbers. */
function caseData(c: ConvCase, seed: number): CaseData {
  return tf.tidy(() => {
    const size = Math.floor((c.size + 2 * c.padding - c.kernel) / c.stride) + 1;
    const outputShape = [c.batch, size, size, c.outChannels];
    const draw = (shape: number[], offset: number) => tf.randomNormal(shape, 0, 1, 'float32', seed + offset).dataSync() as Float32Array;
    return { input: draw(inputShape(c), 0), filter: draw(filterShape(c), 1), weighting: draw(outputShape, 2), outputShape };
  });
}

/** The convolution and the gradients of sum(conv · weighting) on the active backend. */
function run(c: ConvCase, data: CaseData, conv: typeof trainableConv2d): Result {
  return tf.tidy(() => {
    const input = tf.tensor4d(data.input, inputShape(c));
    const filter = tf.tensor4d(data.filter, filterShape(c));
    const weighting = tf.tensor(data.weighting, data.outputShape);
    const loss = (x: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(conv(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.padding), weighting));
    const [dInput, dFilter] = tf.grads(loss)([input, filter]);
    const value = conv(input, filter, c.stride, c.padding);
    return {
      value: value.dataSync() as Float32Array,
      dInput: dInput!.dataSync() as Float32Array,
      dFilter: dFilter!.dataSync() as Float32Array,
    };
  });
}

/** The stock cpu backend's own convolution (explicit padding, then 'valid'), the reference. */
const stockConv: typeof trainableConv2d = (input, filter, stride, padding) =>
  tf.conv2d(
    tf.pad(input, [
      [0, 0],
      [padding, padding],
      [padding, padding],
      [0, 0],
    ]),
    filter,
    stride,
    'valid',
  );

function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length, 'sizes differ');
  let difference = 0;
  let scale = 1e-30;
  for (let i = 0; i < expected.length; i++) {
    difference = Math.max(difference, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return difference / scale;
}

function assertClose(actual: Result, expected: Result, label: string): void {
  for (const key of ['value', 'dInput', 'dFilter'] as const) {
    const error = relativeError(actual[key], expected[key]);
    assert.ok(error <= TOLERANCE, `${label}: ${key} differs from the stock cpu backend's by ${error} (relative)`);
  }
}

async function onBackend<T>(name: 'cpu' | 'wasm', body: () => T): Promise<T> {
  await selectBackend(name);
  assert.equal(tf.getBackend(), name);
  return body();
}

describe('trainableConv2d on wasm', () => {
  const expected = new Map<ConvCase, Result>();
  const data = new Map<ConvCase, CaseData>();

  before(async () => {
    await onBackend('cpu', () => {
      CASES.forEach((c, i) => {
        data.set(c, caseData(c, 100 * (i + 1)));
        expected.set(c, run(c, data.get(c)!, stockConv));
      });
    });
    await selectBackend('wasm');
  });

  it('is needed: the stock wasm convolution has no filter gradient', () => {
    tf.tidy(() => {
      const filter = tf.ones([3, 3, 2, 2]);
      assert.throws(
        () => tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(tf.ones([1, 5, 5, 2]) as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid')))(filter),
        /Conv2DBackpropFilter/,
      );
    });
  });

  for (const c of CASES) {
    it(`${describeCase(c)}: value, dInput and dFilter equal the stock cpu backend's`, () => {
      assert.equal(tf.getBackend(), 'wasm');
      assertClose(run(c, data.get(c)!, trainableConv2d), expected.get(c)!, describeCase(c));
    });
  }

  it('equals central finite differences of a nonlinear loss, for input and filter entries', () => {
    const c = CASES[3]!;
    const d = data.get(c)!;
    // tanh makes the loss nonlinear in both operands, so the check covers the chain through the convolution.
    const loss = (input: Float32Array, filter: Float32Array) =>
      tf.tidy(() => {
        const y = trainableConv2d(tf.tensor4d(input, inputShape(c)), tf.tensor4d(filter, filterShape(c)), c.stride, c.padding);
        return tf.sum(tf.mul(tf.tanh(tf.mul(y, 0.3)), tf.tensor(d.weighting, d.outputShape))).dataSync()[0]!;
      });
    const analytic = tf.tidy(() => {
      const [dx, df] = tf.grads((x: tf.Tensor, f: tf.Tensor) => {
        const y = trainableConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.padding);
        return tf.sum(tf.mul(tf.tanh(tf.mul(y, 0.3)), tf.tensor(d.weighting, d.outputShape)));
      })([tf.tensor4d(d.input, inputShape(c)), tf.tensor4d(d.filter, filterShape(c))]);
      return { input: dx!.dataSync() as Float32Array, filter: df!.dataSync() as Float32Array };
    });
    const epsilon = 1e-2;
    for (const which of ['input', 'filter'] as const) {
      const values = which === 'input' ? d.input : d.filter;
      for (const index of [0, 7, Math.floor(values.length / 2), values.length - 1]) {
        const shifted = (delta: number) => {
          const copy = Float32Array.from(values);
          copy[index]! += delta;
          return which === 'input' ? loss(copy, d.filter) : loss(d.input, copy);
        };
        const numeric = (shifted(epsilon) - shifted(-epsilon)) / (2 * epsilon);
        const got = analytic[which][index]!;
        assert.ok(
          Math.abs(got - numeric) <= 2e-2 * Math.max(1, Math.abs(numeric)),
          `${which}[${index}]: analytic ${got}, numeric ${numeric}`,
        );
      }
    }
  });

  it('chunks im2col over the batch without changing dFilter', () => {
    tf.tidy(() => {
      const c = CASES[3]!;
      const d = data.get(c)!;
      const x = tf.pad(tf.tensor4d(d.input, inputShape(c)), [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]) as tf.Tensor4D;
      const dy = tf.tensor4d(d.weighting, d.outputShape as [number, number, number, number]);
      const whole = im2colFilterGradient(x, dy, filterShape(c), c.stride).dataSync() as Float32Array;
      // A budget below one image's im2col: one image per chunk.
      const chunked = im2colFilterGradient(x, dy, filterShape(c), c.stride, 1).dataSync() as Float32Array;
      assert.ok(relativeError(chunked, whole) <= 1e-6);
      assert.ok(relativeError(whole, expected.get(c)!.dFilter) <= TOLERANCE);
    });
  });

  it('with a frozen filter gives the stock dInput and no filter gradient', () => {
    const c = CASES[2]!;
    const d = data.get(c)!;
    const filter = tf.variable(tf.tensor4d(d.filter, filterShape(c)), false);
    try {
      const dInput = tf.tidy(() => {
        const weighting = tf.tensor(d.weighting, d.outputShape);
        const f = (x: tf.Tensor) => tf.sum(tf.mul(trainableConv2d(x as tf.Tensor4D, filter, c.stride, c.padding), weighting));
        return tf
          .grad(f)(tf.tensor4d(d.input, inputShape(c)))
          .dataSync() as Float32Array;
      });
      assert.ok(relativeError(dInput, expected.get(c)!.dInput) <= TOLERANCE);
    } finally {
      filter.dispose();
    }
  });

  it('leaves no tensors behind', () => {
    const c = CASES[5]!;
    const d = data.get(c)!;
    run(c, d, trainableConv2d); // First calls may create lasting state (tfjs caches small scalars).
    const before = tf.memory().numTensors;
    run(c, d, trainableConv2d);
    assert.equal(tf.memory().numTensors - before, 0);
  });
});

/** A ResNet basic block with a stride-2 projection shortcut and train-mode BatchNorm, as the ResNet runs it. */
function residualBlock(x: tf.Tensor4D, weights: tf.Tensor[], conv: typeof trainableConv2d): tf.Scalar {
  const [conv1, conv2, shortcut, gamma, beta, head] = weights as [
    tf.Tensor4D,
    tf.Tensor4D,
    tf.Tensor4D,
    tf.Tensor1D,
    tf.Tensor1D,
    tf.Tensor2D,
  ];
  const batchNorm = (h: tf.Tensor4D) => {
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    return tf.batchNorm(h, mean, variance, beta, gamma, 1e-5);
  };
  const stem = tf.maxPool(
    tf.pad(
      tf.relu(conv(x, conv1, 1, 1)),
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      -Infinity,
    ),
    3,
    2,
    'valid',
  );
  const branch = batchNorm(conv(tf.relu(batchNorm(conv(stem, conv2, 1, 1))) as tf.Tensor4D, conv2, 1, 1));
  const projected = batchNorm(conv(x, shortcut, 2, 0));
  const pooled = tf.mean(tf.relu(tf.add(branch, projected)), [1, 2]) as tf.Tensor2D;
  return tf.sum(tf.square(tf.matMul(pooled, head)));
}

describe('trainableConv2d in a residual block', () => {
  const shapes = [[3, 3, 4, 4], [3, 3, 4, 4], [1, 1, 4, 4], [4], [4], [4, 3]];
  const inputShapeOfBlock: [number, number, number, number] = [2, 12, 12, 4];
  const gradientsOn = async (backend: 'cpu' | 'wasm', conv: typeof trainableConv2d) =>
    onBackend(backend, () =>
      tf.tidy(() => {
        const weights = shapes.map((shape, i) => tf.randomNormal(shape, i === 3 ? 1 : 0, 0.5, 'float32', 40 + i));
        const x = tf.randomNormal(inputShapeOfBlock, 0, 1, 'float32', 39);
        const grads = tf.grads((input: tf.Tensor, ...w: tf.Tensor[]) => residualBlock(input as tf.Tensor4D, w, conv))([x, ...weights]);
        return grads.map((g) => g.dataSync() as Float32Array);
      }),
    );

  it('gives every gradient (input, three filters, BatchNorm, head) as the stock cpu backend does', async () => {
    const expected = await gradientsOn('cpu', stockConv);
    const actual = await gradientsOn('wasm', trainableConv2d);
    assert.equal(actual.length, expected.length);
    actual.forEach((grad, i) => {
      const error = relativeError(grad, expected[i]!);
      assert.ok(error <= 1e-3, `gradient ${i} differs from the stock cpu backend's by ${error} (relative)`);
    });
  });
});
