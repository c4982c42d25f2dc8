import { parseEncoderConfig, type HfConfigJson } from '../bertConfig';
import type { EncoderLayout } from '../encoderLayout';
import type { ModelFamily } from '../modelFamily';

/** DistilBERT's config keys under the BERT names the shared parser reads, with `transformers.DistilBertConfig`'s defaults. */
const DISTILBERT_KEYS: ReadonlyArray<readonly [distilbert: string, bert: string, fallback: unknown]> = [
  ['vocab_size', 'vocab_size', 30522],
  ['dim', 'hidden_size', 768],
  ['n_layers', 'num_hidden_layers', 6],
  ['n_heads', 'num_attention_heads', 12],
  ['hidden_dim', 'intermediate_size', 3072],
  ['activation', 'hidden_act', 'gelu'],
  ['dropout', 'hidden_dropout_prob', 0.1],
  ['attention_dropout', 'attention_probs_dropout_prob', 0.1],
  ['max_position_embeddings', 'max_position_embeddings', 512],
  ['pad_token_id', 'pad_token_id', 0],
];

/**
 * DistilBERT: BERT's layer under other names (attention.q_lin…, sa_layer_norm, ffn.lin1/lin2), no token types, no
 * dropout on the attention output, and a LayerNorm epsilon fixed at 1e-12.
 */
export const DISTILBERT_LAYOUT: EncoderLayout = {
  family: 'distilbert',
  wordEmbeddings: 'embeddings.word_embeddings.weight',
  positionEmbeddings: 'embeddings.position_embeddings.weight',
  embeddingsLayerNorm: 'embeddings.LayerNorm',
  layerPrefix: 'transformer.layer.',
  query: 'attention.q_lin',
  key: 'attention.k_lin',
  value: 'attention.v_lin',
  attentionOutput: 'attention.out_lin',
  attentionLayerNorm: 'sa_layer_norm',
  intermediate: 'ffn.lin1',
  output: 'ffn.lin2',
  outputLayerNorm: 'output_layer_norm',
  attentionOutputDropout: false,
  positionIds: 'sequential',
  loraTargets: {
    q_lin: ['attention.q_lin'],
    k_lin: ['attention.k_lin'],
    v_lin: ['attention.v_lin'],
    out_lin: ['attention.out_lin'],
    lin1: ['ffn.lin1'],
    lin2: ['ffn.lin2'],
  },
  defaultLoraTargets: ['q_lin', 'v_lin'],
};

export const DISTILBERT_FAMILY: ModelFamily = {
  modelTypes: ['distilbert'],
  label: 'DistilBERT',
  parseConfig: (json, folder) => {
    // Newer transformers may also write the BERT names (its attribute_map); DistilBERT's own win, as they do there.
    // A sinusoidal_pos_embds model still saves its position table, so reading the table gives the same positions.
    const renamed: HfConfigJson = { model_type: 'distilbert', layer_norm_eps: 1e-12, type_vocab_size: 1 };
    for (const [own, bert, fallback] of DISTILBERT_KEYS) renamed[bert] = json[own] ?? json[bert] ?? fallback;
    return { ...parseEncoderConfig(renamed, folder, {}), typeVocabSize: 0 };
  },
  layout: () => DISTILBERT_LAYOUT,
  taskPrefix: 'distilbert.',
};
