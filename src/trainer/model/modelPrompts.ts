import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { locateModel } from './modelLocator';

/** A model's named prompts and the one `encode` applies when none is named, as sentence-transformers keeps them. */
export interface ModelPrompts {
  readonly prompts: Readonly<Record<string, string>>;
  readonly defaultPromptName?: string;
  /** Set when the model pools without its prompts' tokens, which EmbedTune does not do (promptPoolingProblem). */
  readonly poolingProblem?: string;
}

/**
 * The prompts of what `embedtune encode` was given: a checkpoint's come from its run's config, a model folder's from
 * its config_sentence_transformers.json (which EmbedTune's export and `SentenceTransformer.save` write).
 */
export async function modelPrompts(
  target: string,
  runConfig: ResolvedConfig | undefined,
  context: { baseDir: string; env: Readonly<Record<string, string | undefined>> },
): Promise<ModelPrompts> {
  if (runConfig) {
    const { prompts, default_prompt_name: defaultPromptName } = runConfig.model;
    return { prompts: prompts ?? {}, ...(defaultPromptName ? { defaultPromptName } : {}) };
  }
  // Already found (and downloaded if it had to be) by loading the model, so this looks locally only.
  const located = await locateModel(target, { allowRemote: false }, context);
  const problem = promptPoolingProblem(located.rootFolder, target);
  return { ...readModelPrompts(located.rootFolder), ...(problem ? { poolingProblem: problem } : {}) };
}

export function readModelPrompts(rootFolder: string): ModelPrompts {
  const path = join(rootFolder, 'config_sentence_transformers.json');
  if (!existsSync(path)) return { prompts: {} };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const record = (json ?? {}) as Record<string, unknown>;
  const prompts = record['prompts'];
  const valid =
    prompts !== null &&
    typeof prompts === 'object' &&
    !Array.isArray(prompts) &&
    Object.values(prompts).every((value) => typeof value === 'string');
  if (prompts !== undefined && !valid) throw new Error(`${path}: "prompts" must map prompt names to strings.`);
  const defaultPromptName = record['default_prompt_name'];
  return {
    prompts: valid ? (prompts as Record<string, string>) : {},
    ...(typeof defaultPromptName === 'string' ? { defaultPromptName } : {}),
  };
}

/**
 * The text to put in front of every input: the prompt named `name`, else the model's default prompt, else none
 * (as `SentenceTransformer.encode(prompt_name=…)`). An unknown name throws with the names the model has.
 */
export function choosePrompt(model: ModelPrompts, name: string | undefined, owner = 'the model'): { name?: string; text: string } {
  const chosen = name ?? model.defaultPromptName;
  if (chosen === undefined) return { text: '' };
  if (!Object.hasOwn(model.prompts, chosen)) {
    const names = Object.keys(model.prompts);
    const which = name === undefined ? `its default_prompt_name "${chosen}"` : `"${chosen}"`;
    throw new Error(
      names.length === 0
        ? `${owner} has no prompts, so there is no prompt ${which}.`
        : `${owner} has no prompt ${which}; it has ${names.map((n) => `"${n}"`).join(', ')}.`,
    );
  }
  return { name: chosen, text: model.prompts[chosen]! };
}

/**
 * Why prompts cannot be used with this model, or undefined when they can: sentence-transformers pools without the
 * prompt's tokens when the Pooling module says `include_prompt: false`, and EmbedTune always pools with them (as the
 * default `include_prompt: true`), so its vectors would differ from Python's.
 */
export function promptPoolingProblem(rootFolder: string, owner: string): string | undefined {
  const modulesPath = join(rootFolder, 'modules.json');
  if (!existsSync(modulesPath)) return undefined;
  let modules: unknown;
  try {
    modules = JSON.parse(readFileSync(modulesPath, 'utf8'));
  } catch {
    return undefined; // Reading the model reports a broken modules.json with its own message.
  }
  const pooling = Array.isArray(modules)
    ? (modules as { type?: unknown; path?: unknown }[]).find(
        (module) => typeof module?.type === 'string' && module.type.endsWith('.Pooling'),
      )
    : undefined;
  if (!pooling || typeof pooling.path !== 'string') return undefined;
  const configPath = join(rootFolder, pooling.path, 'config.json');
  if (!existsSync(configPath)) return undefined;
  try {
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    if (config['include_prompt'] !== false) return undefined;
  } catch {
    return undefined;
  }
  return `${owner}'s Pooling module says include_prompt: false (sentence-transformers pools without the prompt's tokens), but EmbedTune pools with them, so its vectors would differ; use this model without prompts, or set include_prompt to true in ${configPath}.`;
}
