import type { ColumnPrompts, MatryoshkaConfig } from './configTypes';

/**
 * Prompts and Matryoshka dimensions as both engines and the editor read them. The rules follow sentence-transformers:
 * `encode_query` uses the prompt named `query`, `encode_document` the first of `document`, `passage`, `corpus`.
 */

/** The text roles of an embedding example that a prompt can go in front of. */
export const PROMPT_ROLES = ['anchor', 'positive', 'negative'] as const;
export type PromptRole = (typeof PROMPT_ROLES)[number];

/** The names `SentenceTransformer.encode_document` looks for, in its order. */
export const DOCUMENT_PROMPT_NAMES = ['document', 'passage', 'corpus'] as const;
export const QUERY_PROMPT_NAME = 'query';

/**
 * The prompt name for each role: the written mapping as it is (a role it leaves out gets none), or without one,
 * anchor → `query` and positive/negative → the first document name, where `prompts` defines them.
 */
export function resolveColumnPrompts(prompts: Readonly<Record<string, string>>, written: ColumnPrompts | undefined): ColumnPrompts {
  if (written) return { ...written };
  const resolved: ColumnPrompts = {};
  if (Object.hasOwn(prompts, QUERY_PROMPT_NAME)) resolved.anchor = QUERY_PROMPT_NAME;
  const document = DOCUMENT_PROMPT_NAMES.find((name) => Object.hasOwn(prompts, name));
  if (document) {
    resolved.positive = document;
    resolved.negative = document;
  }
  return resolved;
}

/** The prompt text for each role, for roles whose prompt is defined and not empty. */
export type RolePromptTexts = Partial<Record<PromptRole, string>>;

export function rolePromptTexts(model: { prompts?: Record<string, string>; column_prompts?: ColumnPrompts }): RolePromptTexts {
  const prompts = model.prompts ?? {};
  const roles = model.column_prompts ?? resolveColumnPrompts(prompts, undefined);
  const texts: RolePromptTexts = {};
  for (const role of PROMPT_ROLES) {
    const name = roles[role];
    const text = name !== undefined && Object.hasOwn(prompts, name) ? prompts[name] : undefined;
    if (text) texts[role] = text;
  }
  return texts;
}

/** Every dimension weighs 1 unless weights are written, as MatryoshkaLoss's `matryoshka_weights=None`. */
export function resolveMatryoshka(written: MatryoshkaConfig): Required<MatryoshkaConfig> {
  return { dims: [...written.dims], weights: written.weights ? [...written.weights] : written.dims.map(() => 1) };
}

/** The name under which evaluation reports `metric` at `dim` dimensions: `ndcg@10@dim64`. */
export function matryoshkaMetricName(metric: string, dim: number): string {
  return `${metric}@dim${dim}`;
}

/** The dimensions evaluation reports separately: those below the model's own, largest first. */
export function evaluatedMatryoshkaDims(dims: readonly number[] | undefined, modelDimension: number): number[] {
  return [...new Set(dims ?? [])].filter((dim) => dim < modelDimension).sort((a, b) => b - a);
}
