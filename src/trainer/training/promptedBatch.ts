import type { RolePromptTexts } from '../../shared/config/promptSettings';

/** The texts of a batch by role; the batch's other fields (its targets) pass through unchanged. */
export interface RoleTexts {
  readonly anchor: readonly string[];
  readonly positive: readonly string[];
  readonly negative?: readonly string[];
}

/**
 * The batch with each role's prompt put in front of its texts, as sentence-transformers' trainer does with
 * `prompts={column: prompt}`: the prompt and the text are one string when tokenized, so the prompt's tokens count
 * toward max_seq_length and are pooled with the text (include_prompt: true).
 */
export function promptedBatch<T extends RoleTexts>(batch: T, prompts: RolePromptTexts): T {
  if (!prompts.anchor && !prompts.positive && !prompts.negative) return batch;
  return {
    ...batch,
    anchor: withPrompt(batch.anchor, prompts.anchor),
    positive: withPrompt(batch.positive, prompts.positive),
    ...(batch.negative ? { negative: withPrompt(batch.negative, prompts.negative) } : {}),
  };
}

export function withPrompt(texts: readonly string[], prompt: string | undefined): readonly string[] {
  return prompt ? texts.map((text) => prompt + text) : texts;
}
