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

/** The models a run offers the Lab's model chooser; each is undefined when the run has none. */
export interface RunModels {
  /** Its `model.base`: an absolute folder, or a hub id (or a path that is gone) as the config wrote it. */
  readonly base: string | undefined;
  /** Its exported `model/` folder. */
  readonly exported: string | undefined;
  /** The checkpoint its `best` pointer names. */
  readonly best: string | undefined;
}

/**
 * The run's `model.base`, its exported `model/` folder (or else its best checkpoint), and its `data.validation`.
 * Relative paths in config.resolved.yaml are read against the config's folder, as the engine reads them.
 */
export function labDefaultsForRun(runDir: string, configPath: string | null): LabDefaults {
  const config = resolvedConfig(runDir);
  const local = localPath(configPath ? dirname(configPath) : runDir);
  const validation = local(config.data?.validation);
  const models = runModels(runDir, config, local);
  return {
    first: models.base,
    second: models.exported ?? models.best,
    corpus: validation && isFile(validation) ? validation : undefined,
    column: typeof config.data?.columns?.positive === 'string' ? config.data.columns.positive : undefined,
  };
}

/** The run's base model, exported folder and best checkpoint, read as `labDefaultsForRun` reads them. */
export function labModelsOfRun(runDir: string, configPath: string | null): RunModels {
  return runModels(runDir, resolvedConfig(runDir), localPath(configPath ? dirname(configPath) : runDir));
}

function resolvedConfig(runDir: string): ResolvedConfigFields {
  try {
    return (parse(readFileSync(join(runDir, RESOLVED_CONFIG_FILE), 'utf8')) as ResolvedConfigFields | null) ?? {};
  } catch {
    // A run that failed before writing its config has no defaults but the trained model, if any.
    return {};
  }
}

/** A config value read against `baseDir` when it names something there; otherwise as written (a hub id). */
function localPath(baseDir: string): (value: unknown) => string | undefined {
  return (value) =>
    typeof value === 'string' && value !== ''
      ? isAbsolute(value) || !existsSync(resolve(baseDir, value))
        ? value
        : resolve(baseDir, value)
      : undefined;
}

function runModels(runDir: string, config: ResolvedConfigFields, local: (value: unknown) => string | undefined): RunModels {
  const exported = join(runDir, EXPORTED_MODEL_DIR);
  return { base: local(config.model?.base), exported: existsSync(exported) ? exported : undefined, best: bestCheckpoint(runDir) };
}

function bestCheckpoint(runDir: string): string | undefined {
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
