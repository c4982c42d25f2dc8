import * as tf from '@tensorflow/tfjs-core';

/** Focal loss settings (loss.gamma, loss.alpha), when `loss.type` is focal. */
export interface FocalSettings {
  readonly gamma: number;
  readonly alpha: number | readonly number[];
}

/**
 * Mean softmax cross-entropy of `logits` [n, classes] against label indices, or with `focal` the focal loss of Lin
 * et al.: −α_c (1 − p)^γ log p, which down-weights easy rows so that rare classes are not drowned out. α is one
 * weight for every class, or one per class in the order of `labels`. With class weights w, the loss is
 * Σ w_y·loss / Σ w_y, as torch's CrossEntropyLoss(weight=w) reduces it. Text classifier heads and image
 * classifiers share it.
 */
export function classificationLoss(
  logits: tf.Tensor2D,
  labelIndices: Int32Array,
  labels: readonly string[],
  options: { readonly focal?: FocalSettings | undefined; readonly classWeights?: readonly number[] | undefined } = {},
): tf.Scalar {
  const { focal, classWeights } = options;
  return tf.tidy(() => {
    const logProbabilities = tf.logSoftmax(logits);
    const indices = tf.tensor1d(labelIndices, 'int32');
    const targets = tf.oneHot(indices, labels.length);
    const logP = tf.sum(tf.mul(targets, logProbabilities), -1);
    let perRow: tf.Tensor = tf.neg(logP);
    if (focal) {
      const alphas = Array.isArray(focal.alpha) ? focal.alpha : labels.map(() => focal.alpha as number);
      if (alphas.length !== labels.length) {
        throw new Error(`loss.alpha lists ${alphas.length} weights, but the data has ${labels.length} classes (${labels.join(', ')}).`);
      }
      const alpha = tf.gather(tf.tensor1d(alphas as number[]), indices);
      const modulation = tf.pow(tf.sub(1, tf.exp(logP)), focal.gamma);
      perRow = tf.mul(tf.mul(alpha, modulation), perRow);
    }
    if (!classWeights) return tf.mean(perRow) as tf.Scalar;
    const weights = tf.gather(tf.tensor1d(classWeights as number[]), indices);
    return tf.div(tf.sum(tf.mul(weights, perRow)), tf.sum(weights)) as tf.Scalar;
  });
}
