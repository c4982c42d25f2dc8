import * as tf from '@tensorflow/tfjs-core';

/**
 * Per-group products op(a[g]) @ op(b[g]) for a and b [groups, rows, cols] → [groups, m, n], computed as one
 * depthwise convolution: each group becomes a channel, the shared dimension becomes the filter window and the right
 * factor becomes that channel's filter. tfjs-backend-wasm runs a batched or transposed matMul in a naive
 * single-threaded loop (~1 GFLOP/s) but a depthwise convolution through XNNPACK's threaded GEMM, so this is several
 * times faster there despite the three layout transposes. On the cpu backend it is slower than tf.matMul.
 */
export function groupedMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeA = false, transposeB = false): tf.Tensor3D {
  const [groups] = a.shape;
  const m = transposeA ? a.shape[2] : a.shape[1];
  const k = transposeA ? a.shape[1] : a.shape[2];
  const n = transposeB ? b.shape[1] : b.shape[2];
  const kOfB = transposeB ? b.shape[2] : b.shape[1];
  if (b.shape[0] !== groups || kOfB !== k) {
    throw new Error(
      `groupedMatMul: shapes [${a.shape}] and [${b.shape}] (transposeA=${transposeA}, transposeB=${transposeB}) do not multiply group by group.`,
    );
  }
  return tf.tidy(() => {
    // input[0, i, d, g] = op(a)[g, i, d]: rows of op(a) run down the image, its shared dimension across it.
    const input = tf.reshape(tf.transpose(a, transposeA ? [2, 1, 0] : [1, 2, 0]), [1, m, k, groups]) as tf.Tensor4D;
    // filter[0, d, g, j] = op(b)[g, d, j]: a 1×k window per channel, with n outputs per channel.
    const filter = tf.reshape(tf.transpose(b, transposeB ? [2, 0, 1] : [1, 0, 2]), [1, k, groups, n]) as tf.Tensor4D;
    const product = tf.depthwiseConv2d(input, filter, 1, 'valid');
    return tf.transpose(tf.reshape(product, [m, groups, n]), [1, 0, 2]) as tf.Tensor3D;
  });
}
