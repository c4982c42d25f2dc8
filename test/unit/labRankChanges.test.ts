import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLabSearchResult } from '../../src/shared/lab/labSearchResult';
import { compareRankings, rankChangeLabel, topK, type RankedHit } from '../../src/shared/lab/rankChanges';

const hits = (...indices: number[]): RankedHit[] => indices.map((index, i) => ({ index, score: 1 - i / 10 }));

describe('the Embedding Lab ranking', () => {
  it('takes the k highest scores best first, and breaks ties by corpus order', () => {
    assert.deepEqual(topK([0.1, 0.9, 0.5, 0.9, -0.2, 0.7], 3), [
      { index: 1, score: 0.9 },
      { index: 3, score: 0.9 },
      { index: 5, score: 0.7 },
    ]);
    assert.deepEqual(
      topK([0.3, 0.3, 0.3], 5).map((hit) => hit.index),
      [0, 1, 2],
      'a k larger than the corpus gives the whole corpus',
    );
    assert.deepEqual(
      topK([Number.NaN, 0.2], 2).map((hit) => hit.index),
      [1],
      'a NaN score is never a result',
    );
  });

  it('marks the second ranking against the first: up, down, same, new, and dropped at the end in their old order', () => {
    // First model: documents 10, 11, 12, 13, 14. Second: 12, 11, 20, 10, 21.
    const compared = compareRankings(hits(10, 11, 12, 13, 14), hits(12, 11, 20, 10, 21));
    assert.deepEqual(
      compared.map((hit) => [hit.index, hit.rank, hit.previousRank, rankChangeLabel(hit.change)]),
      [
        [12, 1, 3, '↑2'],
        [11, 2, 2, '='],
        [20, 3, null, 'new'],
        [10, 4, 1, '↓3'],
        [21, 5, null, 'new'],
        [13, null, 4, 'dropped'],
        [14, null, 5, 'dropped'],
      ],
    );
  });

  it('finds no change between identical rankings', () => {
    const same = compareRankings(hits(3, 1, 2), hits(3, 1, 2));
    assert.deepEqual(
      same.map((hit) => hit.change.kind),
      ['same', 'same', 'same'],
    );
  });

  it('accepts a search result the CLI prints, and rejects one with a bad rank change or a non-numeric score', () => {
    const result = {
      query: 'q',
      k: 2,
      corpus: { file: 'c.txt', entries: 3, sha256: 'ab' },
      models: [
        { model: 'a', description: 'A', cache: 'miss', cacheFile: '/c/1.f32' },
        { model: 'b', description: 'B', cache: 'hit', cacheFile: '/c/2.f32' },
      ],
      first: [{ index: 0, score: 0.5, text: 'x' }],
      second: [{ index: 0, score: 0.4, text: 'x', rank: 1, previousRank: 1, change: { kind: 'same' } }],
    };
    assert.equal(isLabSearchResult(result), true);
    const badChange = { ...result, second: [{ ...result.second[0], change: { kind: 'up', by: 0 } }] };
    assert.equal(isLabSearchResult(badChange), false);
    const badScore = { ...result, first: [{ index: 0, score: '0.5', text: 'x' }] };
    assert.equal(isLabSearchResult(badScore), false);
  });
});
