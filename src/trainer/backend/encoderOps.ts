import * as tf from '@tensorflow/tfjs-core';

/**
 * The few tensor products a BERT encoder spends its time in, behind one seam so that a backend can supply
 * faster formulations. These reference versions use stock tfjs ops; any replacement must match them,
 * values and gradients, to float32 rounding.
 */
export interface EncoderOps {
  /** `x @ kernel + bias` for x [n, in], kernel [in, out] (stored input-major, unlike PyTorch's [out, in]), bias [out]. */
  dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D;
  /** Attention logits `q @ kᵀ` for q, k [batch, heads, seq, headDim] → [batch, heads, seq, seq]. */
  attentionScores(q: tf.Tensor4D, k: tf.Tensor4D): tf.Tensor4D;
  /** Attention output `probs @ v` for probs [batch, heads, seq, seq], v [batch, heads, seq, headDim]. */
  attentionContext(probs: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D;
  /** Rows of `table` [vocab, dim] at int32 `ids` [n] → [n, dim]; the gradient touches only the looked-up rows. */
  embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D;
  /** LayerNorm over the last axis of x [n, dim]: (x − mean) / sqrt(var + eps) · gamma + beta, with the biased variance. */
  layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D;
  /** The exact (erf) GELU, x · Φ(x), as BERT's hidden_act "gelu". */
  gelu(x: tf.Tensor2D): tf.Tensor2D;
}

export function referenceLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta) as tf.Tensor2D;
}

export function referenceGelu(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as tf.Tensor2D;
}

export const referenceEncoderOps: EncoderOps = {
  dense: (x, kernel, bias): tf.Tensor2D => {
    const product: tf.Tensor2D = tf.matMul(x, kernel);
    return bias ? tf.add(product, bias) : product;
  },
  attentionScores: (q, k) => tf.matMul(q, k, false, true),
  attentionContext: (probs, v) => tf.matMul(probs, v),
  embeddingLookup: (table, ids) => tf.gather(table, ids),
  layerNorm: referenceLayerNorm,
  gelu: referenceGelu,
};
