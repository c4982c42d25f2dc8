import * as tf from '@tensorflow/tfjs-core';

/**
 * A 2-D convolution that can train on every backend: NHWC input, filter [kh, kw, in, out], symmetric zero padding as
 * PyTorch's padding=N. The padding is explicit (tf.pad, then 'valid') because tfjs-node's Conv2D takes only 'valid'
 * and 'same', and 'same' pads differently from PyTorch at stride 2.
 */
export function trainableConv2d(input: tf.Tensor4D, filter: tf.Tensor4D, stride: number, padding: number): tf.Tensor4D {
  return tf.tidy(() => tf.conv2d(padSpatially(input, padding, 0), filter, stride, 'valid'));
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
