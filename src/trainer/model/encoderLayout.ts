/**
 * Where a post-LayerNorm transformer encoder keeps its weights, in one family's Hugging Face names. BERT, RoBERTa,
 * XLM-RoBERTa, MPNet and DistilBERT compute the same layer (attention, residual LayerNorm, feed-forward, residual
 * LayerNorm) and differ in names, in how position ids are counted, in token types, and in MPNet's relative attention
 * bias; one encoder (bert/bertEncoder.ts) runs them all from this description.
 */
export interface EncoderLayout {
  /** The family's name as config.json's model_type says it (xlm-roberta runs RoBERTa's layout). */
  readonly family: string;
  readonly wordEmbeddings: string;
  readonly positionEmbeddings: string;
  /** Absent where the family has no token types (DistilBERT, MPNet). */
  readonly tokenTypeEmbeddings?: string;
  /** Module names, without `.weight`/`.bias`. */
  readonly embeddingsLayerNorm: string;
  /** Each layer's weights start with this and the layer's index, then a dot. */
  readonly layerPrefix: string;
  /** Module names inside a layer, without `.weight`/`.bias`. */
  readonly query: string;
  readonly key: string;
  readonly value: string;
  readonly attentionOutput: string;
  readonly attentionLayerNorm: string;
  readonly intermediate: string;
  readonly output: string;
  readonly outputLayerNorm: string;
  /** DistilBERT applies no dropout to the attention output before its residual; the others do. */
  readonly attentionOutputDropout: boolean;
  /**
   * `sequential`: position i of a row is i (BERT, DistilBERT). `after-padding`: RoBERTa's and MPNet's ids, counted
   * over the non-padding tokens from pad_token_id + 1, with pad_token_id at padding (create_position_ids_from_input_ids).
   */
  readonly positionIds: 'sequential' | 'after-padding';
  /** MPNet's bucketed relative position bias, one table shared by every layer. */
  readonly relativeAttentionBias?: { readonly weight: string; readonly numBuckets: number; readonly maxDistance: number };
  /**
   * The names `strategy.lora.targets` accepts for this family, each with the modules (inside a layer) it wraps. They
   * are the module names PEFT's target_modules would match on this family.
   */
  readonly loraTargets: Readonly<Record<string, readonly string[]>>;
  /** The attention query and value projections: what LoRA wraps when the config names no targets. */
  readonly defaultLoraTargets: readonly string[];
}

/** The names every layer's weights take, in this order (module names; each has a `.weight` and a `.bias`). */
export function layerModules(layout: EncoderLayout): string[] {
  return [
    layout.query,
    layout.key,
    layout.value,
    layout.attentionOutput,
    layout.attentionLayerNorm,
    layout.intermediate,
    layout.output,
    layout.outputLayerNorm,
  ];
}

/** The linear projections of a layer: the weights held input-major by the encoder and open to LoRA. */
export function linearModules(layout: EncoderLayout): string[] {
  return [layout.query, layout.key, layout.value, layout.attentionOutput, layout.intermediate, layout.output];
}

/** The first position id of a sequence and the number of positions a sequence may use. */
export function positionLimit(layout: EncoderLayout, maxPositionEmbeddings: number, padTokenId: number): number {
  return layout.positionIds === 'after-padding' ? maxPositionEmbeddings - padTokenId - 1 : maxPositionEmbeddings;
}

/** BERT's names (BERT, MiniLM, BGE, E5, and RoBERTa's, which keeps BERT's modules). */
export const BERT_LAYOUT: EncoderLayout = {
  family: 'bert',
  wordEmbeddings: 'embeddings.word_embeddings.weight',
  positionEmbeddings: 'embeddings.position_embeddings.weight',
  tokenTypeEmbeddings: 'embeddings.token_type_embeddings.weight',
  embeddingsLayerNorm: 'embeddings.LayerNorm',
  layerPrefix: 'encoder.layer.',
  query: 'attention.self.query',
  key: 'attention.self.key',
  value: 'attention.self.value',
  attentionOutput: 'attention.output.dense',
  attentionLayerNorm: 'attention.output.LayerNorm',
  intermediate: 'intermediate.dense',
  output: 'output.dense',
  outputLayerNorm: 'output.LayerNorm',
  attentionOutputDropout: true,
  positionIds: 'sequential',
  loraTargets: {
    query: ['attention.self.query'],
    key: ['attention.self.key'],
    value: ['attention.self.value'],
    dense: ['attention.output.dense', 'intermediate.dense', 'output.dense'],
  },
  defaultLoraTargets: ['query', 'value'],
};
