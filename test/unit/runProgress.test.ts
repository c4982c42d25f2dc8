import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ProgressEvent, RunEvent } from '../../src/shared/events/runEvents';
import { RunProgress } from '../../src/shared/monitor/runProgress';
import { RunSeries, StepSeries, nearestIndex } from '../../src/shared/monitor/runSeries';

const recorded = readFileSync(join(__dirname, '../webview/fixtures/tiny-run/events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as RunEvent);

describe('RunProgress folds a run’s events into what the editor shows', () => {
  it('a finished recorded run: all steps, the best metric and checkpoint, and the checkpoints keep left on disk', () => {
    const progress = new RunProgress().add(recorded);
    assert.equal(progress.phase, 'finished');
    assert.equal(progress.finish?.reason, 'completed');
    assert.equal(progress.step, 24);
    assert.equal(progress.totalSteps, 24);
    assert.equal(progress.fraction, 1);
    assert.equal(progress.currentEpoch, 4);
    assert.equal(progress.etaSeconds(), null, 'no ETA once finished');
    assert.equal(progress.best?.metric.name, 'ndcg@10');
    assert.equal(progress.best?.step, 24);
    assert.equal(progress.bestCheckpoint, 'checkpoints/step-24');
    assert.deepEqual(
      progress.checkpoints.map((c) => c.path),
      ['checkpoints/step-16', 'checkpoints/step-20', 'checkpoints/step-24'],
    );
    assert.deepEqual(
      progress.checkpoints.map((c) => c.isBest),
      [false, false, true],
      'only the newest best is marked',
    );
    assert.equal(progress.setup?.backend, 'wasm');
    assert.equal(progress.eventCount, recorded.length);
  });

  it('mid-run: progress, the latest evaluation, and an ETA that counts down from the engine’s estimate', () => {
    const cut = recorded.findIndex((e) => e.type === 'progress' && e.step === 10);
    const progress = new RunProgress().add(recorded.slice(0, cut + 1));
    const last = recorded[cut] as ProgressEvent;
    assert.equal(progress.phase, 'running');
    assert.equal(progress.step, 10);
    assert.ok(Math.abs(progress.fraction - 10 / 24) < 1e-9);
    assert.equal(progress.currentEpoch, 2);
    assert.equal(progress.latestEval?.step, 8);
    const at = Date.parse(last.time);
    assert.equal(progress.etaSeconds(at), last.eta_seconds);
    assert.equal(progress.etaSeconds(at + 2000), Math.max(0, last.eta_seconds! - 2));
    assert.equal(progress.etaSeconds(at + 1e9), 0);
  });

  it('a resumed run continues: the second run_started clears the finish and the error, the steps go on', () => {
    const stopped = recorded.filter((e) => e.type !== 'run_finished').slice(0, 12);
    const progress = new RunProgress().add(stopped);
    progress.add([
      { type: 'error', time: '2026-01-01T00:00:00.000Z', run_id: 'r', seq: 100, message: 'boom' },
      {
        type: 'run_finished',
        time: '2026-01-01T00:00:00.000Z',
        run_id: 'r',
        seq: 101,
        reason: 'failed',
        step: 8,
        best_checkpoint: null,
        best_metric: null,
        duration_seconds: 3,
      },
    ]);
    assert.equal(progress.phase, 'finished');
    assert.equal(progress.error?.message, 'boom');
    assert.equal(progress.log.at(-1)?.level, 'error');
    progress.add([{ ...(recorded[0] as RunEvent), seq: 102, resumed_from: 'checkpoints/step-8' } as RunEvent]);
    assert.equal(progress.phase, 'running');
    assert.equal(progress.finish, null);
    assert.equal(progress.error, null);
    assert.equal(progress.setup?.resumedFrom, 'checkpoints/step-8');
  });
});

describe('RunSeries keeps the curves the dashboard draws', () => {
  it('collects loss, learning rate and every eval metric by step', () => {
    const series = new RunSeries().add(recorded);
    const progress = recorded.filter((e): e is ProgressEvent => e.type === 'progress');
    assert.deepEqual(
      series.loss.steps,
      progress.map((p) => p.step),
    );
    assert.deepEqual(
      series.learningRate.values,
      progress.map((p) => p.lr),
    );
    assert.deepEqual(series.metricNames, ['ndcg@10', 'mrr@10', 'recall@5']);
    assert.deepEqual(series.metrics.get('ndcg@10')?.steps, [0, 4, 8, 12, 16, 20, 24]);
  });

  it('a step at or before the last one replaces the points from there on, as after a resume from an earlier checkpoint', () => {
    const series = new StepSeries();
    for (const step of [1, 2, 3, 4, 5]) series.push(step, step * 10);
    series.push(3, 99);
    assert.deepEqual(series.steps, [1, 2, 3]);
    assert.deepEqual(series.values, [10, 20, 99]);
  });

  it('finds the nearest recorded step for the hover read-out', () => {
    assert.equal(nearestIndex([], 5), -1);
    assert.equal(nearestIndex([0, 10, 20], -3), 0);
    assert.equal(nearestIndex([0, 10, 20], 14), 1);
    assert.equal(nearestIndex([0, 10, 20], 16), 2);
    assert.equal(nearestIndex([0, 10, 20], 99), 2);
  });
});
