import type { ConfigDiagnostic } from '../configDiagnostic';
import { didYouMean } from '../didYouMean';
import { keyRangeOf, valueRangeOf } from '../parsedConfig';
import { PROMPT_ROLES } from '../promptSettings';
import type { ConfigCheck } from './checkContext';

/** A prompt name in column_prompts or default_prompt_name must be a key of model.prompts. */
export const checkPromptNames: ConfigCheck = ({ parsed, view }) => {
  const prompts = view.raw(['model', 'prompts']);
  const defined = prompts !== null && typeof prompts === 'object' && !Array.isArray(prompts) ? Object.keys(prompts) : [];
  const paths = [...PROMPT_ROLES.map((role) => ['model', 'column_prompts', role]), ['model', 'default_prompt_name']];
  const diagnostics: ConfigDiagnostic[] = [];
  for (const path of paths) {
    const name = view.string(path);
    if (name === undefined || defined.includes(name)) continue;
    const suggestion = didYouMean(name, defined);
    const where = path[1] === 'default_prompt_name' ? 'model.default_prompt_name' : `model.column_prompts.${path[2]}`;
    diagnostics.push({
      range: valueRangeOf(parsed, path),
      severity: 'error',
      code: 'prompt-unknown',
      message:
        defined.length === 0
          ? `${where} names the prompt "${name}", but model.prompts defines none; add it there, e.g. prompts: {${name}: "${name}: "}.`
          : `${where} names the prompt "${name}", which model.prompts does not define. Defined: ${defined.join(', ')}.${suggestion ? ` Did you mean "${suggestion}"?` : ''}`,
      data: {
        path,
        fixes: defined.map((candidate) => ({
          title: `Use prompt ${candidate}`,
          set: [{ path, value: candidate }],
          preferred: candidate === suggestion,
        })),
      },
    });
  }
  return diagnostics;
};

/** Prompts go in front of the texts of embedding examples; a classifier's or tagger's inputs never get them. */
export const checkPromptsFitTask: ConfigCheck = ({ parsed, view }) => {
  const task = view.task();
  const prompts = view.raw(['model', 'prompts']);
  const any = prompts !== null && typeof prompts === 'object' && Object.keys(prompts).length > 0;
  if (task === 'embedding' || !any) return [];
  return [
    {
      range: keyRangeOf(parsed, ['model', 'prompts']),
      severity: 'warning',
      code: 'prompts-unused',
      message: `model.prompts applies to embedding tasks (anchor, positive and negative texts); task ${task} trains without them, but the export still records them.`,
      data: { path: ['model', 'prompts'] },
    },
  ];
};

/** MatryoshkaLoss wraps an embedding loss, with one weight per dimension. */
export const checkMatryoshka: ConfigCheck = ({ parsed, view }) => {
  if (!view.isSet(['loss', 'matryoshka'])) return [];
  const diagnostics: ConfigDiagnostic[] = [];
  const task = view.task();
  if (task !== 'embedding') {
    diagnostics.push({
      range: keyRangeOf(parsed, ['loss', 'matryoshka']),
      severity: 'error',
      code: 'matryoshka-task-mismatch',
      message: `loss.matryoshka wraps an embedding loss (mnrl, cosent, …); task ${task} trains a ${task === 'classification' ? 'classifier' : 'tagger'} head, which it cannot wrap. Remove loss.matryoshka or use task embedding.`,
      data: { path: ['loss', 'matryoshka'] },
    });
  }
  const dims = view.raw(['loss', 'matryoshka', 'dims']);
  const weights = view.raw(['loss', 'matryoshka', 'weights']);
  if (Array.isArray(dims) && Array.isArray(weights) && dims.length !== weights.length) {
    diagnostics.push({
      range: valueRangeOf(parsed, ['loss', 'matryoshka', 'weights']),
      severity: 'error',
      code: 'matryoshka-weights-length',
      message: `loss.matryoshka.weights has ${weights.length} weight(s) for ${dims.length} dimension(s); give one weight per entry of dims, in the same order, or leave weights out for 1 each.`,
      data: { path: ['loss', 'matryoshka', 'weights'] },
    });
  }
  return diagnostics;
};
