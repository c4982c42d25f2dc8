// Counterpart: EmbedTuneRunCallback.on_save, _prune, best_pointer and _restore in run_callback.py.
import type { MetricValues, RunEventInput } from '../../../shared/events/runEvents';
import { checkpointRelativePath, TFJS_CHECKPOINT_FORMAT } from '../../../shared/run/runFolder';
import type { BatchPosition } from '../../data/batchIterator';
import type { NamedTensors } from '../../model/namedTensors';
import type { TrainedModel } from '../../model/trainedModel';
import type { AdamW } from '../adamW';
import { loadCheckpoint, type CheckpointStore, type TrainerState } from '../checkpointStore';
import type { RunClock } from '../runClock';
import { describeTaskHead, type TaskHead } from '../savedTaskHead';
import type { EvaluationLogs, StepLogs, TrainEndReason, TrainingCallback } from './callbackList';
import type { TrackerState } from './earlyStopping';
import { isDue } from './interval';

/** What a checkpoint holds the values of: the model (which also writes and reads its files), the task head and the optimizer's moments. */
export interface Trainee {
  readonly model: Pick<TrainedModel, 'snapshot' | 'restore' | 'writeCheckpointFolder' | 'readCheckpointWeights'>;
  readonly head: TaskHead | undefined;
  readonly optimizer: AdamW;
}

/** Where training stands: what the next checkpoint records, and where a resumed run starts. */
export interface TrainingProgress {
  readonly step: number;
  readonly epoch: number;
  readonly position: BatchPosition;
  readonly examplesSeen: number;
}

export interface CheckpointerOptions {
  /** `checkpoints.every`: a step count or `epoch`. */
  readonly every: number | 'epoch';
  readonly seed: number;
  readonly configHash: string;
}

/** The other callbacks' state that a checkpoint saves, read when it is saved. */
export interface SavedRunState {
  readonly tracker: TrackerState;
  readonly metrics: MetricValues | null;
  readonly baseline: MetricValues | null;
}

type SaveReason = 'interval' | 'epoch' | 'stop' | 'final';

/**
 * Saves a checkpoint on `checkpoints.every`, and also at a new best between those steps, so that `best` can always
 * point at it; at the end, one more unless this step was just saved. The store keeps the newest `keep` and the best.
 */
export class Checkpointer implements TrainingCallback {
  private progress: TrainingProgress;
  private bestCheckpoint: string | null;
  private checkpointedAt: number;
  private evaluation: EvaluationLogs | undefined;

  constructor(
    private readonly store: CheckpointStore,
    private readonly trainee: Trainee,
    private readonly options: CheckpointerOptions,
    private readonly runState: () => SavedRunState,
    private readonly clock: RunClock,
    private readonly events: { write(event: RunEventInput): unknown },
    start: { readonly progress: TrainingProgress; readonly bestCheckpoint: string | null; readonly resumed: boolean },
  ) {
    this.progress = start.progress;
    this.bestCheckpoint = start.bestCheckpoint;
    // A resumed run's first checkpoint is already on disk.
    this.checkpointedAt = start.resumed ? start.progress.step : -1;
  }

  onEvaluate(evaluation: EvaluationLogs): void {
    this.evaluation = evaluation;
  }

  async onStepEnd(logs: StepLogs): Promise<void> {
    this.progress = logs;
    const improved = this.evaluation?.step === logs.step && this.evaluation.isBest;
    this.evaluation = undefined;
    if (isDue(this.options.every, logs.step, logs.epochEnds))
      await this.save(this.options.every === 'epoch' ? 'epoch' : 'interval', improved);
    // A new best between checkpoint intervals is kept, so that keep_best can always point at it.
    else if (improved) await this.save('interval', true);
  }

  async onTrainEnd(end: { readonly reason: TrainEndReason }): Promise<void> {
    if (this.checkpointedAt !== this.progress.step) await this.save(end.reason === 'stopped' ? 'stop' : 'final', false);
  }

  /** The newest checkpoint's folder name, e.g. `step-40`; null before the first. */
  newest(): string | null {
    return this.store.list().at(-1)?.name ?? null;
  }

  /** The best checkpoint, relative to the run folder, as the `best` pointer names it. */
  best(): string | null {
    return this.store.bestPath();
  }

  private async save(reason: SaveReason, isBest: boolean): Promise<void> {
    const { step, epoch, position, examplesSeen } = this.progress;
    const { optimizer, model, head } = this.trainee;
    const moments = await optimizer.state();
    const optimizerTensors: NamedTensors = new Map();
    for (const [name, { m, v, shape }] of moments.moments) {
      optimizerTensors.set(`${name}.m`, { dtype: 'F32', shape, data: m });
      optimizerTensors.set(`${name}.v`, { dtype: 'F32', shape, data: v });
    }
    if (isBest) this.bestCheckpoint = checkpointRelativePath(step);
    const { tracker, metrics, baseline } = this.runState();
    const state: TrainerState = {
      format: TFJS_CHECKPOINT_FORMAT,
      step,
      epoch,
      position,
      seed: this.options.seed,
      optimizerStep: optimizer.step,
      tracker,
      bestCheckpoint: this.bestCheckpoint,
      metrics,
      baseline,
      configHash: this.options.configHash,
      examplesSeen,
      elapsedSeconds: this.clock.elapsed(),
      ...(head ? { head: describeTaskHead(head) } : {}),
    };
    const weights = new Map([...(await model.snapshot()), ...((await head?.snapshot()) ?? [])]);
    const saved = await this.store.save({ weights, optimizer: optimizerTensors, state }, model, isBest);
    this.checkpointedAt = step;
    this.events.write({
      type: 'checkpoint',
      step,
      epoch,
      path: saved.path,
      size_bytes: saved.sizeBytes,
      ...(metrics ? { metrics } : {}),
      is_best: isBest,
      reason,
      deleted: saved.deleted,
    });
  }
}

/** What a resumed run continues from: its checkpoint's trainer state, with the weights and moments put back. */
export function restoreCheckpoint(folder: string, trainee: Trainee, configHash: string, log: (line: string) => void): TrainerState {
  const saved = loadCheckpoint(folder, (at) => trainee.model.readCheckpointWeights(at));
  if (saved.state.configHash !== configHash) {
    log(`warning: ${folder} was saved with a different config; resuming with the current one.`);
  }
  trainee.model.restore(saved.weights);
  trainee.head?.restore(saved.weights);
  trainee.optimizer.restore(saved.state.optimizerStep, momentsFrom(saved.optimizer));
  log(`resuming from ${folder} at step ${saved.state.step}`);
  return saved.state;
}

function momentsFrom(tensors: NamedTensors): Map<string, { m: Float32Array; v: Float32Array }> {
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const [key, tensor] of tensors) {
    if (!key.endsWith('.m')) continue;
    const name = key.slice(0, -2);
    const v = tensors.get(`${name}.v`);
    if (v) moments.set(name, { m: tensor.data as Float32Array, v: v.data as Float32Array });
  }
  return moments;
}
