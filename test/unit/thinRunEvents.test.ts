import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EvalEvent, ProgressEvent, RunEvent } from '../../src/shared/events/runEvents';
import { RunProgress } from '../../src/shared/monitor/runProgress';
import { RunSeries } from '../../src/shared/monitor/runSeries';
import { thinRunEvents } from '../../src/shared/monitor/thinRunEvents';

const envelope = (seq: number) => ({ time: '2026-01-01T00:00:00.000Z', run_id: 'r', seq });
const progress = (step: number, loss: number | null, seq = step): ProgressEvent => ({
  ...envelope(seq),
  type: 'progress',
  step,
  epoch: step / 1000,
  loss,
  lr: 1e-4,
  examples_per_second: 10,
  eta_seconds: 5,
  memory_mb: { rss: 1 },
});
const evaluation = (step: number, isBest: boolean): EvalEvent => ({
  ...envelope(1_000_000 + step),
  type: 'eval',
  step,
  epoch: step / 1000,
  metrics: { map: step / 1e6 },
  primary: { name: 'map', value: step / 1e6 },
  is_best: isBest,
  confusion_matrix: {
    labels: ['a', 'b'],
    matrix: [
      [step, 0],
      [0, 1],
    ],
  },
  per_class: { a: { precision: 1, recall: 1, f1: 1, support: 1, average_precision: 1 } },
  misclassified: [],
});

describe('thinRunEvents: what the dashboard is sent on show', () => {
  it('keeps a short run as it is', () => {
    const events: RunEvent[] = Array.from({ length: 50 }, (_, i) => progress(i + 1, 1 / (i + 1)));
    assert.deepEqual(thinRunEvents(events, 20), events);
  });

  it('thins 100,000 steps to a few thousand, keeping the first, the last, every spike and every non-progress event', () => {
    const events: RunEvent[] = [];
    for (let step = 1; step <= 100_000; step++) {
      events.push(progress(step, step === 54_321 ? 50 : 2 * Math.exp(-step / 30_000)));
      if (step % 10_000 === 0) events.push(evaluation(step, step === 50_000));
    }
    const thin = thinRunEvents(events);
    const kept = thin.filter((e): e is ProgressEvent => e.type === 'progress');
    assert.ok(kept.length <= 4 * 2000 + 2 && kept.length > 1000, `${kept.length} progress events kept`);
    assert.equal(kept[0]!.step, 1);
    assert.equal(kept.at(-1)!.step, 100_000);
    assert.ok(
      kept.some((e) => e.step === 54_321),
      'the one-step spike survives',
    );
    // The header folds the same: step, epoch, loss, best.
    const full = new RunProgress().add(events);
    const shown = new RunProgress().add(thin);
    assert.deepEqual([shown.step, shown.epoch, shown.loss, shown.best], [full.step, full.epoch, full.loss, full.best]);
    const evals = thin.filter((e): e is EvalEvent => e.type === 'eval');
    assert.equal(evals.length, 10, 'every evaluation keeps its metrics');
    assert.deepEqual(
      evals.filter((e) => e.confusion_matrix).map((e) => e.step),
      [50_000, 100_000],
      'only the best and the latest keep their details',
    );
    assert.deepEqual(new RunSeries().add(thin).metrics.get('map')!.values, new RunSeries().add(events).metrics.get('map')!.values);
  });

  it('drops the steps a resumed run replayed over, as the page would', () => {
    const events: RunEvent[] = [];
    for (let step = 1; step <= 30; step++) events.push(progress(step, 1));
    for (let step = 11; step <= 20; step++) events.push(progress(step, 0.5, 100 + step));
    const thin = thinRunEvents(events, 2).filter((e): e is ProgressEvent => e.type === 'progress');
    const steps = thin.map((e) => e.step);
    assert.deepEqual(
      steps,
      [...steps].sort((a, b) => a - b),
      'steps only grow',
    );
    assert.equal(thin.at(-1)!.seq, 120, 'the last event is the replayed step 20');
    assert.ok(
      thin.every((e) => e.step <= 10 || e.loss === 0.5),
      'no step of the abandoned branch is kept',
    );
  });
});
