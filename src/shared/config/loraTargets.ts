import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { EmbedTuneConfig, LoraTarget, ResolvedConfig } from './configTypes';

/**
 * The names `strategy.lora.targets` takes for each model_type: each family's own module names, as PEFT's
 * target_modules would match them. The trainer's layouts (src/trainer/model/<family>/) map each to its modules; a unit
 * test keeps the two in step.
 */
export const LORA_TARGETS_BY_MODEL_TYPE: Readonly<Record<string, readonly string[]>> = {
  bert: ['query', 'key', 'value', 'dense'],
  roberta: ['query', 'key', 'value', 'dense'],
  'xlm-roberta': ['query', 'key', 'value', 'dense'],
  mpnet: ['q', 'k', 'v', 'o', 'dense'],
  distilbert: ['q_lin', 'k_lin', 'v_lin', 'out_lin', 'lin1', 'lin2'],
};

/**
 * Each family's attention query and value projections: what LoRA wraps when a config names no targets. The schema's
 * default, `[query, value]`, is BERT's names; `withFamilyLoraTargets` puts the family's in its place.
 */
export const DEFAULT_LORA_TARGETS_BY_MODEL_TYPE: Readonly<Record<string, readonly LoraTarget[]>> = {
  bert: ['query', 'value'],
  roberta: ['query', 'value'],
  'xlm-roberta': ['query', 'value'],
  mpnet: ['q', 'v'],
  distilbert: ['q_lin', 'v_lin'],
};

/**
 * `config` with the default LoRA targets of the model's family, when the config trains LoRA without naming targets.
 * Run before config.resolved.yaml is written, so that it records the modules that were trained, and both engines
 * receive names of the model's own family. Written targets are kept as they are (a name the family lacks is an error
 * downstream, never a silent default); an unknown model_type leaves the schema's default.
 */
export function withFamilyLoraTargets(config: ResolvedConfig, written: EmbedTuneConfig, modelType: string | undefined): ResolvedConfig {
  const targets = modelType === undefined ? undefined : DEFAULT_LORA_TARGETS_BY_MODEL_TYPE[modelType];
  if (config.strategy.type !== 'lora' || written.strategy?.lora?.targets !== undefined || !targets) return config;
  return { ...config, strategy: { ...config.strategy, lora: { ...config.strategy.lora, targets: [...targets] } } };
}

/** A config.json larger than this is not a model's (modelChecks reports it); it is not read here. */
const CONFIG_JSON_LIMIT_BYTES = 16 * 2 ** 20;

/**
 * The model_type in `base`'s config.json when `base` is a local folder that may be read, else undefined (a hub id,
 * a missing or unreadable file). Relative paths resolve against the config's folder, `~/` against the home folder.
 */
export function localModelType(configDir: string, base: unknown, mayRead: (absolutePath: string) => boolean): string | undefined {
  if (typeof base !== 'string' || base === '') return undefined;
  const folder = base.startsWith('~/') ? join(homedir(), base.slice(2)) : isAbsolute(base) ? base : resolve(configDir, base);
  const path = join(folder, 'config.json');
  if (!mayRead(folder) || !mayRead(path)) return undefined;
  try {
    if (!existsSync(path)) return undefined;
    const stat = statSync(path);
    if (!stat.isFile() || stat.size > CONFIG_JSON_LIMIT_BYTES) return undefined;
    const json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    const modelType = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['model_type'] : undefined;
    return typeof modelType === 'string' ? modelType : undefined;
  } catch {
    return undefined;
  }
}
