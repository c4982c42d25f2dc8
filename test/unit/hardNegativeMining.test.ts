import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { mineHardNegatives } from '../../src/trainer/mining/hardNegativeMiner';
import { buildMiningCorpus, mostPositives } from '../../src/trainer/mining/miningCorpus';
import { MiningOptionError, resolveMiningOptions, type MiningOptions } from '../../src/trainer/mining/miningOptions';
import { describeScores } from '../../src/trainer/mining/scoreDistribution';
import { selectNegatives, topCandidates } from '../../src/trainer/mining/selectNegatives';

/** One anchor's negatives (corpus indices) for a score row, with the options resolved for `maxPositives`. */
function pick(row: number[], positives: number[], options: MiningOptions, maxPositives = positives.length) {
  return selectNegatives(row, positives, resolveMiningOptions(options, maxPositives), createRandom(1));
}

const indices = (selection: { negatives: readonly { index: number }[] }) => selection.negatives.map((negative) => negative.index);

describe('topCandidates', () => {
  it('returns the best-scoring corpus indices, best first', () => {
    assert.deepEqual(topCandidates([0.1, 0.9, 0.5, 0.7, 0.3], 3), [1, 3, 2]);
  });

  it('keeps equal scores in corpus order, so that a run is repeatable', () => {
    assert.deepEqual(topCandidates([0.5, 0.8, 0.5, 0.8, 0.5], 4), [1, 3, 0, 2]);
  });

  it('never takes a NaN score and returns fewer when the row is short', () => {
    assert.deepEqual(topCandidates([Number.NaN, 0.2, Number.NaN], 5), [1]);
    assert.deepEqual(topCandidates([0.3], 0), []);
  });
});

describe('selectNegatives', () => {
  // Corpus 0 is the positive; 1..6 score from high to low.
  const row = [0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4];

  it('never mines an anchor’s own positives, and takes the best of the rest with top sampling', () => {
    assert.deepEqual(indices(pick(row, [0], { numNegatives: 2, rangeMax: 6 })), [1, 2]);
    assert.deepEqual(indices(pick(row, [0, 2], { numNegatives: 2, rangeMax: 6 })), [1, 3]);
  });

  it('reports the positive scores in the order the positives were given', () => {
    assert.deepEqual(pick(row, [3, 0], { numNegatives: 1 }).positiveScores, [0.7, 0.9]);
  });

  it('skips the rangeMin best candidates and looks no further than rangeMax', () => {
    assert.deepEqual(indices(pick(row, [0], { numNegatives: 2, rangeMin: 2, rangeMax: 6 })), [3, 4]);
    // The window is ranks 2..3: only two candidates, whatever numNegatives would like.
    assert.deepEqual(indices(pick(row, [0], { numNegatives: 2, rangeMin: 2, rangeMax: 4 })), [3, 4]);
    assert.deepEqual(indices(pick(row, [0], { numNegatives: 1, rangeMin: 5, rangeMax: 6 })), [6]);
  });

  it('counts ranks after the filters, as sentence-transformers does: rangeMin skips the best candidates that remain', () => {
    // max_score 0.82 drops corpus 1 (0.85); rank 0 is then corpus 2, so rangeMin 1 starts at corpus 3.
    assert.deepEqual(indices(pick(row, [0], { numNegatives: 2, rangeMin: 1, rangeMax: 6, maxScore: 0.82 })), [3, 4]);
  });

  it('fetches rangeMax + maxPositives candidates, so that positives do not shrink the window', () => {
    // rangeMax 2 with one positive fetches 3 candidates: the positive and two negatives.
    assert.deepEqual(indices(pick(row, [0], { numNegatives: 2, rangeMax: 2 })), [1, 2]);
    // A positive ranked low still uses one of the extra places, as in sentence-transformers.
    assert.deepEqual(indices(pick(row, [6], { numNegatives: 2, rangeMax: 2 })), [0, 1]);
  });

  it('drops candidates within the absolute margin of the lowest positive; a candidate exactly at the margin stays', () => {
    // Positives 0 (0.9) and 3 (0.7): the margin is taken from 0.7. 0.6 + 0.1 is not above 0.7 (in floating point it is 0.7).
    const selection = pick(row, [0, 3], { numNegatives: 3, rangeMax: 7, absoluteMargin: 0.1 });
    assert.deepEqual(indices(selection), [4, 5, 6]);
    assert.equal(selection.skipped.absolute_margin, 2);
  });

  it('drops candidates above positive − |positive| × relative margin, also for a negative positive score', () => {
    assert.deepEqual(indices(pick([0.5, 0.48, 0.45, 0.3], [0], { numNegatives: 3, rangeMax: 4, relativeMargin: 0.1 })), [2, 3]);
    // Positive −0.5, margin 0.1: the threshold is −0.55, below the positive (multiplying by 0.9 would give −0.45).
    const negative = pick([-0.5, -0.5, -0.52, -0.56, -0.6], [0], { numNegatives: 3, rangeMax: 5, relativeMargin: 0.1 });
    assert.deepEqual(indices(negative), [3, 4]);
  });

  it('drops candidates above max_score and below min_score, each counted once under the first filter that drops it', () => {
    const selection = pick(row, [0], { numNegatives: 3, rangeMax: 6, absoluteMargin: 0.06, maxScore: 0.65, minScore: 0.45 });
    assert.deepEqual(indices(selection), [4, 5]);
    // 0.85 is within the margin (and above max_score): counted once, under the margin.
    assert.deepEqual(selection.skipped, { absolute_margin: 1, relative_margin: 0, max_score: 2, min_score: 1 });
    assert.equal(selection.candidates, 6);
  });

  it('gives an anchor fewer negatives, or none, when too few candidates pass', () => {
    assert.deepEqual(indices(pick(row, [0], { numNegatives: 3, rangeMax: 6, maxScore: 0.45 })), [6]);
    assert.deepEqual(indices(pick(row, [0], { numNegatives: 3, rangeMax: 6, maxScore: 0.1 })), []);
    assert.deepEqual(indices(pick([0.9, 0.2], [0], { numNegatives: 3 })), [1]);
  });

  it('breaks score ties by corpus order', () => {
    assert.deepEqual(indices(pick([0.9, 0.5, 0.6, 0.5, 0.5], [0], { numNegatives: 3, rangeMax: 4 })), [2, 1, 3]);
  });

  it('draws random negatives from the window only, best first, repeatably for one seed', () => {
    const scores = [1, ...Array.from({ length: 30 }, (_, i) => 0.9 - i * 0.01)];
    const options = resolveMiningOptions({ numNegatives: 4, rangeMin: 5, rangeMax: 25, sampling: 'random' }, 1);
    const draws = [1, 2, 3].map((seed) => indices(selectNegatives(scores, [0], options, createRandom(seed))));
    for (const drawn of draws) {
      assert.equal(new Set(drawn).size, 4);
      // The window is corpus 6..25 (ranks 5..24 among the negatives 1..30).
      for (const index of drawn) assert.ok(index >= 6 && index <= 25, `${index} lies in the window`);
      assert.deepEqual(
        drawn,
        [...drawn].sort((a, b) => a - b),
        'best first',
      );
    }
    assert.notDeepEqual(draws[0], draws[1], 'different seeds draw differently');
    assert.deepEqual(indices(selectNegatives(scores, [0], options, createRandom(1))), draws[0]);
  });

  it('takes the whole window when random sampling has no more candidates than it needs', () => {
    const options = resolveMiningOptions({ numNegatives: 3, rangeMax: 6, maxScore: 0.65, sampling: 'random' }, 1);
    assert.deepEqual(indices(selectNegatives(row, [0], options, createRandom(7))), [4, 5, 6]);
  });
});

/**
 * sentence-transformers' steps written out literally, as tensors of scores with −∞ for a dropped candidate: a
 * second, independent statement of the rule for the property test below.
 */
function literalMining(row: number[], positives: number[], options: ReturnType<typeof resolveMiningOptions>): number[] {
  const byScore = (a: { index: number; score: number }, b: { index: number; score: number }) => b.score - a.score || a.index - b.index;
  const lowest = Math.min(...positives.map((p) => row[p]!));
  const pool = row
    .map((score, index) => ({ index, score }))
    .sort(byScore)
    .slice(0, options.rangeMax + options.maxPositives);
  for (const candidate of pool) {
    const s = candidate.score;
    if (positives.includes(candidate.index)) candidate.score = -Infinity;
    if (options.absoluteMargin !== undefined && s + options.absoluteMargin > lowest) candidate.score = -Infinity;
    if (options.relativeMargin !== undefined && s > lowest - Math.abs(lowest) * options.relativeMargin) candidate.score = -Infinity;
    if (options.maxScore !== undefined && s > options.maxScore) candidate.score = -Infinity;
    if (options.minScore !== undefined && s < options.minScore) candidate.score = -Infinity;
  }
  return pool
    .sort(byScore)
    .slice(0, options.rangeMax)
    .slice(options.rangeMin)
    .slice(0, options.numNegatives)
    .filter((candidate) => candidate.score !== -Infinity)
    .map((candidate) => candidate.index);
}

describe('mineHardNegatives over a whole score matrix', () => {
  it('agrees with a literal statement of sentence-transformers’ rule on random matrices with ties', () => {
    const random = createRandom(2024);
    for (let trial = 0; trial < 300; trial++) {
      const anchors = 1 + Math.floor(random() * 6);
      const corpusSize = 1 + Math.floor(random() * 40);
      // Scores on a grid of 0.05, so that ties are common.
      const scores = Array.from({ length: anchors }, () => Array.from({ length: corpusSize }, () => Math.round(random() * 40 - 10) / 20));
      const positives = scores.map(() => {
        const own = [Math.floor(random() * corpusSize)];
        if (random() < 0.3) own.push(Math.floor(random() * corpusSize));
        return [...new Set(own)];
      });
      const numNegatives = 1 + Math.floor(random() * 4);
      const rangeMin = Math.floor(random() * 3);
      const options: MiningOptions = {
        numNegatives,
        rangeMin,
        ...(random() < 0.5 ? { rangeMax: rangeMin + numNegatives + Math.floor(random() * 10) } : {}),
        ...(random() < 0.4 ? { absoluteMargin: Math.round(random() * 4) / 20 } : {}),
        ...(random() < 0.3 ? { relativeMargin: Math.round(random() * 4) / 20 } : {}),
        ...(random() < 0.4 ? { maxScore: Math.round(random() * 30 - 5) / 20 } : {}),
        ...(random() < 0.2 ? { minScore: Math.round(random() * 10 - 10) / 20 } : {}),
      };
      const result = mineHardNegatives(scores, positives, options);
      result.selections.forEach((selection, anchor) =>
        assert.deepEqual(
          indices(selection),
          literalMining(scores[anchor]!, positives[anchor]!, result.options),
          `trial ${trial}, anchor ${anchor}: ${JSON.stringify({ row: scores[anchor], positives: positives[anchor], options: result.options })}`,
        ),
      );
    }
  });

  it('counts anchors with enough, fewer and no negatives, and describes the positive and negative scores', () => {
    const scores = [
      [0.9, 0.5, 0.4, 0.3],
      [0.2, 0.8, 0.1, 0.05],
      [0.3, 0.3, 0.3, 0.95],
    ];
    const result = mineHardNegatives(scores, [[0], [1], [3]], { numNegatives: 2, maxScore: 0.35, minScore: 0.1 });
    assert.deepEqual(result.selections.map(indices), [[3], [0, 2], [0, 1]]);
    const { summary } = result;
    assert.deepEqual([summary.anchors, summary.anchorsWithEnough, summary.anchorsWithSome, summary.anchorsWithNone], [3, 2, 1, 0]);
    assert.equal(summary.negativesMined, 5);
    assert.deepEqual(summary.skipped, { absolute_margin: 0, relative_margin: 0, max_score: 2, min_score: 1 });
    assert.equal(summary.positiveScores.count, 3);
    assert.ok(Math.abs(summary.positiveScores.mean! - (0.9 + 0.8 + 0.95) / 3) < 1e-12);
    assert.deepEqual(summary.negativeScores.max, 0.3);
    // Differences: 0.9−0.3; 0.8−0.2, 0.8−0.1; 0.95−0.3 twice.
    assert.ok(Math.abs(summary.differences.min! - 0.6) < 1e-12);
    assert.ok(Math.abs(summary.differences.max! - 0.7) < 1e-12);
  });

  it('refuses a matrix whose rows do not match the anchors', () => {
    assert.throws(() => mineHardNegatives([[0.1]], [[0], [0]]), /1 rows, but 2 anchors/);
  });
});

describe('resolveMiningOptions', () => {
  it('derives rangeMax as sentence-transformers does: wider when a filter may drop candidates', () => {
    assert.equal(resolveMiningOptions({}, 1).rangeMax, 0 + 3 + 1);
    assert.equal(resolveMiningOptions({ numNegatives: 5, rangeMin: 10 }, 2).rangeMax, 10 + 5 + 2);
    assert.equal(resolveMiningOptions({ numNegatives: 5, rangeMin: 10, maxScore: 0.8 }, 2).rangeMax, 10 + 50 + 2);
    assert.equal(resolveMiningOptions({ absoluteMargin: 0 }, 1).rangeMax, 31);
    assert.equal(resolveMiningOptions({ relativeMargin: 0.05 }, 1).rangeMax, 31);
    // min_score alone does not widen it (without a cross-encoder), as in sentence-transformers.
    assert.equal(resolveMiningOptions({ minScore: 0.1 }, 1).rangeMax, 4);
  });

  it('names the option at fault', () => {
    const fault = (options: MiningOptions) => {
      try {
        resolveMiningOptions(options, 1);
      } catch (error) {
        assert.ok(error instanceof MiningOptionError);
        return [error.option, error.message];
      }
      return undefined;
    };
    assert.deepEqual(fault({ numNegatives: 0 }), ['numNegatives', 'numNegatives must be a whole number of at least 1, not 0.']);
    assert.deepEqual(fault({ rangeMin: 5, rangeMax: 5 }), ['rangeMin', 'rangeMin (5) must be smaller than rangeMax (5).']);
    assert.equal(fault({ numNegatives: 4, rangeMin: 2, rangeMax: 5 })?.[0], 'numNegatives');
    assert.equal(fault({ maxScore: Number.NaN })?.[0], 'maxScore');
    assert.equal(fault({ sampling: 'best' as 'top' })?.[0], 'sampling');
  });
});

describe('buildMiningCorpus', () => {
  it('deduplicates the positives into the corpus and groups an anchor’s pairs, as mine_hard_negatives does', () => {
    const corpus = buildMiningCorpus([
      { anchor: 'q1', positive: 'a' },
      { anchor: 'q2', positive: 'b' },
      { anchor: 'q1', positive: 'c' },
      { anchor: 'q1', positive: 'a' },
      { anchor: 'q3', positive: 'b' },
    ]);
    assert.deepEqual(corpus.anchors, ['q1', 'q2', 'q3']);
    assert.deepEqual(corpus.corpus, ['a', 'b', 'c']);
    assert.deepEqual(corpus.positives, [[0, 2], [1], [1]]);
    assert.equal(corpus.pairCount, 5);
    // Repeated pairs count, as sentence-transformers counts rows per anchor.
    assert.equal(mostPositives(corpus), 3);
  });
});

describe('describeScores', () => {
  it('gives quartiles by linear interpolation and the sample standard deviation, as torch does', () => {
    const d = describeScores([4, 1, 3, 2]);
    assert.deepEqual([d.count, d.min, d.p25, d.median, d.p75, d.max, d.mean], [4, 1, 1.75, 2.5, 3.25, 4, 2.5]);
    assert.ok(Math.abs(d.std! - Math.sqrt(5 / 3)) < 1e-12);
    assert.deepEqual(describeScores([]), { count: 0 });
  });
});
