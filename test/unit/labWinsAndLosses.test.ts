import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knownPositiveIndices } from '../../src/shared/lab/knownPositives';
import { isLabWinsResult, type LabRetrievalWins } from '../../src/shared/lab/labWinsResult';
import { labelChanges, positiveRank, rankMovements, type QueryRanks } from '../../src/shared/lab/winsAndLosses';

/**
 * Four queries over four documents, ranked by hand:
 * q0: positive doc1 scores lowest under the first model (rank 4); under the second it ties doc2 at 0.8 and wins the
 *     tie by its lower index (rank 1): a win of 3.
 * q1: doc0 first (rank 1); then doc2 0.9 and doc1 0.6 pass it, doc3's equal 0.5 does not (higher index): rank 3, a
 *     loss of 2 that leaves the top 2.
 * q2: positives doc2 and doc3; the best counts. First: doc3 0.4 is top (rank 1). Second: doc2 0.2 is its best, behind
 *     doc1 0.9 only, the NaN of doc0 ranking last (rank 2): a loss of 1 that stays in the top 2.
 * q3: doc1 ties doc0 and loses the tie (rank 2), then is second again (rank 2): unchanged.
 */
const FIRST = [
  [0.9, 0.1, 0.5, 0.3],
  [0.7, 0.6, 0.5, 0.4],
  [0.3, 0.2, 0.1, 0.4],
  [0.5, 0.5, 0, 0],
];
const SECOND = [
  [0.2, 0.8, 0.8, 0.1],
  [0.5, 0.6, 0.9, 0.5],
  [Number.NaN, 0.9, 0.2, 0.1],
  [0.9, 0.3, 0.2, 0.1],
];
const POSITIVES = [[1], [0], [2, 3], [1]];

function handRanks(): QueryRanks[] {
  return POSITIVES.map((positives, query) => ({
    query,
    firstRank: positiveRank(FIRST[query]!, positives),
    secondRank: positiveRank(SECOND[query]!, positives),
  }));
}

describe('wins and losses', () => {
  it('ranks each query’s best positive as topK orders documents (ties by index, NaN last)', () => {
    assert.deepEqual(
      handRanks().map((q) => [q.firstRank, q.secondRank]),
      [
        [4, 1],
        [1, 3],
        [1, 2],
        [2, 2],
      ],
    );
    assert.equal(positiveRank([Number.NaN, Number.NaN], [1]), 2, 'a NaN positive ranks after an earlier NaN');
    assert.throws(() => positiveRank([0.1], []), /no positive/);
  });

  it('lists the largest rise first, the largest fall first, and what fell out of the top-k', () => {
    const moves = rankMovements(handRanks(), 2, 10);
    assert.deepEqual(
      moves.wins.map((q) => q.query),
      [0],
    );
    assert.deepEqual(
      moves.losses.map((q) => q.query),
      [1, 2],
    );
    assert.deepEqual(
      moves.fellOut.map((q) => q.query),
      [1],
    );
    assert.deepEqual([moves.improved, moves.worsened, moves.unchanged], [1, 2, 1]);
    // With k = 1, q2 (1 → 2) also leaves the top-k; a limit cuts each list but not the counts.
    const tight = rankMovements(handRanks(), 1, 1);
    assert.deepEqual(
      tight.losses.map((q) => q.query),
      [1],
    );
    assert.deepEqual(
      tight.fellOut.map((q) => q.query),
      [1],
    );
    assert.equal(rankMovements(handRanks(), 1, 10).fellOut.length, 2);
    assert.equal(tight.worsened, 2);
  });

  it('splits changed predictions into fixed, broken and other changes', () => {
    const changes = labelChanges([
      { gold: 'a', first: 'a', second: 'a' },
      { gold: 'a', first: 'b', second: 'a' },
      { gold: 'a', first: 'a', second: 'b' },
      { gold: 'a', first: 'b', second: 'c' },
      { gold: 'b', first: 'c', second: 'b' },
      { gold: 'b', first: 'c', second: 'c' },
    ]);
    assert.deepEqual(changes, { fixed: [1, 4], broken: [2], otherChanges: [3] });
  });

  it('finds an evaluation query’s known positives in the Lab’s corpus by text', () => {
    const evaluation = { queries: ['q0', 'q1'], corpus: ['d0', 'd1', 'd2'], relevant: [[2, 0], [1]] };
    assert.deepEqual(knownPositiveIndices('q0', evaluation, ['x', 'd2', 'd0', 'd2']), [1, 2]);
    assert.deepEqual(knownPositiveIndices('q1', evaluation, ['x']), [], 'a positive the corpus lacks has no index');
    assert.equal(knownPositiveIndices('q0 ', evaluation, ['d0']), undefined, 'only an exact evaluation query counts');
  });

  it('accepts a well-formed result and refuses one with a bad rank or model', () => {
    const model = { model: 'base', description: 'bert', cache: 'hit' as const };
    const good: LabRetrievalWins = {
      task: 'retrieval',
      k: 10,
      queries: 2,
      documents: 2,
      models: [model, model],
      improved: 1,
      worsened: 0,
      unchanged: 1,
      wins: [{ query: 'q', positive: 'p', firstRank: 2, secondRank: 1 }],
      losses: [],
      fellOut: [],
    };
    assert.ok(isLabWinsResult(good));
    assert.ok(!isLabWinsResult({ ...good, wins: [{ query: 'q', positive: 'p', firstRank: 0, secondRank: 1 }] }));
    assert.ok(!isLabWinsResult({ ...good, models: [model] }));
    assert.ok(!isLabWinsResult({ ...good, task: 'classification' }));
    assert.ok(
      isLabWinsResult({
        task: 'classification',
        examples: 1,
        models: [model, model],
        fixed: [{ text: 't', pair: null, label: 'a', first: 'b', second: 'a' }],
        broken: [],
        otherChanges: [],
      }),
    );
  });
});
