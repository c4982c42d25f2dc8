import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigView } from './configView';
import { embedtuneSchemaNavigator } from './embedtuneSchema';

/** `engine.python`'s default (python3), as the schema states it. */
const DEFAULT_PYTHON = new ConfigView({}, embedtuneSchemaNavigator).stringOrDefault(['engine', 'python']);

/**
 * The interpreter that runs the accelerate engine: `engine.python` when the config writes it (a path relative to the
 * config's folder, or a command on PATH), else EMBEDTUNE_PYTHON (the editor sets it from
 * `embedtune.accelerate.pythonPath`), else python3. The config wins because it travels with the project: the CLI in
 * CI and the editor then run the same Python.
 */
export function resolvePython(written: string | undefined, configDir: string, env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env['EMBEDTUNE_PYTHON'] !== '' ? env['EMBEDTUNE_PYTHON'] : undefined;
  const chosen = written ?? fromEnv ?? DEFAULT_PYTHON;
  if (isAbsolute(chosen) || !/[\\/]/.test(chosen)) return chosen;
  const relative = resolve(configDir, chosen);
  return written !== undefined || existsSync(relative) ? relative : chosen;
}

/**
 * The line `embedtune train` prints before it starts the interpreter, so that a program a cloned config names never
 * runs unannounced. It resolves the path as the engine does.
 */
export function interpreterNotice(
  configPath: string,
  writtenPython: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const python = resolvePython(writtenPython, dirname(resolve(configPath)), env);
  const source = writtenPython !== undefined ? `engine.python in ${configPath}` : 'EMBEDTUNE_PYTHON, or python3 on PATH when it is unset';
  return `embedtune train: running the Python interpreter ${JSON.stringify(python)} (from ${source})`;
}
