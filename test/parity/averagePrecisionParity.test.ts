/**
 * Parity of per-class average precision and mAP with scikit-learn's `average_precision_score`
 * (test/parity/python/average_precision.py), on 200 seeded random examples of 4 imbalanced classes whose scores are
 * coarsely quantized, so that most thresholds are ties between positives and negatives.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { type ClassScoreRows, meanAveragePrecision, perClassAveragePrecision } from '../../src/trainer/evaluation/averagePrecision';
import { PEERS, PEERS_PYTHON, runReference } from './pythonPeers';

const TOLERANCE = 1e-9;
const CLASSES = 4;
const EXAMPLES = 200;

interface SklearnAnswer {
  readonly per_class: number[];
  readonly macro: number;
  readonly present: boolean[];
  readonly sklearn: string;
}

/** Why scikit-learn cannot run here, or undefined when it can; the tests skip with the reason printed. */
const sklearnProblem: string | undefined = (() => {
  if (!existsSync(PEERS_PYTHON)) return `no Python peers at ${PEERS} (run bench/python/setup, or set EMBEDTUNE_PY_PEERS)`;
  const probe = spawnSync(PEERS_PYTHON, ['-c', 'import sklearn'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PEERS_PYTHON} cannot import sklearn (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()})`;
  return undefined;
})();
if (sklearnProblem) console.log(`# average-precision parity skips: ${sklearnProblem}`);

/** Imbalanced gold classes (as in the seed's defect data), never drawing `absent`. */
function drawGold(random: () => number, absent?: number): number[] {
  const weights = [0.5, 0.25, 0.15, 0.1].map((weight, c) => (c === absent ? 0 : weight));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const lastDrawable = absent === CLASSES - 1 ? CLASSES - 2 : CLASSES - 1;
  return Array.from({ length: EXAMPLES }, () => {
    let draw = random() * total;
    const c = weights.findIndex((weight) => (draw -= weight) < 0);
    // Rounding can leave the draw just past the last weight.
    return c < 0 ? lastDrawable : c;
  });
}

/** Scores in eighths, nudged toward the gold class so that the ranking is informative but far from perfect. */
function quantizedScores(random: () => number, gold: readonly number[]): number[][] {
  return gold.map((label) => Array.from({ length: CLASSES }, (_, c) => Math.min(8, Math.floor(random() * 7 + (c === label ? 2 : 0))) / 8));
}

/** Softmax probabilities of random logits, with every fifth row a copy of the one before (exact ties). */
function softmaxScores(random: () => number, gold: readonly number[]): number[][] {
  const rows: number[][] = [];
  gold.forEach((label, i) => {
    if (i % 5 === 4) return rows.push([...rows[i - 1]!]);
    const logits = Array.from({ length: CLASSES }, (_, c) => random() * 4 - 2 + (c === label ? 1 : 0));
    const exps = logits.map(Math.exp);
    const sum = exps.reduce((total, value) => total + value, 0);
    return rows.push(exps.map((value) => value / sum));
  });
  return rows;
}

function countTiedScores(scores: ClassScoreRows): number {
  let tied = 0;
  for (let c = 0; c < CLASSES; c++) tied += EXAMPLES - new Set(scores.map((row) => row[c])).size;
  return tied;
}

function compare(gold: number[], scores: number[][]): { ours: (number | null)[]; theirs: SklearnAnswer } {
  const theirs = runReference<SklearnAnswer>('average_precision.py', { gold, scores }, { timeoutMs: 120_000 });
  const ours = perClassAveragePrecision(gold, scores, CLASSES);
  for (let c = 0; c < CLASSES; c++) {
    if (!theirs.present[c]) continue;
    const difference = Math.abs(ours[c]! - theirs.per_class[c]!);
    assert.ok(difference <= TOLERANCE, `class ${c}: ours ${ours[c]}, sklearn ${theirs.per_class[c]} (sklearn ${theirs.sklearn})`);
  }
  return { ours, theirs };
}

describe('average precision against scikit-learn', { skip: sklearnProblem }, () => {
  it('matches per-class AP and mAP (= macro) with heavily tied quantized scores', () => {
    const random = createRandom(17);
    const gold = drawGold(random);
    const scores = quantizedScores(random, gold);
    assert.ok(countTiedScores(scores) > EXAMPLES * CLASSES * 0.9, 'most scores tie with another');
    const { ours, theirs } = compare(gold, scores);
    assert.ok(theirs.present.every(Boolean), 'every class has examples');
    // Informative but imperfect rankings, so a broken tie rule or step would move the numbers.
    assert.ok(
      theirs.per_class.every((ap) => ap > 0.2 && ap < 0.95),
      `sklearn's APs ${theirs.per_class.join(', ')}`,
    );
    assert.ok(Math.abs(meanAveragePrecision(ours)! - theirs.macro) <= TOLERANCE, `mAP ${meanAveragePrecision(ours)} vs ${theirs.macro}`);
  });

  it('matches on softmax probabilities with duplicated rows', () => {
    const random = createRandom(1717);
    const gold = drawGold(random);
    const { ours, theirs } = compare(gold, softmaxScores(random, gold));
    assert.ok(Math.abs(meanAveragePrecision(ours)! - theirs.macro) <= TOLERANCE, `mAP ${meanAveragePrecision(ours)} vs ${theirs.macro}`);
  });

  it('leaves a class with no example out of mAP, where sklearn scores it 0 and averages it in', () => {
    const random = createRandom(170);
    const gold = drawGold(random, 3);
    const { ours, theirs } = compare(gold, quantizedScores(random, gold));
    assert.deepEqual(theirs.present, [true, true, true, false]);
    assert.equal(theirs.per_class[3], 0);
    assert.equal(ours[3], null);
    const presentMean = theirs.per_class.slice(0, 3).reduce((sum, ap) => sum + ap, 0) / 3;
    assert.ok(Math.abs(meanAveragePrecision(ours)! - presentMean) <= TOLERANCE, `mAP ${meanAveragePrecision(ours)} vs ${presentMean}`);
    assert.ok(Math.abs(theirs.macro - (presentMean * 3) / 4) <= TOLERANCE, "sklearn's macro counts the absent class as 0");
  });
});
