import { BERT_DEFAULTS, parseEncoderConfig, type HfConfigJson } from '../bertConfig';
import { BERT_LAYOUT, type EncoderLayout } from '../encoderLayout';
import type { ModelFamily } from '../modelFamily';

/** `transformers.RobertaConfig`'s defaults (XLMRobertaConfig has the same): BERT's, but for these two. */
const ROBERTA_DEFAULTS: HfConfigJson = { ...BERT_DEFAULTS, vocab_size: 50265, pad_token_id: 1 };

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
