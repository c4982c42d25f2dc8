import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { BEST_POINTER_FILE, EXPORTED_MODEL_DIR, RESOLVED_CONFIG_FILE } from '../../shared/run/runFolder';

/** What the Lab compares by default for a run: its base model against what it trained, on its validation data. */
export interface LabDefaults {
  readonly first: string | undefined;
  readonly second: string | undefined;
  /** The validation file, when the config names one and it is a file; otherwise the user picks a corpus. */
  readonly corpus: string | undefined;
  /** The validation file's text column: the config's `data.columns.positive` (its documents). */
  readonly column: string | undefined;
}

interface ResolvedConfigFields {
  readonly model?: { readonly base?: unknown };
  readonly data?: { readonly validation?: unknown; readonly columns?: { readonly positive?: unknown } };
}

/**
 * The run's `model.base`, its exported `model/` folder (or else its best checkpoint), and its `data.validation`.
 * Relative paths in config.resolved.yaml are read against the config's folder, as the engine reads them.
 */
export function labDefaultsForRun(runDir: string, configPath: string | null): LabDefaults {
  let config: ResolvedConfigFields = {};
  try {
    config = (parse(readFileSync(join(runDir, RESOLVED_CONFIG_FILE), 'utf8')) as ResolvedConfigFields | null) ?? {};
  } catch {
    // A run that failed before writing its config has no defaults but the trained model, if any.
  }
  const baseDir = configPath ? dirname(configPath) : runDir;
  const local = (value: unknown): string | undefined =>
    typeof value === 'string' && value !== ''
      ? isAbsolute(value) || !existsSync(resolve(baseDir, value))
        ? value
        : resolve(baseDir, value)
      : undefined;
  const validation = local(config.data?.validation);
  return {
    first: local(config.model?.base),
    second: trainedModel(runDir),
    corpus: validation && isFile(validation) ? validation : undefined,
    column: typeof config.data?.columns?.positive === 'string' ? config.data.columns.positive : undefined,
  };
}

function trainedModel(runDir: string): string | undefined {
  const exported = join(runDir, EXPORTED_MODEL_DIR);
  if (existsSync(exported)) return exported;
  const pointer = join(runDir, BEST_POINTER_FILE);
  if (!isFile(pointer)) return undefined;
  const best = readFileSync(pointer, 'utf8').trim();
  return best && existsSync(join(runDir, best)) ? join(runDir, best) : undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
