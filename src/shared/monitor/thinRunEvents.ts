import type { EvalEvent, ProgressEvent, RunEvent } from '../events/runEvents';
import { downsampleMinMax } from './downsample';
import { lowerBound } from './runSeries';

/**
 * Step buckets kept of a long run's loss and learning-rate curves when the dashboard is first shown: about two
 * points each (the lowest and the highest), so at most ~4 × this many progress events, which is more than a chart
 * is wide in pixels however wide the window.
 */
export const SHOWN_STEP_BUCKETS = 2000;

/**
 * The events a dashboard needs to draw a run as it stands, instead of every event it wrote. Posting 100,000
 * progress events into a webview costs seconds of structured cloning and folding; the page draws a pixel's worth
 * of them anyway. So:
 * - progress events are folded as the page's StepSeries folds them (a resumed run's replayed steps replace the
 *   old ones), then thinned to the min/max of each step bucket of the loss and the learning rate, always keeping
 *   the first and the last (the header reads step, epoch, speed and ETA from the last);
 * - eval events keep their confusion matrix, per-class scores and misclassified thumbnails only on the latest
 *   eval and the latest best one, the two the page can show; their metrics stay on every one of them;
 * - every other event is kept as it is, in its order.
 * Events appended later go to the page unthinned, after these.
 */
export function thinRunEvents(events: readonly RunEvent[], buckets = SHOWN_STEP_BUCKETS): RunEvent[] {
  const kept = keptProgress(events, buckets);
  const { latest, best } = detailedEvals(events);
  const out: RunEvent[] = [];
  for (const event of events) {
    if (event.type === 'progress') {
      if (kept.has(event)) out.push(event);
    } else if (event.type === 'eval' && event !== latest && event !== best && hasDetails(event)) {
      out.push(withoutDetails(event));
    } else {
      out.push(event);
    }
  }
  return out;
}

/** The progress events that survive a resume's replay, thinned to the extremes of each step bucket. */
function keptProgress(events: readonly RunEvent[], buckets: number): Set<ProgressEvent> {
  const surviving: ProgressEvent[] = [];
  const steps: number[] = [];
  for (const event of events) {
    if (event.type !== 'progress') continue;
    if (steps.length > 0 && event.step <= steps[steps.length - 1]!) {
      const keep = lowerBound(steps, event.step);
      steps.length = keep;
      surviving.length = keep;
    }
    steps.push(event.step);
    surviving.push(event);
  }
  if (surviving.length <= 4 * buckets) return new Set(surviving);
  const kept = new Set<ProgressEvent>([surviving[0]!, surviving[surviving.length - 1]!]);
  for (const values of [surviving.map((event) => event.loss), surviving.map((event) => event.lr)]) {
    for (const step of downsampleMinMax(steps, values, buckets).x) kept.add(surviving[lowerBound(steps, step)]!);
  }
  return kept;
}

/** The last eval and the last best eval: the ones whose details the dashboard shows. */
function detailedEvals(events: readonly RunEvent[]): { latest: EvalEvent | null; best: EvalEvent | null } {
  let latest: EvalEvent | null = null;
  let best: EvalEvent | null = null;
  for (const event of events) {
    if (event.type !== 'eval') continue;
    latest = event;
    if (event.is_best) best = event;
  }
  return { latest, best };
}

function hasDetails(event: EvalEvent): boolean {
  return event.confusion_matrix !== undefined || event.per_class !== undefined || event.misclassified !== undefined;
}

function withoutDetails(event: EvalEvent): EvalEvent {
  const { confusion_matrix: _matrix, per_class: _perClass, misclassified: _misclassified, ...rest } = event;
  return rest;
}
