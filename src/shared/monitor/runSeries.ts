import type { RunEvent } from '../events/runEvents';

/**
 * One curve over optimizer steps. Steps only grow: a point at a step at or before the last one means the run was
 * resumed from an earlier checkpoint, so the points it replays replace the old ones from that step on, as they do
 * in TensorBoard. Values are null where the engine wrote a non-finite number.
 */
export class StepSeries {
  readonly steps: number[] = [];
  readonly values: (number | null)[] = [];

  push(step: number, value: number | null): void {
    const last = this.steps.length - 1;
    if (last >= 0 && step <= this.steps[last]!) {
      const keep = lowerBound(this.steps, step);
      this.steps.length = keep;
      this.values.length = keep;
    }
    this.steps.push(step);
    this.values.push(value);
  }

  get length(): number {
    return this.steps.length;
  }
}

/** Every curve the dashboard draws for one run: training loss, learning rate and each eval metric. */
export class RunSeries {
  readonly loss = new StepSeries();
  readonly learningRate = new StepSeries();
  readonly metrics = new Map<string, StepSeries>();

  add(events: readonly RunEvent[]): this {
    for (const event of events) {
      if (event.type === 'progress') {
        this.loss.push(event.step, event.loss);
        this.learningRate.push(event.step, event.lr);
      } else if (event.type === 'eval') {
        for (const [name, value] of Object.entries(event.metrics)) {
          let series = this.metrics.get(name);
          if (!series) this.metrics.set(name, (series = new StepSeries()));
          series.push(event.step, value);
        }
      }
    }
    return this;
  }

  /** Metric names, in the order they first appeared. */
  get metricNames(): string[] {
    return [...this.metrics.keys()];
  }
}

/** The first index whose value is >= `value`, in a sorted array. */
export function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The index of the element nearest to `value` in a sorted, non-empty array; -1 when it is empty. */
export function nearestIndex(sorted: readonly number[], value: number): number {
  if (sorted.length === 0) return -1;
  const i = lowerBound(sorted, value);
  if (i === 0) return 0;
  if (i === sorted.length) return sorted.length - 1;
  return value - sorted[i - 1]! <= sorted[i]! - value ? i - 1 : i;
}
