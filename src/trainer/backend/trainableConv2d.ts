import * as tf from '@tensorflow/tfjs-core';

/*
 * tfjs-backend-wasm 4.22 has every kernel a ResNet training step needs (Conv2DBackpropInput, MaxPoolGrad, the
 * element-wise and reduction gradients) except Conv2DBackpropFilter, so on wasm a convolution's filter gradient is
 * computed here: im2col (one slice of the padded input per kernel tap) times the output gradient, as one plain 2-D
 * matMul, the only product shape wasm hands to XNNPACK. The forward pass stays the stock Conv2D (XNNPACK); dInput
 * is a Conv2D too where the stride is 1 (see inputGradient). cpu and tfjs-node run the stock ops throughout.
 */

/** tf.customGrad passes the inputs, then the function that saves tensors for the backward pass. */
type CustomGradArgs = Array<tf.Tensor | tf.GradSaveFunc>;

/**
 * Largest im2col block, in float32 elements (64 MiB). A ResNet-50 stem at 224x224 has 12544 output pixels of 147
 * values per image (7 MiB); larger batches are cut into runs of whole images whose filter gradients are summed.
 */
export const IM2COL_BUDGET_ELEMENTS = 16 * 1024 * 1024;

/**
 * A 2-D convolution that can train on every backend: NHWC input, filter [kh, kw, in, out], symmetric zero padding as
 * PyTorch's padding=N. The padding is explicit (tf.pad, then 'valid') because tfjs-node's Conv2D takes only 'valid'
 * and 'same', and 'same' pads differently from PyTorch at stride 2.
 */
export function trainableConv2d(input: tf.Tensor4D, filter: tf.Tensor4D, stride: number, padding: number): tf.Tensor4D {
  return tf.tidy(() => {
    const padded = padSpatially(input, padding, 0);
    if (tf.getBackend() !== 'wasm') return tf.conv2d(padded, filter, stride, 'valid');
    return isFrozen(filter) ? frozenFilterConv(padded, filter, stride) : im2colGradConv(padded, filter, stride);
  });
}

/** The wasm convolution ('valid', on the padded input) with dInput as a convolution and dFilter by im2col. */
function im2colGradConv(padded: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  const conv = tf.customGrad((...args: CustomGradArgs) => {
    const [x, f, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([x, f]);
    return {
      value: tf.conv2d(x, f, stride, 'valid'),
      gradFunc: (dy: tf.Tensor, [savedX, savedF]: tf.Tensor[]) =>
        tf.tidy(() => [
          inputGradient(dy as tf.Tensor4D, savedF as tf.Tensor4D, (savedX as tf.Tensor4D).shape, stride),
          im2colFilterGradient(savedX as tf.Tensor4D, dy as tf.Tensor4D, (savedF as tf.Tensor4D).shape, stride),
        ]),
    };
  });
  return conv(padded, filter) as tf.Tensor4D;
}

/**
 * A frozen filter (trainable false: a frozen stage, or the stem under `freeze`) is left out of the custom gradient,
 * whose gradFunc computes every gradient it returns: its filter gradient would be computed and then dropped.
 */
function frozenFilterConv(padded: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  const conv = tf.customGrad((...args: CustomGradArgs) => {
    const x = args[0] as tf.Tensor4D;
    return {
      value: tf.conv2d(x, filter, stride, 'valid'),
      gradFunc: (dy: tf.Tensor) => tf.tidy(() => [inputGradient(dy as tf.Tensor4D, filter, x.shape, stride)]),
    };
  });
  return conv(padded) as tf.Tensor4D;
}

function isFrozen(weight: tf.Tensor): boolean {
  return (weight as { trainable?: boolean }).trainable === false;
}

/**
 * dInput. At stride 1 it is itself a stride-1 convolution, of dy padded by kernel − 1 with the filter flipped in
 * space and its channel axes swapped, which wasm runs on XNNPACK; wasm's Conv2DBackpropInput is a plain loop, about
 * 7 times slower on a ResNet 3x3 layer. Strided convolutions keep the stock kernel.
 */
function inputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: number[], stride: number): tf.Tensor4D {
  if (stride !== 1) return tf.conv2dTranspose(dy, filter, inputShape as [number, number, number, number], stride, 'valid');
  const [kh, kw] = filter.shape;
  const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  const padded = tf.pad(dy, [
    [0, 0],
    [kh - 1, kh - 1],
    [kw - 1, kw - 1],
    [0, 0],
  ]);
  return tf.conv2d(padded, flipped, 1, 'valid');
}

/**
 * dFilter for y = conv2d(x, filter, stride, 'valid'): with cols [pixels, kh·kw·in] the im2col of x and dy as
 * [pixels, out], dFilter = colsᵀ · dy. colsᵀ is built directly (taps of the channels-first input stacked along the
 * first axis), since wasm runs only untransposed 2-D products fast; against building cols and transposing dy, this
 * took the ResNet-50 stem's filter gradient from about 450 to 110 ms (batch 4). Chunked over the batch (the budget).
 */
export function im2colFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: number[],
  stride: number,
  budgetElements = IM2COL_BUDGET_ELEMENTS,
): tf.Tensor4D {
  const [kh, kw, inChannels, outChannels] = filterShape as [number, number, number, number];
  const [batch, outHeight, outWidth] = dy.shape;
  const perImage = outHeight * outWidth * kh * kw * inChannels;
  const chunk = Math.max(1, Math.min(batch, Math.floor(budgetElements / perImage)));
  return tf.tidy(() => {
    let product: tf.Tensor2D | undefined;
    for (let start = 0; start < batch; start += chunk) {
      const size = Math.min(chunk, batch - start);
      const part = chunkProduct(x, dy, start, size, [kh, kw, inChannels, outChannels], stride);
      product = product ? (tf.add(product, part) as tf.Tensor2D) : part;
    }
    return tf.reshape(product!, [kh, kw, inChannels, outChannels]) as tf.Tensor4D;
  });
}

/** colsᵀ · dy for `size` images from `start`: [kh·kw·in, out]. */
function chunkProduct(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  start: number,
  size: number,
  [kh, kw, inChannels, outChannels]: [number, number, number, number],
  stride: number,
): tf.Tensor2D {
  const [, outHeight, outWidth] = dy.shape;
  const pixels = size * outHeight * outWidth;
  const images = size === x.shape[0] ? x : tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]);
  // Channels first, so that each tap is a 4-D slice and colsᵀ a concatenation along the first axis (plain copies).
  const phases = stridePhases(images, stride).map((phase) => tf.transpose(phase, [3, 0, 1, 2]) as tf.Tensor4D);
  const taps: tf.Tensor2D[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const phase = phases[(i % stride) * stride + (j % stride)]!;
      const tap = tf.slice(phase, [0, 0, Math.floor(i / stride), Math.floor(j / stride)], [inChannels, size, outHeight, outWidth]);
      taps.push(tf.reshape(tap, [inChannels, pixels]));
    }
  const colsT = taps.length === 1 ? taps[0]! : (tf.concat(taps, 0) as tf.Tensor2D);
  const dyPart = size === dy.shape[0] ? dy : tf.slice(dy, [start, 0, 0, 0], [size, -1, -1, -1]);
  return tf.matMul(colsT, tf.reshape(dyPart, [pixels, outChannels]) as tf.Tensor2D);
}

/**
 * The input split by stride phase: phase a·stride + b holds x[:, a::stride, b::stride, :], so that kernel tap (i, j)
 * is a plain slice of phase (i mod stride, j mod stride) at (i div stride, j div stride). Built from 4-D reshapes and
 * slices only: wasm's strided slice, and its slice beyond rank 4, walk the elements one by one (10 to 100 times
 * slower here).
 */
function stridePhases(x: tf.Tensor4D, stride: number): tf.Tensor4D[] {
  if (stride === 1) return [x];
  const [n, height, width, channels] = x.shape;
  const rows = Math.ceil(height / stride);
  const columns = Math.ceil(width / stride);
  // Zero rows and columns up to a multiple of the stride; no tap reaches them.
  const even = tf.pad(x, [
    [0, 0],
    [0, rows * stride - height],
    [0, columns * stride - width],
    [0, 0],
  ]);
  const grouped = tf.reshape(even, [n * rows, stride, columns, stride * channels]);
  const phases: tf.Tensor4D[] = [];
  for (let a = 0; a < stride; a++)
    for (let b = 0; b < stride; b++)
      phases.push(tf.reshape(tf.slice(grouped, [0, a, 0, b * channels], [n * rows, 1, columns, channels]), [n, rows, columns, channels]));
  return phases;
}

function padSpatially(input: tf.Tensor4D, size: number, value: number): tf.Tensor4D {
  if (size === 0) return input;
  return tf.pad(
    input,
    [
      [0, 0],
      [size, size],
      [size, size],
      [0, 0],
    ],
    value,
  );
}
