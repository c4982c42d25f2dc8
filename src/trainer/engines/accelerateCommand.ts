import { delimiter } from 'node:path';
import type { EngineConfig, MixedPrecision, ResolvedEngineConfig } from '../../shared/config/configTypes';
import { PYTHON_MODULE } from './pythonPackage';

export interface AccelerateLaunchRequest {
  /** The interpreter that has torch, transformers, sentence-transformers and accelerate. */
  readonly python: string;
  readonly engine: ResolvedEngineConfig;
  /** The engine section as written: with an accelerate config file, only written options override the file. */
  readonly written: EngineConfig | undefined;
  /** `engine.config_file` resolved against the config's folder. */
  readonly configFile?: string;
  readonly mixedPrecision: MixedPrecision;
  readonly gradientAccumulationSteps: number;
  readonly planPath: string;
  /** The folder that holds the embedtune_accelerate package. */
  readonly packageRoot: string;
}

export interface LaunchCommand {
  readonly executable: string;
  readonly args: readonly string[];
  /** Variables added to the environment the CLI runs in. */
  readonly env: Readonly<Record<string, string>>;
}

const MACHINE_OPTIONS = ['num_processes', 'num_machines', 'machine_rank', 'main_process_ip', 'main_process_port'] as const;

/**
 * `python -m accelerate.commands.launch … --module embedtune_accelerate.train --plan PLAN`: accelerate launch run by
 * the configured interpreter, so that its packages are the ones that train (an `accelerate` script on PATH may
 * belong to another environment).
 *
 * In accelerate 1.x `--cpu` starts one process whatever `--num_processes` says (more need mpirun), so a CPU run
 * with several processes is started by the multi-process launcher (`--multi_gpu`, which is torchrun) instead, and
 * ACCELERATE_USE_CPU makes every worker train on the CPU and talk over gloo.
 */
export function accelerateLaunchCommand(request: AccelerateLaunchRequest): LaunchCommand {
  const { engine } = request;
  const args = ['-m', 'accelerate.commands.launch'];
  if (request.configFile) args.push('--config_file', request.configFile);
  const multiCpu = engine.cpu && engine.num_processes > 1;
  if (multiCpu) args.push('--multi_gpu');
  else if (engine.cpu) args.push('--cpu');
  else if (!request.configFile && engine.num_processes > 1) args.push('--multi_gpu');
  for (const option of MACHINE_OPTIONS) {
    // An accelerate config file keeps its own values unless the EmbedTune config writes them.
    if (request.configFile && request.written?.[option] === undefined) continue;
    args.push(`--${option}`, String(engine[option]));
  }
  args.push('--mixed_precision', request.mixedPrecision, '--gradient_accumulation_steps', String(request.gradientAccumulationSteps));
  if (!request.configFile) args.push('--dynamo_backend', 'no');
  args.push('--module', `${PYTHON_MODULE}.train`, '--plan', request.planPath);
  // No bytecode caches: the package lives in the installed extension, which should stay as it was shipped.
  const env: Record<string, string> = { PYTHONPATH: request.packageRoot, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
  if (engine.cpu) env['ACCELERATE_USE_CPU'] = 'true';
  return { executable: request.python, args, env };
}

/** The environment for the launch: the given one plus the command's variables, PYTHONPATH prepended. */
export function launchEnvironment(command: LaunchCommand, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...command.env };
  if (base['PYTHONPATH']) env['PYTHONPATH'] = `${command.env['PYTHONPATH']}${delimiter}${base['PYTHONPATH']}`;
  return env;
}

/** The command as one line a person can paste into a POSIX shell: the added variables, then the quoted words. */
export function formatLaunchCommand(command: LaunchCommand): string {
  const assignments = Object.entries(command.env).map(([name, value]) => `${name}=${shellQuote(value)}`);
  return [...assignments, shellQuote(command.executable), ...command.args.map(shellQuote)].join(' ');
}

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
