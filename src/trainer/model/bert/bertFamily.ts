import { parseBertConfig } from '../bertConfig';
import { BERT_LAYOUT } from '../encoderLayout';
import type { ModelFamily } from '../modelFamily';

/** BERT and the models that keep its architecture: MiniLM, BGE, E5, BioBERT. */
export const BERT_FAMILY: ModelFamily = {
  modelTypes: ['bert'],
  label: 'BERT (MiniLM, BGE, E5)',
  parseConfig: parseBertConfig,
  layout: () => BERT_LAYOUT,
  taskPrefix: 'bert.',
};
