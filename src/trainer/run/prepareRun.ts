/**
 * The run setup both engines share: one read of the config, validated and resolved; the data loaded and prepared;
 * `--resume` resolved; the evaluation schedule decided; then the run folder created or reopened.
 *
 * It comes in three steps, because each engine does its own work between them and that order is visible to the user:
 *
 *   readRunConfig(configPath)        the one read of the file: validate (throws ConfigErrors), resolve the defaults.
 *                                    `embedtune train` calls it to learn engine.type and engine.python, and hands the
 *                                    result on, so the file is read once per run.
 *   prepareRun({ configPath, runConfig?, resume? })
 *                                    loads and prepares the data, resolves --resume, decides evaluation and early
 *                                    stopping. Writes nothing. Without `runConfig` it calls readRunConfig itself.
 *   openRunFolder(prepared)          creates the run folder (or reopens the resumed one) and marks it running in
 *                                    run.json. Engines call it after loading or locating the model, so that a model
 *                                    that cannot be loaded leaves no empty run folder behind.
 *
 * The opened run then gives the event log (`openEvents`, on demand: the accelerate engine's Python appends to the
 * same file, and a writer continues the `seq` it finds when it opens) and marks the run finished (`finish`).
 * Backend selection and model loading stay with each engine.
 *
 * The CLI's request to either engine is `{ configPath, runConfig, resume, eventsToStdout, log, stop }`, so an engine
 * hands its options to `prepareRun` as they are: `prepareRun(options)` uses the CLI's `runConfig` and reads the file
 * only when called without one (a test calling `train()` directly). This interface is stable: engines and tests
 * depend on it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolveConfig, type EmbedTuneConfig, type ResolvedConfig } from '../../shared/config/configTypes';
import { evaluationSchedule, type EvaluationSchedule } from '../../shared/config/evaluationSchedule';
import { localModelType, withFamilyLoraTargets } from '../../shared/config/loraTargets';
import { hasErrors, validateConfigText } from '../../shared/config/validateConfig';
import { EventLogWriter } from '../../shared/events/eventLogWriter';
import { loadTrainingDataOfTask, type TrainingData } from '../data/loadTrainingData';
import { locateModel } from '../model/modelLocator';
import { resolveCheckpoint } from '../training/checkpointStore';
import { createRunDirectory, runDirectoryOfCheckpoint, writeRunInfo, type RunDirectory } from '../training/runDirectory';
import { ConfigErrors } from './configErrors';

export { ConfigErrors } from './configErrors';

/** Reads the config file's text; tests pass their own to count reads. */
export type ConfigReader = (absolutePath: string) => string;

export const readConfigFile: ConfigReader = (absolutePath) => readFileSync(absolutePath, 'utf8');

/** A config that has been read once and validated, with every default filled in. */
export interface RunConfig {
  /** Absolute. */
  readonly configPath: string;
  readonly configDir: string;
  /** `output_dir`, resolved against the config's folder. */
  readonly outputDir: string;
  /** The keys as written: which ones the user set (engine.python, the model settings, training.dropout). */
  readonly written: EmbedTuneConfig;
  /** Every default filled in: what config.resolved.yaml holds and what both engines train with. */
  readonly config: ResolvedConfig;
}

/**
 * Reads, validates and resolves the config at `configPath`, reading the file exactly once. Throws ConfigErrors
 * (naming the path as given, with the text that was validated) when it has errors.
 */
export function readRunConfig(configPath: string, read: ConfigReader = readConfigFile): RunConfig {
  const absolute = resolve(configPath);
  const text = read(absolute);
  const validation = validateConfigText(text, { configPath: absolute });
  if (hasErrors(validation.diagnostics)) throw new ConfigErrors(configPath, validation.diagnostics, text);
  const written = validation.parsed.value as EmbedTuneConfig;
  const config = resolveConfig(written);
  const configDir = dirname(absolute);
  return { configPath: absolute, configDir, outputDir: resolve(configDir, config.output_dir), written, config };
}

export interface PrepareRunOptions {
  readonly configPath: string;
  /** The config as the caller already read it; without it, the file at `configPath` is read here. */
  readonly runConfig?: RunConfig;
  /** Used only when `runConfig` is not given. */
  readonly readConfig?: ConfigReader;
  /** `--resume`: a checkpoint folder, a run folder (its newest checkpoint), or `latest`. */
  readonly resume?: string;
  /** Where the model is looked for (HOME, the caches, EMBEDTUNE_OFFLINE); process.env when not given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Everything a run needs before its model is built; the same object for both engines. */
export interface PreparedRun extends RunConfig {
  /** The training and validation examples, prepared as `preprocess` says (validation split held out). */
  readonly data: TrainingData;
  /** Whether evaluation and early stopping run: on wherever there are validation rows, unless switched off. */
  readonly schedule: EvaluationSchedule;
  /** The checkpoint `--resume` names, as checkpointStore resolved it (relative when given relative); undefined for a new run. */
  readonly resumeFrom: string | undefined;
  /** `training.dropout` when the config writes it; null keeps the model's own dropout from its config.json. */
  readonly dropout: number | null;
}

/** Loads the data, resolves `--resume` and decides the evaluation schedule; writes nothing. */
export async function prepareRun(options: PrepareRunOptions): Promise<PreparedRun> {
  const runConfig = await withModelFamilyDefaults(
    options.runConfig ?? readRunConfig(options.configPath, options.readConfig),
    options.env ?? process.env,
  );
  const { config, written, configDir, outputDir } = runConfig;
  const data = await loadTrainingDataOfTask(config, configDir);
  const resumeFrom = options.resume ? resolveCheckpoint(options.resume, outputDir) : undefined;
  return {
    ...runConfig,
    data,
    schedule: evaluationSchedule(config, data.validation.length),
    resumeFrom,
    dropout: written.training?.dropout !== undefined ? config.training.dropout : null,
  };
}

/**
 * The defaults that follow the model's family, filled before config.resolved.yaml is written: LoRA's targets when
 * the config names none (MPNet's q and v, DistilBERT's q_lin and v_lin). The model is located as the engines will
 * locate it, which they then find where this left it.
 */
async function withModelFamilyDefaults(runConfig: RunConfig, env: Readonly<Record<string, string | undefined>>): Promise<RunConfig> {
  const { config, written, configDir } = runConfig;
  if (config.strategy.type !== 'lora' || written.strategy?.lora?.targets !== undefined) return runConfig;
  const located = await locateModel(config.model.base, { allowRemote: env['EMBEDTUNE_OFFLINE'] !== '1' }, { baseDir: configDir, env });
  return {
    ...runConfig,
    config: withFamilyLoraTargets(
      config,
      written,
      localModelType(configDir, located.folder, () => true),
    ),
  };
}

/** A run folder that is open for this run. */
export interface OpenedRun {
  /** Its id, path, events.jsonl and the hash of the resolved config. */
  readonly directory: RunDirectory;
  /** When this process started on it (ISO time), as run.json says. */
  readonly startedAt: string;
  /** The run's event log, for appending; a resumed run continues its `seq`. Open it when about to write. */
  openEvents(options?: { readonly mirror?: NodeJS.WritableStream }): EventLogWriter;
  /** Marks the run finished in run.json, so that no editor tries to reattach to it. */
  finish(): void;
}

/**
 * Creates the run folder under `output_dir` (with config.resolved.yaml), or reopens the folder of the checkpoint
 * being resumed, and records in run.json that this process is training it.
 */
export function openRunFolder(prepared: PreparedRun): OpenedRun {
  const directory = prepared.resumeFrom
    ? runDirectoryOfCheckpoint(resolve(prepared.resumeFrom), prepared.config)
    : createRunDirectory(prepared.config, prepared.outputDir, prepared.configPath);
  const startedAt = new Date().toISOString();
  const info = { pid: process.pid, configPath: prepared.configPath, startedAt };
  writeRunInfo(directory, { ...info, state: 'running' });
  return {
    directory,
    startedAt,
    openEvents: (eventOptions = {}) =>
      new EventLogWriter({
        path: directory.eventsPath,
        runId: directory.runId,
        ...(eventOptions.mirror ? { mirror: eventOptions.mirror } : {}),
      }),
    finish: () => writeRunInfo(directory, { ...info, state: 'finished' }),
  };
}
