import * as tf from '@tensorflow/tfjs-core';

/**
 * Rows of `table` [vocab, dim] at int32 `ids` [n] → [n, dim], whose gradient for the table adds each row of dy into
 * the row its id names (ScatterNd, which sums repeated ids) and never builds a one-hot [n, vocab] matrix.
 *
 * The gradient is dense, [vocab, dim] with only the looked-up rows non-zero, because our AdamW, like PyTorch's with
 * a dense nn.Embedding, moves every row each step (moment decay, weight decay); a sparse update would break parity.
 * Unlike tf.gather's own gradient it needs no UnsortedSegmentSum kernel, which tfjs-backend-wasm lacks and
 * tfjs-backend-cpu runs once per vocabulary row.
 */
export function scatterEmbeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const vocabShape = table.shape;
  const onWasm = tf.getBackend() === 'wasm';
  if (onWasm) assertIdsInVocabulary(ids, vocabShape[0]);
  const lookup = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [rows, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const rowIds = tf.expandDims(ids, 1);
    // Saved rather than closed over: the caller's tidy may dispose the ids before the backward pass runs.
    save([rowIds]);
    return {
      // wasm's GatherV2 allocates per element in C++ (47 ms for 2048 rows of 384); its GatherNd copies whole rows
      // (under 1 ms). The cpu backend is the other way round, and TensorFlow is fast at both.
      value: onWasm ? tf.gatherND(rows, rowIds) : tf.gather(rows, ids),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0]!, dy, vocabShape),
    };
  });
  return lookup(table) as tf.Tensor2D;
}

/** wasm's GatherNd reads out of range without complaint, where tf.gather would throw; keep the error. */
function assertIdsInVocabulary(ids: tf.Tensor1D, vocabSize: number): void {
  const values = ids.dataSync();
  for (const id of values) {
    if (!(id >= 0 && id < vocabSize)) {
      throw new Error(`Token id ${id} is outside the embedding table's ${vocabSize} rows; the tokenizer and the model do not match.`);
    }
  }
}
