import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunEventInput } from '../../src/shared/events/runEvents';
import { CallbackList, type EvaluationLogs, type StepLogs } from '../../src/trainer/training/callbacks/callbackList';
import { EarlyStopping, type EarlyStoppingOptions } from '../../src/trainer/training/callbacks/earlyStopping';

function stepLogs(step: number): StepLogs {
  return {
    step,
    epoch: step / 10,
    position: { epoch: 0, batchIndex: step },
    epochEnds: false,
    loss: 1,
    lr: 1e-3,
    gradNorm: 1,
    examples: 4,
    examplesSeen: 4 * step,
  };
}

/**
 * Feeds the callback one evaluation per step, through its hooks as the run calls them (onEvaluate, then onStepEnd),
 * and says after which step the run was told to stop, which evaluations were a new best, and what it wrote.
 */
function feed(
  options: Partial<EarlyStoppingOptions>,
  values: (number | null)[],
  restored?: { best: number | null; evaluationsWithoutImprovement: number },
) {
  const events: RunEventInput[] = [];
  const lines: string[] = [];
  const callback = new EarlyStopping(
    { metric: 'ndcg@10', mode: 'max', minDelta: 0, patience: 2, ...options },
    { write: (event) => events.push(event) },
    (line) => lines.push(line),
    restored,
  );
  const control = new CallbackList([callback]);
  const best: boolean[] = [];
  let stoppedAt: number | null = null;
  values.forEach((value, i) => {
    if (stoppedAt !== null) return;
    const evaluation: EvaluationLogs = {
      step: i + 1,
      epoch: 0,
      metrics: { 'ndcg@10': value },
      primary: { name: 'ndcg@10', value },
      isBest: false,
    };
    callback.onEvaluate(evaluation);
    best.push(evaluation.isBest);
    callback.onStepEnd(stepLogs(i + 1), control);
    if (control.stopReason) stoppedAt = i + 1;
  });
  return { stoppedAt, best, events, lines, state: callback.state(), reason: control.stopReason };
}

describe('the early-stopping callback', () => {
  it('stops once patience evaluations in a row bring no new best, at the step of the last one', () => {
    const run = feed({ patience: 2 }, [0.5, 0.6, 0.55, 0.58, 0.7]);
    assert.equal(run.stoppedAt, 4);
    assert.equal(run.reason, 'early_stopped');
    assert.deepEqual(run.best, [true, true, false, false]);
    assert.deepEqual(run.events, [{ type: 'early_stop', step: 4, metric: 'ndcg@10', best: 0.6, patience: 2 }]);
    assert.deepEqual(run.lines, ['early stop at step 4: ndcg@10 did not improve for 2 evaluations']);
  });

  it('restarts the count at each new best', () => {
    const run = feed({ patience: 2 }, [0.5, 0.4, 0.6, 0.5, 0.7, 0.6, 0.6]);
    assert.equal(run.stoppedAt, 7);
    assert.deepEqual(run.best, [true, false, true, false, true, false, false]);
  });

  it('counts a gain of min_delta or less as no improvement, and marks it no best', () => {
    const run = feed({ patience: 2, minDelta: 0.05 }, [0.5, 0.55, 0.549, 0.6]);
    assert.equal(run.stoppedAt, 3);
    assert.deepEqual(run.best, [true, false, false]);
    assert.equal(feed({ patience: 2, minDelta: 0.04 }, [0.5, 0.55, 0.549]).stoppedAt, null);
  });

  it('in mode min, a lower value is the better one', () => {
    const run = feed({ mode: 'min', patience: 2, minDelta: 0.01 }, [1.0, 0.8, 0.795, 0.9, 0.5]);
    assert.equal(run.stoppedAt, 4);
    assert.deepEqual(run.best, [true, true, false, false]);
    assert.equal((run.events[0] as { best: number }).best, 0.8);
    assert.equal(feed({ mode: 'max', patience: 2, minDelta: 0.01 }, [1.0, 0.8, 0.795, 0.9]).best.filter(Boolean).length, 1);
  });

  it('counts an evaluation without a value (n/a) as no improvement', () => {
    assert.equal(feed({ patience: 2 }, [0.5, null, null]).stoppedAt, 3);
  });

  it('with patience off, still marks each best but never stops', () => {
    const run = feed({ patience: null }, [0.5, 0.4, 0.3, 0.2, 0.6]);
    assert.equal(run.stoppedAt, null);
    assert.deepEqual(run.best, [true, false, false, false, true]);
    assert.deepEqual(run.state, { best: 0.6, evaluationsWithoutImprovement: 0 });
  });

  it('continues from a checkpoint’s state: the best and the count of evaluations without one', () => {
    const run = feed({ patience: 3 }, [0.55, 0.58], { best: 0.6, evaluationsWithoutImprovement: 1 });
    assert.equal(run.stoppedAt, 2);
    assert.deepEqual(run.best, [false, false]);
    assert.deepEqual(run.state, { best: 0.6, evaluationsWithoutImprovement: 3 });
  });
});
