import * as tf from '@tensorflow/tfjs-core';

export type PoolingMode = 'mean' | 'cls' | 'max';

/** Sentence vectors from token embeddings [batch, seq, hidden] and the attention mask, as sentence-transformers' Pooling does. */
export function pool(tokenEmbeddings: tf.Tensor3D, attentionMask: Int32Array, mode: PoolingMode): tf.Tensor2D {
  return tf.tidy(() => {
    const [batchSize, seqLength] = tokenEmbeddings.shape;
    const mask = tf.tensor3d(Float32Array.from(attentionMask), [batchSize, seqLength, 1]);
    switch (mode) {
      case 'cls':
        return tf.squeeze(tf.slice(tokenEmbeddings, [0, 0, 0], [batchSize, 1, -1]), [1]) as tf.Tensor2D;
      case 'max':
        // Padding tokens are pushed to -1e9 so they never win the max, as sentence-transformers does.
        return tf.max(tf.add(tf.mul(tokenEmbeddings, mask), tf.mul(tf.sub(1, mask), -1e9)), 1) as tf.Tensor2D;
      case 'mean': {
        const summed = tf.sum(tf.mul(tokenEmbeddings, mask), 1);
        const counts = tf.maximum(tf.sum(mask, 1), 1e-9);
        return tf.div(summed, counts) as tf.Tensor2D;
      }
    }
  });
}

/** L2 normalization with PyTorch's `F.normalize` floor on the norm. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12)) as tf.Tensor2D);
}
