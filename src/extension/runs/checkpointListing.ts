import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricValues } from '../../shared/events/runEvents';
import type { CheckpointSummary } from '../../shared/monitor/runProgress';
import type { CheckpointEvaluation, CheckpointRow } from '../../shared/protocol/checkpointsMessages';
import {
  BEST_POINTER_FILE,
  CHECKPOINT_NAME,
  checkpointRelativePath,
  CHECKPOINTS_DIR,
  checkpointStep,
  EVAL_RESULTS_FILE,
  TRAINER_STATE_FILE,
  type CheckpointStateSummary,
} from '../../shared/run/runFolder';

/**
 * The checkpoints of a run as they are on disk: each `checkpoints/step-N` folder with its trainer_state.json (step,
 * epoch, metrics), its size and save time, the `best` pointer, and the eval_results.json that `embedtune eval`
 * leaves. The events add why each was saved. Temporary folders of a save in progress (`.tmp-*`) are not listed.
 */
export function listCheckpoints(runDir: string, fromEvents: readonly CheckpointSummary[] = []): CheckpointRow[] {
  const folder = join(runDir, CHECKPOINTS_DIR);
  let names: string[];
  try {
    names = readdirSync(folder).filter((name) => CHECKPOINT_NAME.test(name));
  } catch {
    return [];
  }
  const best = bestCheckpointName(runDir);
  const byPath = new Map(fromEvents.map((summary) => [summary.path.replace(/\\/g, '/'), summary]));
  const rows: CheckpointRow[] = [];
  for (const name of names) {
    const path = join(folder, name);
    // Read as untrusted: the accelerate engine's folders hold the Hugging Face Trainer's trainer_state.json instead.
    const state = readJson(join(path, TRAINER_STATE_FILE)) as { [K in keyof CheckpointStateSummary]?: unknown } | undefined;
    // A folder without its state is not a complete checkpoint (the engine renames a checkpoint into place only when complete).
    if (!state) continue;
    const step = checkpointStep(name)!;
    const event = byPath.get(checkpointRelativePath(step));
    const stat = statSync(path, { throwIfNoEntry: false });
    rows.push({
      name,
      step: typeof state.step === 'number' ? state.step : step,
      epoch: typeof state.epoch === 'number' ? state.epoch : (event?.epoch ?? null),
      time: event?.time ?? (stat ? stat.mtime.toISOString() : null),
      sizeBytes: folderSize(path),
      metrics: metricsOf(state.metrics) ?? event?.metrics ?? {},
      isBest: best !== undefined ? name === best : (event?.isBest ?? false),
      reason: event?.reason ?? null,
      evaluation: evaluationOf(join(path, EVAL_RESULTS_FILE)),
    });
  }
  return rows.sort((a, b) => a.step - b.step);
}

/** The folder name the run's `best` file points at, e.g. `step-40`; undefined when there is none. */
export function bestCheckpointName(runDir: string): string | undefined {
  try {
    const pointer = readFileSync(join(runDir, BEST_POINTER_FILE), 'utf8').trim().replace(/\\/g, '/');
    const name = pointer.split('/').pop() ?? '';
    return CHECKPOINT_NAME.test(name) && existsSync(join(runDir, CHECKPOINTS_DIR, name)) ? name : undefined;
  } catch {
    return undefined;
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function metricsOf(value: unknown): MetricValues | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const metrics: MetricValues = {};
  for (const [name, v] of Object.entries(value)) metrics[name] = typeof v === 'number' && Number.isFinite(v) ? v : null;
  return metrics;
}

function evaluationOf(path: string): CheckpointEvaluation | null {
  const report = readJson(path) as { data?: unknown; examples?: unknown; metrics?: unknown } | undefined;
  const metrics = metricsOf(report?.metrics);
  if (!report || !metrics) return null;
  return {
    data: typeof report.data === 'string' ? report.data : '',
    examples: typeof report.examples === 'number' ? report.examples : 0,
    metrics,
  };
}

function folderSize(folder: string): number {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    total += entry.isDirectory() ? folderSize(path) : (statSync(path, { throwIfNoEntry: false })?.size ?? 0);
  }
  return total;
}
