import * as tf from '@tensorflow/tfjs-core';

/*
 * tfjs-backend-wasm 4.22 has every kernel a ResNet training step needs (Conv2DBackpropInput, MaxPoolGrad, the
 * element-wise and reduction gradients) except Conv2DBackpropFilter, so on wasm a convolution's filter gradient is
 * computed here: im2col (one slice of the padded input per kernel tap, concatenated along channels) times the
 * output gradient, as one plain 2-D matMul, the only product shape wasm hands to XNNPACK. The forward pass stays the
 * stock Conv2D (XNNPACK) and dInput the stock Conv2DBackpropInput. cpu and tfjs-node run the stock ops throughout.
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

/** The wasm convolution ('valid', on the padded input) with dInput by the stock kernel and dFilter by im2col. */
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

function inputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: number[], stride: number): tf.Tensor4D {
  return tf.conv2dTranspose(dy, filter, inputShape as [number, number, number, number], stride, 'valid');
}

/**
 * dFilter for y = conv2d(x, filter, stride, 'valid'): with cols [pixels, kh·kw·in] the im2col of x and dy as
 * [pixels, out], dFilter = colsᵀ · dy. Computed as (dyᵀ · cols)ᵀ: transposing dy ([pixels, out]) is cheaper than
 * transposing cols, and wasm runs only untransposed 2-D products fast. Chunked over the batch (see the budget).
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
    return tf.reshape(tf.transpose(product!), [kh, kw, inChannels, outChannels]) as tf.Tensor4D;
  });
}

/** dyᵀ · cols for `size` images from `start`: [out, kh·kw·in]. */
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
  const taps: tf.Tensor4D[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(tap(images, i, j, outHeight, outWidth, stride));
  const cols = tf.reshape(taps.length === 1 ? taps[0]! : tf.concat(taps, 3), [pixels, kh * kw * inChannels]) as tf.Tensor2D;
  const dyPart = size === dy.shape[0] ? dy : tf.slice(dy, [start, 0, 0, 0], [size, -1, -1, -1]);
  const dyT = tf.transpose(tf.reshape(dyPart, [pixels, outChannels])) as tf.Tensor2D;
  return tf.matMul(dyT, cols);
}

/** The input values kernel tap (i, j) meets at every output pixel: [n, outHeight, outWidth, in]. */
function tap(x: tf.Tensor4D, i: number, j: number, outHeight: number, outWidth: number, stride: number): tf.Tensor4D {
  const [n, , , channels] = x.shape;
  // A plain slice where it can: wasm's strided slice walks elements one by one.
  if (stride === 1) return tf.slice(x, [0, i, j, 0], [n, outHeight, outWidth, channels]);
  const end = [n, i + (outHeight - 1) * stride + 1, j + (outWidth - 1) * stride + 1, channels];
  return tf.stridedSlice(x, [0, i, j, 0], end, [1, stride, stride, 1]) as tf.Tensor4D;
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
