import { join } from 'node:path';
import { BERT_DEFAULTS, parseEncoderConfig, type HfConfigJson } from '../bertConfig';
import type { EncoderLayout } from '../encoderLayout';
import type { ModelFamily } from '../modelFamily';

/** `transformers.MPNetConfig`'s defaults: BERT's, but for these. */
const MPNET_DEFAULTS: HfConfigJson = {
  ...BERT_DEFAULTS,
  vocab_size: 30527,
  pad_token_id: 1,
  // MPNet has no token types; the shared parser still wants the key.
  type_vocab_size: 1,
};

/** transformers' MPNetEncoder buckets distances up to this many tokens (a constant there, not a config key). */
const MAX_DISTANCE = 128;

/**
 * MPNet (all-mpnet-base-v2): BERT's layer under other names (attention.attn.q/k/v/o, attention.LayerNorm), RoBERTa's
 * position ids, no token types, and a learned relative position bias per head that every layer adds to its
 * attention logits.
 */
export function mpnetLayout(numBuckets: number): EncoderLayout {
  return {
    family: 'mpnet',
    wordEmbeddings: 'embeddings.word_embeddings.weight',
    positionEmbeddings: 'embeddings.position_embeddings.weight',
    embeddingsLayerNorm: 'embeddings.LayerNorm',
    layerPrefix: 'encoder.layer.',
    query: 'attention.attn.q',
    key: 'attention.attn.k',
    value: 'attention.attn.v',
    attentionOutput: 'attention.attn.o',
    attentionLayerNorm: 'attention.LayerNorm',
    intermediate: 'intermediate.dense',
    output: 'output.dense',
    outputLayerNorm: 'output.LayerNorm',
    attentionOutputDropout: true,
    positionIds: 'after-padding',
    relativeAttentionBias: { weight: 'encoder.relative_attention_bias.weight', numBuckets, maxDistance: MAX_DISTANCE },
    loraTargets: {
      q: ['attention.attn.q'],
      k: ['attention.attn.k'],
      v: ['attention.attn.v'],
      o: ['attention.attn.o'],
      dense: ['intermediate.dense', 'output.dense'],
    },
    defaultLoraTargets: ['q', 'v'],
  };
}

export const MPNET_FAMILY: ModelFamily = {
  modelTypes: ['mpnet'],
  label: 'MPNet',
  parseConfig: (json, folder) => {
    const config = parseEncoderConfig(json, folder, MPNET_DEFAULTS);
    numBucketsOf(json, folder);
    return { ...config, typeVocabSize: 0 };
  },
  layout: (_config, json) => mpnetLayout(numBucketsOf(json, '')),
  taskPrefix: 'mpnet.',
};

function numBucketsOf(json: HfConfigJson, folder: string): number {
  const value = json['relative_attention_num_buckets'] ?? 32;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 4) {
    throw new Error(
      `${join(folder, 'config.json')}: "relative_attention_num_buckets" must be an integer of at least 4, but is ${JSON.stringify(value)}.`,
    );
  }
  return value;
}
