import * as tf from '@tensorflow/tfjs-core';
import type { BertEncoder } from './bert/bertEncoder';
import type { DropoutSource } from './bert/dropoutSource';
import { l2Normalize, pool, type PoolingMode } from './pooling';
import type { TextTokenizer } from './textTokenizer';

export interface EmbedderSettings {
  readonly pooling: PoolingMode;
  readonly normalize: boolean;
  readonly maxSeqLength: number;
}

/** Tokenizer, encoder and pooling together: texts in, sentence vectors out, as `SentenceTransformer.encode`. */
export class SentenceEmbedder {
  constructor(
    readonly tokenizer: TextTokenizer,
    readonly encoder: BertEncoder,
    readonly settings: EmbedderSettings,
  ) {}

  /** Differentiable sentence vectors for one batch of texts [texts, hidden]. */
  embed(texts: readonly string[], dropout?: DropoutSource): tf.Tensor2D {
    const batch = this.tokenizer.encodeBatch([...texts], this.settings.maxSeqLength);
    return tf.tidy(() => {
      const tokens = this.encoder.forward(batch, dropout);
      const pooled = pool(tokens, batch.attentionMask, this.settings.pooling);
      return this.settings.normalize ? l2Normalize(pooled) : pooled;
    });
  }

  /**
   * Vectors for any number of texts without building gradients, in batches of `batchSize`.
   * Texts are sorted by length first, as sentence-transformers does, so that each batch pads little.
   */
  async encode(texts: readonly string[], batchSize = 32): Promise<Float32Array[]> {
    const order = texts.map((_, i) => i).sort((a, b) => texts[b]!.length - texts[a]!.length);
    const out: Float32Array[] = new Array(texts.length);
    for (let start = 0; start < order.length; start += batchSize) {
      const indices = order.slice(start, start + batchSize);
      const vectors = this.embed(indices.map((i) => texts[i]!));
      const data = (await vectors.data()) as Float32Array;
      vectors.dispose();
      const dim = data.length / indices.length;
      indices.forEach((index, row) => {
        out[index] = data.slice(row * dim, (row + 1) * dim);
      });
    }
    return out;
  }

  get dimension(): number {
    return this.encoder.config.hiddenSize;
  }
}
