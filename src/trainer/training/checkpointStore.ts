import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricValues } from '../../shared/events/runEvents';
import {
  BEST_POINTER_FILE,
  checkpointName,
  checkpointRelativePath,
  CHECKPOINTS_DIR,
  checkpointStep,
  ENCODER_WEIGHTS_FILE,
  OPTIMIZER_STATE_FILE,
  TFJS_CHECKPOINT_FORMAT,
  TRAINER_STATE_FILE,
  type CheckpointStateSummary,
} from '../../shared/run/runFolder';
import type { BatchPosition } from '../data/batchIterator';
import type { NamedTensors } from '../model/namedTensors';
import { readSafetensors, writeSafetensors } from '../model/safetensors';
import type { TrainedModel } from '../model/trainedModel';
import type { TaskHeadDescription } from './savedTaskHead';

/** Everything besides tensors that a resumed run needs to continue exactly where the saved one stopped. */
export interface TrainerState extends CheckpointStateSummary {
  /** The next batch to train on. Data order and dropout masks derive from `seed` and positions, so this is the RNG state too. */
  readonly position: BatchPosition;
  readonly seed: number;
  readonly optimizerStep: number;
  readonly tracker: { best: number | null; evaluationsWithoutImprovement: number };
  /** The evaluation before training, so that a resumed run can still tell whether training beat the base model. */
  readonly baseline?: MetricValues | null;
  readonly configHash: string;
  readonly examplesSeen: number;
  readonly elapsedSeconds: number;
  /** The classification or tagging head whose weights are in encoder.safetensors, so that eval and export can rebuild it. */
  readonly head?: TaskHeadDescription;
}

export interface CheckpointContents {
  /** The model's variables as the trainer holds them (LoRA and adapters separate), for an exact resume. */
  readonly weights: NamedTensors;
  readonly optimizer: NamedTensors;
  readonly state: TrainerState;
}

export interface SavedCheckpoint {
  /** Relative to the run folder, e.g. `checkpoints/step-40`. */
  readonly path: string;
  readonly sizeBytes: number;
  readonly deleted: string[];
}

const TEMP_PREFIX = '.tmp-';

/**
 * A run's checkpoints. Each is written to a hidden temporary folder and renamed into place when complete, so a
 * killed run never leaves a half-written checkpoint; leftovers of a killed save are removed on the next save.
 * The newest `keep` checkpoints are kept, and the best one always is; `best` in the run folder names it.
 */
export class CheckpointStore {
  readonly folder: string;

  constructor(
    readonly runDir: string,
    private readonly keep: number,
    private readonly keepBest: boolean,
  ) {
    this.folder = join(runDir, CHECKPOINTS_DIR);
    mkdirSync(this.folder, { recursive: true });
  }

  /** The model writes its weights and own files (TrainedModel.writeCheckpointFolder); the store adds the trainer's. */
  async save(contents: CheckpointContents, model: Pick<TrainedModel, 'writeCheckpointFolder'>, isBest: boolean): Promise<SavedCheckpoint> {
    const name = checkpointName(contents.state.step);
    const final = join(this.folder, name);
    const temp = join(this.folder, `${TEMP_PREFIX}${name}-${process.pid}`);
    this.removeLeftovers();
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { recursive: true });
    await model.writeCheckpointFolder(temp, contents.weights);
    writeSafetensors(join(temp, OPTIMIZER_STATE_FILE), contents.optimizer, { format: 'embedtune' });
    writeFileSync(join(temp, TRAINER_STATE_FILE), `${JSON.stringify(contents.state, null, 2)}\n`);
    rmSync(final, { recursive: true, force: true });
    renameSync(temp, final);
    const path = checkpointRelativePath(contents.state.step);
    if (isBest && this.keepBest) writeFileAtomic(join(this.runDir, BEST_POINTER_FILE), `${path}\n`);
    return { path, sizeBytes: folderSize(final), deleted: this.prune() };
  }

  /** Checkpoint folders, oldest first. */
  list(): { name: string; step: number; path: string }[] {
    if (!existsSync(this.folder)) return [];
    return readdirSync(this.folder)
      .map((name) => ({ name, step: checkpointStep(name) }))
      .filter((entry): entry is { name: string; step: number } => entry.step !== undefined)
      .map(({ name, step }) => ({ name, step, path: join(this.folder, name) }))
      .sort((a, b) => a.step - b.step);
  }

  bestPath(): string | null {
    const pointer = join(this.runDir, BEST_POINTER_FILE);
    if (!existsSync(pointer)) return null;
    // Older runs on Windows wrote the pointer with backslashes.
    const path = readFileSync(pointer, 'utf8').trim().replace(/\\/g, '/');
    return existsSync(join(this.runDir, path)) ? path : null;
  }

  private prune(): string[] {
    const best = this.bestPath();
    const all = this.list();
    const doomed = all.slice(0, Math.max(0, all.length - this.keep)).filter((entry) => checkpointRelativePath(entry.step) !== best);
    for (const entry of doomed) rmSync(entry.path, { recursive: true, force: true });
    return doomed.map((entry) => checkpointRelativePath(entry.step));
  }

  private removeLeftovers(): void {
    for (const name of readdirSync(this.folder))
      if (name.startsWith(TEMP_PREFIX)) rmSync(join(this.folder, name), { recursive: true, force: true });
  }
}

/**
 * A checkpoint's contents. `readWeights` is the model's reader (TrainedModel.readCheckpointWeights); the default
 * reads a text encoder's encoder.safetensors.
 */
export function loadCheckpoint(
  folder: string,
  readWeights: (folder: string) => NamedTensors = (at) => readSafetensors(join(at, ENCODER_WEIGHTS_FILE)).tensors,
): CheckpointContents {
  const statePath = join(folder, TRAINER_STATE_FILE);
  if (!existsSync(statePath)) throw new Error(`${folder} is not an EmbedTune checkpoint: it has no ${TRAINER_STATE_FILE}.`);
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState;
  if (state.format !== TFJS_CHECKPOINT_FORMAT)
    throw new Error(`${statePath} has format ${JSON.stringify(state.format)}, which this EmbedTune cannot read.`);
  return {
    weights: readWeights(folder),
    optimizer: readSafetensors(join(folder, OPTIMIZER_STATE_FILE)).tensors,
    state,
  };
}

/** `--resume` names no checkpoint. */
export class CheckpointNotFound extends Error {
  override readonly name = 'CheckpointNotFound';
}

/** `latest`, a checkpoint folder, or a run folder (its newest checkpoint). */
export function resolveCheckpoint(request: string, outputDir: string): string {
  if (request === 'latest') {
    const newest = newestCheckpointUnder(outputDir);
    if (!newest) throw new CheckpointNotFound(`--resume latest found no checkpoint under ${outputDir}.`);
    return newest;
  }
  if (existsSync(join(request, TRAINER_STATE_FILE))) return request;
  if (existsSync(join(request, CHECKPOINTS_DIR))) {
    const newest = highestStepIn(request);
    if (newest) return newest;
  }
  throw new CheckpointNotFound(
    `--resume ${request}: no EmbedTune checkpoint there (expected a checkpoints/step-N folder, a run folder, or "latest").`,
  );
}

/** The run whose checkpoint was written last, and in it the highest step, as resuming that run folder picks. */
function newestCheckpointUnder(outputDir: string): string | undefined {
  if (!existsSync(outputDir)) return undefined;
  let newest: { run: string; mtime: number } | undefined;
  for (const run of readdirSync(outputDir)) {
    const mtime = lastCheckpointWrite(join(outputDir, run, CHECKPOINTS_DIR));
    if (mtime !== undefined && (!newest || mtime > newest.mtime)) newest = { run: join(outputDir, run), mtime };
  }
  return newest && highestStepIn(newest.run);
}

/** A run folder's checkpoint of the highest step, which resuming that run continues from. */
function highestStepIn(runDir: string): string | undefined {
  return new CheckpointStore(runDir, Number.MAX_SAFE_INTEGER, true).list().at(-1)?.path;
}

function lastCheckpointWrite(checkpoints: string): number | undefined {
  if (!existsSync(checkpoints)) return undefined;
  let last: number | undefined;
  for (const name of readdirSync(checkpoints)) {
    if (checkpointStep(name) === undefined) continue;
    const mtime = statSync(join(checkpoints, name, TRAINER_STATE_FILE), { throwIfNoEntry: false })?.mtimeMs;
    if (mtime !== undefined && (last === undefined || mtime > last)) last = mtime;
  }
  return last;
}

function folderSize(folder: string): number {
  let total = 0;
  for (const name of readdirSync(folder)) {
    const stat = statSync(join(folder, name));
    total += stat.isDirectory() ? folderSize(join(folder, name)) : stat.size;
  }
  return total;
}

export function writeFileAtomic(path: string, content: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}
