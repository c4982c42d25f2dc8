import * as tf from '@tensorflow/tfjs-core';

/**
 * BatchNorm2d in train mode, as PyTorch computes it: each channel is normalized by the mean and the biased variance
 * of the batch (over images, rows and columns), then scaled and shifted. The gradient is written out (the closed form
 * of the derivative through the batch mean and variance) instead of left to autodiff through `tf.moments`, which
 * would record a dozen image-sized kernels per BatchNorm; here the backward pass costs two channel sums and one
 * image-sized expression.
 */

export interface BatchStatistics {
  /** Per-channel mean of the batch, [C]. */
  readonly mean: tf.Tensor1D;
  /** Per-channel biased variance (divided by `count`), [C]: what the batch was normalized with. */
  readonly variance: tf.Tensor1D;
  /** Values per channel (N·H·W), for the unbiased variance the running statistics take. */
  readonly count: number;
}

/**
 * Normalizes `input` [N, H, W, C] by its batch statistics. The statistics are returned kept (outside any tidy), so
 * that the caller can update the running statistics after the gradient step and must dispose them then.
 */
export function batchNormTraining(
  input: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
): { output: tf.Tensor4D; statistics: BatchStatistics } {
  const [n, h, w] = input.shape;
  const count = n * h * w;
  if (count < 2)
    throw new Error(
      `BatchNorm in train mode needs more than 1 value per channel, and this feature map has ${count} (batch ${n}, ${h}×${w}); use a larger batch or strategy.freeze_batch_norm.`,
    );
  let statistics: BatchStatistics | undefined;
  const normalize = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, gamma, beta, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalized = tf.mul(tf.sub(x, mean), invStd);
    // Kept: the kernel's own tidy would otherwise free them before the running statistics are updated.
    statistics = { mean: tf.keep(mean as tf.Tensor1D), variance: tf.keep(variance as tf.Tensor1D), count };
    save([normalized, invStd, gamma]);
    return {
      value: tf.add(tf.mul(normalized, gamma), beta),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHat, inverseStd, g] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
        const sumDy = tf.sum(dy, [0, 1, 2]);
        const sumDyXHat = tf.sum(tf.mul(dy, xHat), [0, 1, 2]);
        // dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)), the derivative through the batch mean and variance included.
        const centered = tf.sub(tf.sub(dy, tf.div(sumDy, count)), tf.mul(xHat, tf.div(sumDyXHat, count)));
        return [tf.mul(centered, tf.mul(g, inverseStd)), sumDyXHat, sumDy];
      },
    };
  });
  const output = normalize(input, scale, offset) as tf.Tensor4D;
  return { output, statistics: statistics! };
}

/**
 * PyTorch's running-statistics update for momentum m: running = (1 − m)·running + m·batch, where the variance that
 * enters is the unbiased one (·count/(count − 1)) although the batch was normalized with the biased one.
 */
export function updateRunning(runningMean: tf.Variable, runningVar: tf.Variable, statistics: BatchStatistics, momentum: number): void {
  tf.tidy(() => {
    const unbiased = tf.mul(statistics.variance, statistics.count / (statistics.count - 1));
    runningMean.assign(tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(statistics.mean, momentum)));
    runningVar.assign(tf.add(tf.mul(runningVar, 1 - momentum), tf.mul(unbiased, momentum)));
  });
}
