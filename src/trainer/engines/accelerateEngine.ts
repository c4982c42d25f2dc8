import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { resolvePython } from '../../shared/config/pythonInterpreter';
import { microBatchesPerProcess } from '../../shared/config/runPlan';
import { EscapedLineWriter } from '../cli/escapedLineWriter';
import { readEventLog } from '../../shared/events/eventLogReader';
import type { RunFinishReason } from '../../shared/events/runEvents';
import { ACCELERATE_STATE_FILE, EXPORTED_MODEL_DIR } from '../../shared/run/runFolder';
import { locateModel } from '../model/modelLocator';
import { openRunFolder, prepareRun, type RunConfig } from '../run/prepareRun';
import type { RunRequest } from '../run/runRequest';
import { CheckpointStore } from '../training/checkpointStore';
import type { RunDirectory } from '../training/runDirectory';
import type { TrainOutcome } from '../training/trainingRun';
import { accelerateLaunchCommand, formatLaunchCommand, launchEnvironment, type LaunchCommand } from './accelerateCommand';
import { launchPlanPath, planModel, writeLaunchPlan } from './launchPlan';
import { signalGroup, waitForGroupExit } from './processGroup';
import { pythonPackageRoot } from './pythonPackage';

const STOP_POLL_MS = 100;
const STDERR_LINES_KEPT = 40;

/** The command a run of this config starts, with `<run-id>` where the run's folder name will be. */
export function previewAccelerateLaunch(runConfig: RunConfig, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const planPath = launchPlanPath(join(runConfig.outputDir, '<run-id>'));
  return formatLaunchCommand(launchCommandFor(runConfig, planPath, env));
}

function launchCommandFor(
  { configDir, written, config }: RunConfig,
  planPath: string,
  env: Readonly<Record<string, string | undefined>>,
): LaunchCommand {
  return accelerateLaunchCommand({
    python: resolvePython(written.engine?.python, configDir, env),
    engine: config.engine,
    written: written.engine,
    ...(config.engine.config_file ? { configFile: resolve(configDir, config.engine.config_file) } : {}),
    mixedPrecision: config.training.mixed_precision,
    gradientAccumulationSteps: config.training.gradient_accumulation_steps,
    planPath,
    packageRoot: pythonPackageRoot(),
  });
}

/**
 * Trains a config whose engine is accelerate: prepares the data and the run folder here, then runs
 * `accelerate launch` in a process group of its own and supervises it. Stop sends SIGTERM to the whole group (the
 * main rank writes a final checkpoint); when the group ends without the run saying how it finished (a crash, a
 * kill, a missing package), the error and a failed run_finished are written here, so the editor always learns
 * the outcome.
 */
export async function trainWithAccelerate(options: RunRequest): Promise<TrainOutcome> {
  const env = options.env ?? process.env;
  const prepared = await prepareRun(options);
  const { configDir, config, data } = prepared;
  const located = await locateModel(config.model.base, { allowRemote: env['EMBEDTUNE_OFFLINE'] !== '1' }, { baseDir: configDir, env });
  const model = planModel(located, prepared.written.model, config.model);

  assertEveryProcessGetsABatch(data.train.length, config);

  // Python resumes from this path, and runs in the config's folder.
  const checkpointToResume = prepared.resumeFrom ? resolve(prepared.resumeFrom) : undefined;
  if (checkpointToResume && !existsSync(join(checkpointToResume, ACCELERATE_STATE_FILE))) {
    throw new Error(`${checkpointToResume} was saved by the tfjs engine; resume it with engine.type tfjs, or start a new run.`);
  }
  const opened = openRunFolder(prepared);
  const run = opened.directory;
  const planPath = writeLaunchPlan({
    prepared,
    run,
    model,
    resumeFrom: checkpointToResume,
    eventsToStdout: options.eventsToStdout === true,
  });
  const command = launchCommandFor(prepared, planPath, env);
  options.log(`accelerate: ${formatLaunchCommand(command)}`);
  const offsetBefore = readEventLog(run.eventsPath).nextOffset;

  const exit = await supervise(command, configDir, env, options);
  const outcome = outcomeOf(run, offsetBefore);
  if (!outcome.finished && config.engine.machine_rank > 0) {
    // The main machine writes the run's events; this one only trained as its workers.
    outcome.reason = exit.code === 0 ? 'completed' : 'failed';
    options.log(
      `this machine (machine_rank ${config.engine.machine_rank}) trained as workers of the main machine, whose run folder has the events; accelerate launch ended with ${exit.signal ?? `exit code ${exit.code}`}.`,
    );
  } else if (!outcome.finished) {
    // Stopped before training got under way, or crashed: say so in the run's own log, as the tfjs engine would.
    const reason: RunFinishReason = options.stop.requested ? 'stopped' : 'failed';
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    const events = opened.openEvents();
    if (reason === 'failed') {
      const why = `accelerate launch ended (${how}) before the run finished.${exit.stderr.length > 0 ? `\n${exit.stderr.join('\n')}` : ''}`;
      events.write({ type: 'error', message: why, where: { phase: 'training' } });
      options.log(`embedtune train: accelerate launch ended (${how}) before the run finished; see the output above.`);
    } else {
      events.write({
        type: 'log',
        level: 'warning',
        message: `Stopped (${how}) before the run could save a final checkpoint; --resume continues from the newest one there is.`,
      });
    }
    const store = new CheckpointStore(run.path, Number.MAX_SAFE_INTEGER, true);
    events.write({
      type: 'run_finished',
      reason,
      step: outcome.step,
      best_checkpoint: store.bestPath(),
      best_metric: null,
      duration_seconds: (Date.now() - Date.parse(opened.startedAt)) / 1000,
    });
    events.close();
    outcome.reason = reason;
  }
  opened.finish();
  return {
    reason: outcome.reason,
    runDir: run.path,
    step: outcome.step,
    bestCheckpoint: outcome.bestCheckpoint,
    exportedModel: outcome.reason === 'completed' || outcome.reason === 'early_stopped' ? join(run.path, EXPORTED_MODEL_DIR) : null,
    baseline: null,
    final: null,
  };
}

/**
 * Under DistributedDataParallel a process trains only full batches, so fewer rows than one batch per process train
 * nothing at all (transformers would fail with an empty data loader): say so before a run folder exists.
 */
function assertEveryProcessGetsABatch(rows: number, config: ResolvedConfig): void {
  const processes = config.engine.num_processes;
  const batch = config.training.batch_size;
  if (processes > 1 && microBatchesPerProcess(rows, batch, processes) === 0) {
    throw new Error(
      `${rows} training rows are fewer than one batch for each of the ${processes} processes (batch_size ${batch} × num_processes ${processes} = ${batch * processes}); under DistributedDataParallel nothing would train. Lower training.batch_size or engine.num_processes, or add rows.`,
    );
  }
}

interface LaunchExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines the processes wrote to stderr, for the error event. */
  readonly stderr: string[];
}

async function supervise(
  command: LaunchCommand,
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  options: RunRequest,
): Promise<LaunchExit> {
  const child = spawn(command.executable, [...command.args], {
    cwd,
    env: launchEnvironment(command, env as NodeJS.ProcessEnv),
    // A group of its own, so that a stop reaches the launcher and every worker it started, and so that Ctrl+C in a
    // terminal reaches only this CLI, which turns it into one orderly SIGTERM.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const stderr: string[] = [];
  // Python prints what data rows and model files hold; the terminal gets it escaped, as all the CLI's output.
  const stdoutLines = new EscapedLineWriter((text) => process.stdout.write(text));
  const stderrLines = new EscapedLineWriter((text) => process.stderr.write(text));
  child.stdout.on('data', (chunk: Buffer) => stdoutLines.push(chunk));
  child.stdout.once('end', () => stdoutLines.end());
  let partial = '';
  child.stderr.once('end', () => stderrLines.end());
  child.stderr.on('data', (chunk: Buffer) => {
    stderrLines.push(chunk);
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    stderr.push(...lines.filter((line) => line.trim() !== ''));
    if (stderr.length > STDERR_LINES_KEPT) stderr.splice(0, stderr.length - STDERR_LINES_KEPT);
  });
  const spawned = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined>((resolveSpawn) => {
    child.once('spawn', () => resolveSpawn(undefined));
    child.once('error', (error) => {
      stderr.push(
        `Could not start ${command.executable}: ${error.message}. Set engine.python (or the embedtune.accelerate.pythonPath setting) to a Python with the packages of python/embedtune_accelerate/requirements.txt.`,
      );
      resolveSpawn({ code: null, signal: null });
    });
  });
  if (spawned) return { ...spawned, stderr };
  const pgid = child.pid!;
  // If this CLI exits for any reason (a second Ctrl+C exits at once), the training processes go with it.
  const killGroup = () => signalGroup(pgid, 'SIGKILL');
  process.on('exit', killGroup);
  let stopForwarded = false;
  const forwardStop = setInterval(() => {
    if (options.stop.requested && !stopForwarded) {
      stopForwarded = true;
      signalGroup(pgid, 'SIGTERM');
    }
  }, STOP_POLL_MS);
  const exited = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  await waitForGroupExit(pgid);
  clearInterval(forwardStop);
  process.off('exit', killGroup);
  if (partial.trim() !== '') stderr.push(partial);
  return { ...exited, stderr };
}

/** How this launch ended, read from the events it appended after `offset`. */
function outcomeOf(
  run: RunDirectory,
  offset: number,
): { finished: boolean; reason: RunFinishReason; step: number; bestCheckpoint: string | null } {
  const { events } = readEventLog(run.eventsPath, offset);
  let step = 0;
  for (const event of events) {
    if ('step' in event && typeof event.step === 'number') step = Math.max(step, event.step);
    if (event.type === 'run_finished')
      return { finished: true, reason: event.reason, step: event.step, bestCheckpoint: event.best_checkpoint };
  }
  return { finished: false, reason: 'failed', step, bestCheckpoint: null };
}
