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
}

export const referenceEncoderOps: EncoderOps = {
  dense: (x, kernel, bias): tf.Tensor2D => {
    const product: tf.Tensor2D = tf.matMul(x, kernel);
    return bias ? tf.add(product, bias) : product;
  },
  attentionScores: (q, k) => tf.matMul(q, k, false, true),
  attentionContext: (probs, v) => tf.matMul(probs, v),
  embeddingLookup: (table, ids) => tf.gather(table, ids),
};
