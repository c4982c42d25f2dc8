import { parse } from 'yaml';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { EventLogWriter } from '../../src/shared/events/eventLogWriter';
import { createRunDirectory, writeRunInfo, type RunDirectory } from '../../src/trainer/training/runDirectory';

/** What a finished past run used and reached. */
export interface PastRunSpec {
  /** Changes to the config the run trained, e.g. `{ training: { learning_rate: 2e-5 } }`. */
  readonly overrides?: Record<string, Record<string, unknown>>;
  /** The primary metric after each evaluation; the best is the maximum. */
  readonly evals: readonly number[];
  readonly metric?: string;
  /** Progress events before each evaluation (1 unless given), for a log as long as a real run's. */
  readonly stepsPerEval?: number;
  /** Whether the run wrote run_finished (a run still going or killed has only its evaluations). */
  readonly finished?: boolean;
  readonly startedAt: Date;
}

/**
 * Writes a run folder under `outputDir` as the tfjs trainer does, with its own writers: config.resolved.yaml through
 * createRunDirectory, run.json through writeRunInfo, and events.jsonl through EventLogWriter.
 */
export function writePastRun(configPath: string, configText: string, outputDir: string, spec: PastRunSpec): RunDirectory {
  const config = parse(configText) as EmbedTuneConfig & Record<string, unknown>;
  for (const [section, values] of Object.entries(spec.overrides ?? {})) {
    config[section] = { ...((config[section] as object | undefined) ?? {}), ...values };
  }
  const resolved = resolveConfig(config);
  const run = createRunDirectory(resolved, outputDir, configPath, spec.startedAt);
  writeRunInfo(run, {
    pid: 1,
    configPath,
    startedAt: spec.startedAt.toISOString(),
    state: spec.finished === false ? 'running' : 'finished',
  });
  const events = new EventLogWriter({ path: run.eventsPath, runId: run.runId });
  const metric = spec.metric ?? 'ndcg@10';
  const stepsPerEval = spec.stepsPerEval ?? 1;
  const totalSteps = spec.evals.length * stepsPerEval;
  events.write({
    type: 'run_started',
    config_hash: run.configHash,
    config_path: configPath,
    engine: 'tfjs',
    backend: 'cpu',
    backend_reason: 'test',
    device: 'test',
    task: 'embedding',
    model: resolved.model.base,
    strategy: resolved.strategy.type,
    trainable_parameters: 1,
    total_parameters: 1,
    dataset: { train_rows: 10, validation_rows: 5, skipped_rows: 0 },
    epochs: 1,
    steps_per_epoch: totalSteps,
    total_steps: totalSteps,
    effective_batch_size: 8,
    pid: 1,
  });
  let best = -Infinity;
  spec.evals.forEach((value, index) => {
    const step = (index + 1) * stepsPerEval;
    for (let progress = step - stepsPerEval + 1; progress <= step; progress++)
      events.write({
        type: 'progress',
        step: progress,
        epoch: progress / totalSteps,
        loss: 1 / progress,
        lr: 1e-5,
        examples_per_second: 8,
        eta_seconds: totalSteps - progress,
        memory_mb: { rss: 100 },
      });
    const isBest = value > best;
    best = Math.max(best, value);
    events.write({
      type: 'eval',
      step,
      epoch: step / totalSteps,
      metrics: { [metric]: value },
      primary: { name: metric, value },
      is_best: isBest,
    });
  });
  if (spec.finished !== false) {
    events.write({
      type: 'run_finished',
      reason: 'completed',
      step: totalSteps,
      best_checkpoint: null,
      best_metric: { name: metric, value: best },
      duration_seconds: 1,
    });
  }
  events.close();
  return run;
}
