import type { ResolvedConfig } from '../../shared/config/configTypes';
import { rolePromptTexts } from '../../shared/config/promptSettings';
import type { EvaluationOptions } from './validationEvaluator';

/** What a config adds to embedding evaluation: its role prompts, and its primary metric at each Matryoshka dim. */
export function evaluationOptions(config: Pick<ResolvedConfig, 'model' | 'loss' | 'evaluation'>): EvaluationOptions {
  return {
    prompts: rolePromptTexts(config.model),
    primary: config.evaluation.primary,
    ...(config.loss.matryoshka ? { matryoshkaDims: config.loss.matryoshka.dims } : {}),
  };
}
