import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { readExamples } from '../../src/trainer/data/readExamples';
import { mineHardNegatives } from '../../src/trainer/mining/hardNegativeMiner';
import { minedTable } from '../../src/trainer/mining/minedRows';
import { buildMiningCorpus } from '../../src/trainer/mining/miningCorpus';
import { ProgressBar } from '../../src/trainer/mining/progressBar';
import { writeTable } from '../../src/trainer/mining/writeTable';
import { TempWorkspace } from '../helpers/tempWorkspace';

/** Three anchors; q1 has two positives. Scores make every anchor's negatives known. */
function mined(numNegatives: number) {
  const corpus = buildMiningCorpus([
    { anchor: 'q1', positive: 'a, with "quotes"' },
    { anchor: 'q2', positive: 'b' },
    { anchor: 'q1', positive: 'c\nsecond line' },
    { anchor: 'q3', positive: 'd' },
  ]);
  // Corpus order: a, b, c, d.
  const scores = [
    [0.9, 0.5, 0.8, 0.4],
    [0.3, 0.9, 0.6, 0.7],
    [0.2, 0.1, 0.3, 0.9],
  ];
  return { corpus, result: mineHardNegatives(scores, corpus.positives, { numNegatives, maxScore: 0.65 }) };
}

const COLUMNS = { anchor: 'query', positive: 'passage', negative: 'negative' };

describe('minedTable', () => {
  it('writes one triplet per negative, repeating the anchor’s negatives for each of its positives', () => {
    const { corpus, result } = mined(2);
    const table = minedTable(corpus, result, 'triplet', COLUMNS, false);
    assert.deepEqual(table.columns, ['query', 'passage', 'negative']);
    assert.deepEqual(
      table.rows.map((row) => [row['query'], row['passage'], row['negative']]),
      [
        ['q1', 'a, with "quotes"', 'b'],
        ['q1', 'a, with "quotes"', 'd'],
        ['q1', 'c\nsecond line', 'b'],
        ['q1', 'c\nsecond line', 'd'],
        ['q2', 'b', 'c\nsecond line'],
        ['q2', 'b', 'a, with "quotes"'],
        ['q3', 'd', 'c\nsecond line'],
        ['q3', 'd', 'a, with "quotes"'],
      ],
    );
    assert.equal(table.pairsLeftOut, 0);
  });

  it('writes n-tuples only for pairs whose anchor got every negative, with numbered columns and the scores', () => {
    const { corpus, result } = mined(3);
    // q1's candidates b and d pass; q2 has a and c; q3 has a, b, c: only q3 gets three.
    const table = minedTable(corpus, result, 'n-tuple', COLUMNS, true);
    assert.deepEqual(table.columns, ['query', 'passage', 'negative_1', 'negative_2', 'negative_3', 'scores']);
    assert.deepEqual(table.rows, [
      {
        query: 'q3',
        passage: 'd',
        negative_1: 'c\nsecond line',
        negative_2: 'a, with "quotes"',
        negative_3: 'b',
        scores: [0.9, 0.3, 0.2, 0.1],
      },
    ]);
    assert.equal(table.pairsLeftOut, 3);
  });

  it('refuses two columns with one name', () => {
    const { corpus, result } = mined(1);
    assert.throws(() => minedTable(corpus, result, 'triplet', { ...COLUMNS, negative: 'passage' }, false), /both be named "passage"/);
  });
});

describe('writeTable', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  const columns = { ...resolveConfig({ model: { base: 'm' }, data: { train: 't' } } as EmbedTuneConfig).data.columns, ...COLUMNS };

  for (const format of ['jsonl', 'csv'] as const) {
    it(`writes ${format} that the training data reader reads back as the same triplets, quotes, commas and line breaks included`, async () => {
      const { corpus, result } = mined(2);
      const table = minedTable(corpus, result, 'triplet', COLUMNS, true);
      const file = workspace.path(`mined.${format}`);
      writeTable(file, format, table);
      const read = await readExamples({ file, format, kind: 'triplet', columns, onBadRow: 'error' });
      assert.deepEqual(
        read.examples,
        table.rows.map((row) => ({ anchor: row['query'], positive: row['passage'], negative: row['negative'] })),
      );
      if (format === 'csv') assert.match(readFileSync(file, 'utf8'), /^query,passage,negative,scores\n/);
    });
  }

  it('writes TSV when no text holds a tab or line break, and names the row when one does', async () => {
    const corpus = buildMiningCorpus([
      { anchor: 'q1', positive: 'a' },
      { anchor: 'q2', positive: 'b' },
    ]);
    const table = minedTable(
      corpus,
      mineHardNegatives(
        [
          [0.9, 0.1],
          [0.2, 0.8],
        ],
        corpus.positives,
        { numNegatives: 1 },
      ),
      'triplet',
      COLUMNS,
      false,
    );
    const file = workspace.path('mined.tsv');
    writeTable(file, 'tsv', table);
    assert.equal(readFileSync(file, 'utf8'), 'query\tpassage\tnegative\nq1\ta\tb\nq2\tb\ta\n');
    const { corpus: multiline, result } = mined(1);
    assert.throws(
      () => writeTable(file, 'tsv', minedTable(multiline, result, 'triplet', COLUMNS, false)),
      /mined\.tsv:3: a text holds a tab or a line break, which TSV cannot hold/,
    );
  });
});

describe('ProgressBar', () => {
  function recorder(isTTY: boolean) {
    const written: string[] = [];
    let time = 0;
    const sink = { isTTY, columns: 80, write: (text: string) => written.push(text) };
    return { written, sink, clock: () => time, advance: (ms: number) => (time += ms) };
  }

  it('off a terminal writes a plain line at each tenth, with no carriage returns or escape codes', () => {
    const { written, sink, clock, advance } = recorder(false);
    const bar = new ProgressBar(sink, 'encoding', 200, 'texts', clock);
    for (let done = 1; done <= 200; done++) {
      advance(10);
      bar.update(done);
    }
    bar.finish();
    assert.equal(written.length, 11);
    assert.equal(written[0], 'encoding: 0/200 texts (0%, 0.0 s)\n');
    assert.equal(written[10], 'encoding: 200/200 texts (100%, 2.0 s)\n');
    assert.ok(written.every((line) => !/[\r\u001b]/.test(line)));
  });

  it('on a terminal redraws one line in place at most every 100 ms, and ends it when finished', () => {
    const { written, sink, clock, advance } = recorder(true);
    const bar = new ProgressBar(sink, 'mining', 1000, 'anchors', clock);
    for (let done = 1; done <= 1000; done++) {
      advance(1);
      bar.update(done);
    }
    bar.finish();
    // The first draw, one every 100 ms over 1 s, the final one and the newline.
    assert.equal(written.length, 1 + 10 + 1 + 1);
    assert.ok(written.slice(0, -1).every((text) => text.startsWith('\rmining [') && text.endsWith('\u001b[K')));
    assert.match(written[written.length - 2]!, /\[#+\] 100% 1,000\/1,000 anchors/);
    assert.equal(written[written.length - 1], '\n');
  });
});
