import { exampleUnit, formatDuration, formatLoss, formatMetric, formatPercent, formatRate } from '../../shared/monitor/formatting';
import type { RunProgress } from '../../shared/monitor/runProgress';
import type { RunLifecycle } from '../../shared/protocol/runListEntry';

/** What the status bar needs to know about a run. */
export interface StatusRun {
  readonly label: string;
  readonly configPath: string;
  readonly lifecycle: RunLifecycle;
  readonly progress: RunProgress;
  readonly failure: string | null;
}

export interface StatusText {
  readonly text: string;
  readonly tooltip: string;
}

/**
 * The status bar text for a run, e.g. `$(sync~spin) epoch 2/5 · 43% · loss 0.231 · ndcg@10 0.71 · 14 pairs/s · ETA 6m · wasm`,
 * and a tooltip with the run, the backend and the best checkpoint. `others` counts the other live runs.
 */
export function formatRunStatus(run: StatusRun, now: number = Date.now(), others = 0): StatusText {
  const { progress } = run;
  const setup = progress.setup;
  const more = others > 0 ? ` (+${others} more)` : '';
  const bestText = progress.best ? `${progress.best.metric.name} ${formatMetric(progress.best.metric.value)}` : null;
  let text: string;
  switch (run.lifecycle) {
    case 'starting':
      text = `$(sync~spin) EmbedTune: starting ${fileName(run.configPath)}…`;
      break;
    case 'running': {
      const parts = [setup ? `epoch ${progress.currentEpoch}/${setup.epochs}` : null, formatPercent(progress.fraction)];
      if (progress.loss !== null || progress.step > 0) parts.push(`loss ${formatLoss(progress.loss)}`);
      const latest = progress.latestEval;
      if (latest) parts.push(`${latest.primary.name} ${formatMetric(latest.primary.value)}`);
      if (progress.examplesPerSecond !== null) parts.push(`${formatRate(progress.examplesPerSecond)} ${exampleUnit(setup?.task)}/s`);
      const eta = progress.etaSeconds(now);
      if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
      if (setup) parts.push(backendLabel(setup.backend, setup.device));
      text = `$(sync~spin) ${parts.filter((p): p is string => p !== null).join(' · ')}`;
      break;
    }
    case 'stopping':
      text = `$(sync~spin) stopping at step ${progress.step}…`;
      break;
    case 'completed':
    case 'early_stopped':
      text = `$(check) ${run.lifecycle === 'early_stopped' ? 'done (early stop)' : 'done'}${bestText ? ` · ${bestText}` : ''}`;
      break;
    case 'stopped':
      text = `$(debug-stop) stopped at step ${progress.step}${bestText ? ` · best ${bestText}` : ''}`;
      break;
    case 'failed':
    case 'crashed':
    case 'interrupted':
      text = `$(error) ${run.lifecycle}${progress.step > 0 ? ` at step ${progress.step}` : ''}${bestText ? ` · best ${bestText}` : ''}`;
      break;
  }
  return { text: text + more, tooltip: tooltipFor(run, others) };
}

function tooltipFor(run: StatusRun, others: number): string {
  const { progress } = run;
  const setup = progress.setup;
  const lines = [`EmbedTune run ${run.label} (${run.lifecycle.replace('_', ' ')})`, `Config: ${run.configPath}`];
  if (setup) {
    lines.push(`Backend: ${setup.backend} on ${setup.device}`);
    lines.push(`Model: ${setup.model} (${setup.strategy})`);
    lines.push(`Step ${progress.step}/${setup.totalSteps} · epoch ${progress.epoch.toFixed(2)} of ${setup.epochs}`);
  }
  if (progress.best) {
    const where = progress.bestCheckpoint ? `${progress.bestCheckpoint}, ` : '';
    lines.push(`Best: ${where}${progress.best.metric.name} ${formatMetric(progress.best.metric.value)} at step ${progress.best.step}`);
  } else if (progress.bestCheckpoint) {
    lines.push(`Best checkpoint: ${progress.bestCheckpoint}`);
  }
  if (run.failure) lines.push(`Error: ${run.failure.split('\n')[0]}`);
  if (others > 0) lines.push(`${others} other run(s) training.`);
  lines.push('Click to open the dashboard.');
  return lines.join('\n');
}

/**
 * What runs the math, in a word or two, so a slow run on WebAssembly or a GPU build that found no GPU shows at a
 * glance: "wasm", "TF CPU", "TF GPU", "JS CPU", or the engine's own name (accelerate reports e.g. "cuda").
 */
export function backendLabel(backend: string, device: string): string {
  switch (backend) {
    case 'tensorflow':
      return /^GPU\b/.test(device) ? 'TF GPU' : 'TF CPU';
    case 'cpu':
      return 'JS CPU';
    default:
      return backend;
  }
}

function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
