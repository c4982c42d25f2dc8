import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ConfigDiagnostic } from '../configDiagnostic';
import type { ConfigView } from '../configView';
import { LORA_TARGETS_BY_MODEL_TYPE, localModelType } from '../loraTargets';
import { valueRangeOf, type ParsedConfig } from '../parsedConfig';
import type { ConfigCheck } from './checkContext';

/**
 * A base that reads as a path (not a hub id like `org/name`) must be a folder holding a Hugging Face config.json.
 * `mayRead` is the data probe's boundary: in an untrusted workspace a base outside it is not looked at at all, not even
 * whether it exists, so that a config from an unknown source cannot make the editor echo another file or map folders.
 */
export function makeModelCheck(configDir: string | undefined, mayRead: (absolutePath: string) => boolean = () => true): ConfigCheck {
  return ({ parsed, view }) => {
    const base = view.raw(['model', 'base']);
    if (typeof base !== 'string' || !configDir) return [];
    // As the trainer's model locator does: ~/ is the home folder, anything else relative is relative to the config.
    const folder = base.startsWith('~/') ? join(homedir(), base.slice(2)) : isAbsolute(base) ? base : resolve(configDir, base);
    if (!mayRead(folder) || !looksLikeLocalPath(base, folder)) return [];
    const range = valueRangeOf(parsed, ['model', 'base']);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      return [
        {
          range,
          severity: 'error',
          code: 'model-not-found',
          message: `model.base: no folder at "${base}" (resolved to ${folder}). Give a local Hugging Face model folder or a hub id such as sentence-transformers/all-MiniLM-L6-v2.`,
          data: { path: ['model', 'base'] },
        },
      ];
    }
    const configJson = join(folder, 'config.json');
    // A folder inside may still hold a config.json that links outside.
    if (!mayRead(configJson)) return [];
    if (!existsSync(configJson)) {
      return [
        {
          range,
          severity: 'error',
          code: 'model-not-found',
          message: `model.base: "${base}" has no config.json, so it is not a Hugging Face model folder.`,
          data: { path: ['model', 'base'] },
        },
      ];
    }
    const problem = configJsonProblem(configJson);
    if (!problem) {
      const modelType = localModelType(configDir, base, mayRead);
      return [...loraTargetsOutsideFamily(parsed, view, modelType), ...accelerateStrategyUnmapped(parsed, view, modelType)];
    }
    return [
      {
        range,
        severity: 'error',
        code: 'model-config-invalid',
        message: `model.base: ${configJson} ${problem}`,
        data: { path: ['model', 'base'] },
      },
    ];
  };
}

/** Each strategy.lora.targets item the model's family has no module for, with the names it has. */
function loraTargetsOutsideFamily(parsed: ParsedConfig, view: ConfigView, modelType: string | undefined): ConfigDiagnostic[] {
  const known = modelType === undefined ? undefined : LORA_TARGETS_BY_MODEL_TYPE[modelType];
  const targets = view.raw(['strategy', 'lora', 'targets']);
  if (!known || !Array.isArray(targets)) return [];
  return targets.flatMap((target: unknown, index): ConfigDiagnostic[] =>
    typeof target !== 'string' || known.includes(target)
      ? []
      : [
          {
            range: valueRangeOf(parsed, ['strategy', 'lora', 'targets', index]),
            severity: 'error',
            code: 'lora-target-not-in-model',
            message: `strategy.lora.targets: ${modelType} models have no "${target}" module. Their LoRA targets are ${known.join(', ')}.`,
            data: { path: ['strategy', 'lora', 'targets', index] },
          },
        ],
  );
}

/**
 * The accelerate engine finds LoRA targets and frozen layers by each family's module names
 * (python/embedtune_accelerate/model_families.py, the same table as LORA_TARGETS_BY_MODEL_TYPE). For a model_type
 * outside it, lora and freeze cannot be mapped, so the run is refused here rather than in Python after launch.
 */
function accelerateStrategyUnmapped(parsed: ParsedConfig, view: ConfigView, modelType: string | undefined): ConfigDiagnostic[] {
  const strategy = view.string(['strategy', 'type']);
  if (view.string(['engine', 'type']) !== 'accelerate' || (strategy !== 'lora' && strategy !== 'freeze')) return [];
  // Image models freeze by stage (python/embedtune_accelerate/image_model.py), not by these text families' names.
  if (view.task() === 'image-classification') return [];
  if (modelType === undefined || LORA_TARGETS_BY_MODEL_TYPE[modelType]) return [];
  return [
    {
      range: valueRangeOf(parsed, ['strategy', 'type']),
      severity: 'error',
      code: 'accelerate-option-unsupported',
      message: `strategy.type ${strategy}: the accelerate engine knows the module names of ${Object.keys(LORA_TARGETS_BY_MODEL_TYPE).join(', ')} models, not of model_type ${modelType}, so it cannot tell which layers to ${strategy === 'lora' ? 'wrap' : 'freeze'}. Use strategy.type full.`,
      data: { path: ['strategy', 'type'] },
    },
  ];
}

/** A config.json is a few kilobytes; one far larger is not a model config, and reading it on each keystroke would stall. */
const CONFIG_JSON_LIMIT_BYTES = 16 * 2 ** 20;
/** Far above any released model (the largest have about 128 layers), far below what would exhaust memory. */
const MAX_LAYERS = 1000;
const SIZE_KEYS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings'];

/** Why the trainer could not build a model from this config.json, or undefined when it reads as one. */
function configJsonProblem(path: string): string | undefined {
  let json: unknown;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return 'is not a regular file, so the trainer will not read it.';
    if (stat.size > CONFIG_JSON_LIMIT_BYTES) return `is ${stat.size} bytes, too large to be a model's config.json.`;
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return error instanceof SyntaxError
      ? `is not valid JSON (${error.message}).`
      : `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'is not a JSON object.';
  const config = json as Record<string, unknown>;
  if (typeof config['model_type'] !== 'string') return 'has no "model_type", so the kind of model cannot be told.';
  for (const key of SIZE_KEYS) {
    const value = config[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value) && value >= (key === 'num_hidden_layers' ? 0 : 1))) {
      return `has "${key}": ${JSON.stringify(value)}, which is not a positive integer.`;
    }
  }
  const layers = config['num_hidden_layers'];
  if (typeof layers === 'number' && layers > MAX_LAYERS)
    return `says "num_hidden_layers": ${layers}, more than any model has; the file is damaged or not a real model's.`;
  return undefined;
}

function looksLikeLocalPath(base: string, folder: string): boolean {
  if (base.startsWith('./') || base.startsWith('../') || base.startsWith('~') || isAbsolute(base)) return true;
  if (base.startsWith('.\\') || base.startsWith('..\\')) return true;
  // A hub id is `name` or `org/name`; anything deeper, or an existing relative folder, is local.
  return base.split('/').length > 2 || existsSync(folder);
}
