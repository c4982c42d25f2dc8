import { parseEncoderConfig, type HfConfigJson } from '../bertConfig';
import { BERT_LAYOUT, type EncoderLayout } from '../encoderLayout';
import type { ModelFamily } from '../modelFamily';

/** `transformers.RobertaConfig`'s defaults (XLMRobertaConfig has the same), for keys a config.json leaves out. */
const ROBERTA_DEFAULTS: HfConfigJson = {
  vocab_size: 50265,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  pad_token_id: 1,
};

/**
 * RoBERTa keeps BERT's modules and names; it differs in its position ids, which start after the padding index
 * (pad_token_id + 1) and skip padding, so a RoBERTa model with 514 positions encodes at most 512 tokens.
 */
export const ROBERTA_LAYOUT: EncoderLayout = { ...BERT_LAYOUT, family: 'roberta', positionIds: 'after-padding' };

/** RoBERTa and XLM-RoBERTa (multilingual E5, paraphrase-multilingual), which runs RoBERTa's code in transformers. */
export const ROBERTA_FAMILY: ModelFamily = {
  modelTypes: ['roberta', 'xlm-roberta'],
  label: 'RoBERTa and XLM-RoBERTa',
  parseConfig: (json, folder) => parseEncoderConfig(json, folder, ROBERTA_DEFAULTS),
  layout: (_config, json) => (json['model_type'] === 'xlm-roberta' ? { ...ROBERTA_LAYOUT, family: 'xlm-roberta' } : ROBERTA_LAYOUT),
  taskPrefix: 'roberta.',
};
