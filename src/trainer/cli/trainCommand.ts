import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { readEventLog } from '../../shared/events/eventLogReader';
import { describeBaselineNotBeaten } from '../../shared/monitor/baselineWarning';
import { RunProgress } from '../../shared/monitor/runProgress';
import { interpreterNotice } from '../../shared/config/pythonInterpreter';
import { EVENTS_FILE } from '../../shared/run/runFolder';
import { previewAccelerateLaunch, trainWithAccelerate } from '../engines/accelerateEngine';
import { ConfigErrors, readConfigFile, readRunConfig, type ConfigReader, type RunConfig } from '../run/prepareRun';
import { train } from '../training/trainingRun';
import { requireRegularFile, UsageError, type CliIo } from './cliIo';
import { reportConfigErrors } from './configErrorReport';
import { openedRunFolder, setupErrorEvent } from './setupErrorEvent';

export const TRAIN_USAGE = `embedtune train CONFIG [--resume CHECKPOINT|RUN|latest] [--events stdout] [--print-launch-command]

Fine-tunes the config's model with the built-in TensorFlow.js engine, or with engine.type accelerate through
\`accelerate launch\` and sentence-transformers in Python. Every run writes <output_dir>/<run-id>/ with
events.jsonl, config.resolved.yaml, checkpoints/ and, at the end, model/ (a sentence-transformers folder; for
task image-classification, a transformers ResNetForImageClassification folder).
  --resume X       continue exactly from a checkpoint folder, a run folder (its newest checkpoint), or "latest"
  --events stdout  also print every event as a JSON line on stdout (progress then goes to stderr)
  --print-launch-command  print the accelerate launch command line the run would start, and exit
Ctrl+C or SIGTERM finishes the current step, writes a checkpoint and exits; a second one exits at once.`;

/** `readConfig` reads the config file; tests pass their own to check that a run reads it once. */
export async function runTrain(args: string[], io: CliIo, readConfig: ConfigReader = readConfigFile): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { resume: { type: 'string' }, events: { type: 'string' }, 'print-launch-command': { type: 'boolean' } },
  });
  if (positionals.length !== 1) throw new UsageError('train needs exactly one config file.', TRAIN_USAGE);
  if (values.events !== undefined && values.events !== 'stdout')
    throw new UsageError(`--events takes "stdout", not "${values.events}".`, TRAIN_USAGE);
  const configPath = positionals[0]!;
  const eventsToStdout = values.events === 'stdout';
  // The one read of the config: the engine, the interpreter notice and the run all use it.
  let runConfig: RunConfig;
  try {
    requireRegularFile(configPath, 'The config');
    runConfig = readRunConfig(configPath, readConfig);
  } catch (error) {
    return reportTrainError(error, io, eventsToStdout);
  }
  const accelerate = runConfig.config.engine.type === 'accelerate';
  if (values['print-launch-command']) {
    if (!accelerate)
      throw new UsageError(
        '--print-launch-command needs a config with engine.type accelerate; the tfjs engine trains in this process.',
        TRAIN_USAGE,
      );
    try {
      io.out(previewAccelerateLaunch(runConfig));
      return 0;
    } catch (error) {
      return reportTrainError(error, io);
    }
  }
  const stop = { requested: false };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.requested) {
      io.err(`embedtune: ${signal} again; exiting without a final checkpoint.`);
      process.exit(130);
    }
    stop.requested = true;
    io.err(`embedtune: ${signal}: finishing this step and writing a checkpoint (send it again to exit at once).`);
  };
  const onMessage = (message: unknown) => {
    if ((message as { type?: string })?.type === 'stop') onSignal('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('message', onMessage);
  const log = values.events === 'stdout' ? io.err : io.out;
  if (accelerate) log(interpreterNotice(configPath, runConfig.written.engine?.python, process.env));
  try {
    const request = { configPath, runConfig, resume: values.resume, eventsToStdout: values.events === 'stdout', log, stop };
    const outcome = accelerate ? await trainWithAccelerate(request) : await train(request);
    const where = relative(process.cwd(), outcome.runDir) || '.';
    log(`run ${outcome.reason} after ${outcome.step} steps: ${where}`);
    if (outcome.bestCheckpoint) log(`best checkpoint: ${where}/${outcome.bestCheckpoint}`);
    if (outcome.exportedModel) log(`${exportedModelKind(runConfig.config.task)}: ${relative(process.cwd(), outcome.exportedModel)}`);
    // Read from the run's events, so that the summary says it whichever engine wrote them.
    const baselineWarning = new RunProgress().add(readEventLog(join(outcome.runDir, EVENTS_FILE)).events).baselineWarning;
    if (baselineWarning) log(`warning: ${describeBaselineNotBeaten(baselineWarning)}`);
    return outcome.reason === 'failed' ? 1 : 0;
  } catch (error) {
    return reportTrainError(error, io, eventsToStdout && !openedRunFolder(runConfig.outputDir, values.resume));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('message', onMessage);
    // The IPC channel, when the extension opened one, would otherwise keep the process alive; it is already
    // gone when the editor that started the run has closed.
    if (process.connected) process.disconnect();
  }
}

/** What the run's model/ folder is, for the end summary: image runs export a transformers folder, text runs sentence-transformers. */
function exportedModelKind(task: string): string {
  return task === 'image-classification' ? 'transformers image-classification model' : 'sentence-transformers model';
}

/** `asEvent`: also print the error as an event on stdout (`--events stdout` and no run folder whose events say it). */
function reportTrainError(error: unknown, io: CliIo, asEvent = false): number {
  if (asEvent) io.out(JSON.stringify(setupErrorEvent(error)));
  if (error instanceof ConfigErrors) return reportConfigErrors(error, io);
  io.err(`embedtune train: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
}
