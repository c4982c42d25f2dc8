import type { BertConfig, HfConfigJson } from './bertConfig';
import type { EncoderLayout } from './encoderLayout';

/**
 * One family of encoder models, as config.json's model_type names it: how to read its config, where its weights
 * live, and the prefix its task checkpoints (`RobertaForMaskedLM`…) put before the bare encoder's weight names.
 */
export interface ModelFamily {
  /** config.json model_type values this family reads, e.g. ["roberta", "xlm-roberta"]. */
  readonly modelTypes: readonly string[];
  /** For messages and docs: "RoBERTa and XLM-RoBERTa". */
  readonly label: string;
  /** The families' common config (BERT's fields), checked; `folder` names the model in errors. */
  parseConfig(json: HfConfigJson, folder: string): BertConfig;
  layout(config: BertConfig, json: HfConfigJson): EncoderLayout;
  /** What task checkpoints prefix the encoder's weights with (`roberta.`), stripped on reading. */
  readonly taskPrefix: string;
}
