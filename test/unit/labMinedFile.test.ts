import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { readMinedRows, writeMinedRows } from '../../src/extension/lab/minedFile';
import { groupMinedRows } from '../../src/shared/lab/minedPreview';
import { TempWorkspace } from '../helpers/tempWorkspace';

const COLUMNS = { anchor: 'question', positive: 'answer', negative: 'negative' };
const ROWS = [
  { anchor: 'a "quoted", comma', positive: 'line\nbreak', negative: 'plain' },
  { anchor: 'a "quoted", comma', positive: 'line\nbreak', negative: 'second, negative' },
  { anchor: 'q2', positive: 'p2', negative: 'n2' },
];

describe('the Lab’s mined triplet files', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('writes JSONL and CSV the training reads, without scores, and reads them back', () => {
    for (const format of ['jsonl', 'csv'] as const) {
      const file = workspace.path(`mined.${format}`);
      writeMinedRows(
        file,
        format,
        COLUMNS,
        ROWS.map((row) => ({ ...row, scores: [0.9, 0.5] })),
      );
      assert.deepEqual(readMinedRows(file, format, COLUMNS), ROWS, format);
    }
    assert.equal(readFileSync(workspace.path('mined.csv'), 'utf8').split('\n')[0], 'question,answer,negative');
    assert.ok(!readFileSync(workspace.path('mined.jsonl'), 'utf8').includes('scores'));
  });

  it('reads the miner’s scores from JSONL lists and from CSV/TSV cells holding JSON', () => {
    workspace.write('scored.jsonl', `${JSON.stringify({ question: 'q', answer: 'p', negative: 'n', scores: [0.8, 0.4] })}\n`);
    assert.deepEqual(readMinedRows(workspace.path('scored.jsonl'), 'jsonl', COLUMNS), [
      { anchor: 'q', positive: 'p', negative: 'n', scores: [0.8, 0.4] },
    ]);
    workspace.write('scored.tsv', 'question\tanswer\tnegative\tscores\nq "1"\tp\tn\t[0.8,0.4]\n');
    assert.deepEqual(readMinedRows(workspace.path('scored.tsv'), 'tsv', COLUMNS), [
      { anchor: 'q "1"', positive: 'p', negative: 'n', scores: [0.8, 0.4] },
    ]);
    workspace.write('scored.csv', 'question,answer,negative,scores\nq,p,n,"[0.8,0.4]"\n');
    assert.deepEqual(readMinedRows(workspace.path('scored.csv'), 'csv', COLUMNS)[0]!.scores, [0.8, 0.4]);
  });

  it('names the line of a row without its columns', () => {
    workspace.write(
      'bad.jsonl',
      `${JSON.stringify({ question: 'q', answer: 'p', negative: 'n' })}\n${JSON.stringify({ question: 'q' })}\n`,
    );
    assert.throws(() => readMinedRows(workspace.path('bad.jsonl'), 'jsonl', COLUMNS), /bad\.jsonl:2: the mined row lacks/);
  });

  it('groups triplets by their pair, in file order, with each negative’s score', () => {
    const grouped = groupMinedRows(
      [
        { anchor: 'a', positive: 'p', negative: 'n1', scores: [0.9, 0.7] },
        { anchor: 'b', positive: 'q', negative: 'm1' },
        { anchor: 'a', positive: 'p', negative: 'n2', scores: [0.9, 0.6] },
      ],
      1,
    );
    assert.deepEqual(grouped, {
      pairs: 2,
      shown: [
        {
          anchor: 'a',
          positive: 'p',
          positiveScore: 0.9,
          negatives: [
            { text: 'n1', score: 0.7 },
            { text: 'n2', score: 0.6 },
          ],
        },
      ],
    });
  });
});
