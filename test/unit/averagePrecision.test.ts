import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averagePrecision, meanAveragePrecision, perClassAveragePrecision } from '../../src/trainer/evaluation/averagePrecision';
import { scoredClassificationReport } from '../../src/trainer/evaluation/scoredClassificationMetrics';

function assertNear(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= 1e-12, `${what}: expected ${expected}, got ${actual}`);
}

describe('averagePrecision (sklearn average_precision_score, hand-computed)', () => {
  it('is 1 for a perfect ranking', () => {
    assert.equal(averagePrecision([true, true, false, false], [0.9, 0.8, 0.3, 0.1]), 1);
  });

  it('is the mean precision at each positive for the worst ranking', () => {
    // Positives last: at recall 1/2 precision is 1/3, at recall 1 it is 2/4.
    assertNear(averagePrecision([false, false, true, true], [0.9, 0.8, 0.3, 0.1]), 0.5 / 3 + 0.5 * 0.5, 'worst');
  });

  it('steps at every recall increase of an interleaved ranking', () => {
    // Precision at the three positives: 1, 2/3, 3/5.
    assertNear(averagePrecision([true, false, true, false, true], [0.9, 0.8, 0.7, 0.6, 0.5]), (1 + 2 / 3 + 3 / 5) / 3, 'mixed');
  });

  it('counts tied scores as one threshold, whatever their order', () => {
    // The three 0.5s are retrieved at once: recall 1 at precision 2/3. Ranking the first positive alone first
    // (a tie broken by index) would give 1·1/2 + 2/3·1/2 = 5/6.
    assertNear(averagePrecision([true, false, true, false], [0.5, 0.5, 0.5, 0.1]), 2 / 3, 'positive first');
    assertNear(averagePrecision([false, true, true, false], [0.5, 0.5, 0.5, 0.1]), 2 / 3, 'negative first');
  });

  it('ranks infinite scores (log-probabilities) like any other', () => {
    // 0 (a negative) first, then both -Infinity positives at once: recall 1 at precision 2/3.
    assertNear(averagePrecision([true, false, true], [-Infinity, 0, -Infinity]), 2 / 3, 'log-probabilities');
  });

  it('is null for a class with no positives, and mAP leaves that class out', () => {
    assert.equal(averagePrecision([false, false], [0.4, 0.2]), null);
    assert.equal(meanAveragePrecision([0.5, null, 1]), 0.75);
    assert.equal(meanAveragePrecision([null, null]), null);
  });

  it('refuses mismatched or malformed input with a message saying what is wrong', () => {
    assert.throws(() => averagePrecision([true], [0.1, 0.2]), /2 scores against 1/);
    assert.throws(
      () =>
        perClassAveragePrecision(
          [0, 2],
          [
            [0.1, 0.9],
            [0.3, 0.7],
          ],
          2,
        ),
      /Gold label 2 of example 1/,
    );
    assert.throws(() => perClassAveragePrecision([0, 1], [[0.1, 0.9], [0.3]], 2), /Example 1 has 1 class scores, not 2/);
    assert.throws(() => perClassAveragePrecision([0], [[Number.NaN, 0.9]], 2), /Example 0 has a NaN class score/);
  });
});

describe('scoredClassificationReport', () => {
  // Four defect classes; no example is a crack. Hand-computed below.
  const classNames = ['ok', 'scratch', 'dent', 'crack'];
  const gold = ['ok', 'ok', 'scratch', 'dent', 'dent'];
  const scores = [
    [0.7, 0.2, 0.35, 0.0], // ok, predicted ok
    [0.4, 0.4, 0.1, 0.1], // ok, a tie: the first highest (ok) wins, as numpy's argmax
    [0.3, 0.5, 0.1, 0.0], // scratch, predicted scratch
    [0.1, 0.2, 0.3, 0.4], // dent, predicted crack
    [0.1, 0.5, 0.6, 0.1], // dent, predicted dent
  ];
  const report = scoredClassificationReport(classNames, gold, scores);

  it('predicts the first highest score and scores the predictions with classificationReport', () => {
    assert.equal(report.accuracy, 0.8);
    assert.deepEqual(report.confusionMatrix, {
      labels: ['crack', 'dent', 'ok', 'scratch'],
      matrix: [
        [0, 0, 0, 0],
        [1, 1, 0, 0],
        [0, 0, 2, 0],
        [0, 0, 0, 1],
      ],
    });
    // Per-class F1: crack 0 (predicted once, never present), dent 2/3, ok 1, scratch 1.
    assertNear(report.f1, (0 + 2 / 3 + 1 + 1) / 4, 'macro-F1');
  });

  it('gives one-vs-rest AP per class and mAP over the classes present', () => {
    // ok: both positives on top. scratch: its positive ties with a dent at 0.5 (precision 1/2 at recall 1).
    // dent: positive, negative (0.35), positive: 1·1/2 + 2/3·1/2. crack: no positives.
    assert.deepEqual(Object.keys(report.averagePrecision), classNames);
    assertNear(report.averagePrecision['ok']!, 1, 'AP ok');
    assertNear(report.averagePrecision['scratch']!, 0.5, 'AP scratch');
    assertNear(report.averagePrecision['dent']!, 5 / 6, 'AP dent');
    assert.equal(report.averagePrecision['crack'], null);
    assertNear(report.map, (1 + 0.5 + 5 / 6) / 3, 'mAP');
    assert.deepEqual(Object.keys(report.metrics).sort(), ['accuracy', 'f1', 'map', 'precision', 'recall']);
    assert.equal(report.metrics.map, report.map);
  });

  it('refuses a gold label that is not a class, naming it', () => {
    assert.throws(
      () => scoredClassificationReport(['a', 'b'], ['c'], [[0.1, 0.2]]),
      /Gold label "c" of example 0 is not one of the classes a, b/,
    );
  });

  it('reports NaN-free nulls for an empty set', () => {
    const empty = scoredClassificationReport(['a', 'b'], [], []);
    assert.deepEqual(empty.metrics, { accuracy: null, f1: null, precision: null, recall: null, map: null });
  });
});
