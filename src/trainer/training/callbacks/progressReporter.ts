// Counterpart: EmbedTuneRunCallback.on_log in run_callback.py (progress events and lines).
import * as tf from '@tensorflow/tfjs-core';
import type { RunEventInput } from '../../../shared/events/runEvents';
import type { RunClock } from '../runClock';
import type { StepLogs, TrainingCallback } from './callbackList';

const PROGRESS_INTERVAL_MS = 250;
const PROGRESS_LOG_INTERVAL_MS = 2000;

/**
 * A progress event at most every 250 ms and a progress line every 2 s (and both at the last step), with throughput
 * over the steps since the previous event and an ETA from the average step time of this process.
 */
export class ProgressReporter implements TrainingCallback {
  private lastEvent = 0;
  private lastLine = 0;
  private windowStart = Date.now();
  private windowExamples = 0;

  constructor(
    private readonly totalSteps: number,
    private readonly backend: string,
    private readonly clock: RunClock,
    private readonly events: { write(event: RunEventInput): unknown },
    private readonly log: (line: string) => void,
  ) {}

  onTrainBegin(): void {
    this.windowStart = Date.now();
  }

  onStepEnd({ step, epoch, loss, lr, gradNorm, examples }: StepLogs): void {
    this.windowExamples += examples;
    const now = Date.now();
    const last = step === this.totalSteps;
    if (now - this.lastEvent < PROGRESS_INTERVAL_MS && !last) return;
    const perSecond = this.windowExamples / Math.max((now - this.windowStart) / 1000, 1e-3);
    const stepsPerSecond = step / Math.max(this.clock.sinceStart(), 1e-3);
    const eta = (this.totalSteps - step) / Math.max(stepsPerSecond, 1e-9);
    this.events.write({
      type: 'progress',
      step,
      epoch,
      loss,
      lr,
      examples_per_second: perSecond,
      eta_seconds: step > 0 ? eta : null,
      memory_mb: memoryMb(this.backend),
      grad_norm: Number.isFinite(gradNorm) ? gradNorm : null,
    });
    if (now - this.lastLine >= PROGRESS_LOG_INTERVAL_MS || last) {
      this.log(
        `step ${step}/${this.totalSteps} · epoch ${epoch.toFixed(2)} · loss ${loss.toFixed(4)} · lr ${lr.toExponential(2)} · ${perSecond.toFixed(1)} examples/s · ETA ${formatSeconds(eta)}`,
      );
      this.lastLine = now;
    }
    this.lastEvent = now;
    this.windowStart = now;
    this.windowExamples = 0;
  }
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

function memoryMb(backend: string): { rss: number; wasm_heap?: number } {
  const rss = process.memoryUsage().rss / 2 ** 20;
  return backend === 'wasm' ? { rss, wasm_heap: tf.memory().numBytes / 2 ** 20 } : { rss };
}
