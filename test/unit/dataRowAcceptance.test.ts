import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { resolveConfig } from '../../src/shared/config/configTypes';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { DataRowError } from '../../src/trainer/data/dataErrors';
import { readExamples } from '../../src/trainer/data/readExamples';
import { exampleKindFor } from '../../src/trainer/data/trainingExamples';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());
const configPath = workspace.path('run.embedtune.yaml');

function configText(file: string, loss = 'mnrl', extra = ''): string {
  return `model:\n  base: x\ndata:\n  train: ${file}\n${extra}loss:\n  type: ${loss}\nstrategy:\n  type: lora\n`;
}

/** What validation says about the training file, and what the trainer's loader does with it. */
async function bothVerdicts(file: string, loss: string, onBadRow: 'error' | 'skip') {
  const text = configText(file, loss, onBadRow === 'skip' ? '  on_bad_row: skip\n' : '');
  const result = validateConfigText(text, { configPath });
  const badRows = result.diagnostics.filter((d) => d.code === 'data-bad-row');
  const summary = result.dataset.train?.summary;
  const resolved = resolveConfig({ model: { base: 'x' }, data: { train: file }, loss: { type: loss as 'mnrl' } });
  const read = readExamples({
    file: workspace.path(file),
    format: file.endsWith('.csv') ? 'csv' : 'jsonl',
    kind: exampleKindFor('embedding', loss),
    columns: resolved.data.columns,
    onBadRow,
  });
  return { badRows, summary, read };
}

describe('validate finds the rows that training refuses, with the same rule', () => {
  const wrongTypes: [string, string, RegExp][] = [
    ['a number', '{"anchor": 42, "positive": "b"}', /line 3 column "anchor" \(data.columns.anchor\) is a number \(42\), not text/],
    ['a list', '{"anchor": ["a"], "positive": "b"}', /line 3 column "anchor" \(data.columns.anchor\) is a list, not text/],
    ['an object', '{"anchor": "a", "positive": {"t": "b"}}', /line 3 column "positive" \(data.columns.positive\) is an object, not text/],
    ['a boolean', '{"anchor": true, "positive": "b"}', /line 3 column "anchor" \(data.columns.anchor\) is a boolean \(true\), not text/],
  ];
  for (const [what, row, message] of wrongTypes) {
    it(`reports a text cell that is ${what} as an error, where training stops on the same line`, async () => {
      const file = `data/${what.replace(' ', '-')}.jsonl`;
      workspace.write(file, `${pairsJsonl(2)}${row}\n${pairsJsonl(2)}`);
      const { badRows, read } = await bothVerdicts(file, 'mnrl', 'error');
      assert.equal(badRows.length, 1, JSON.stringify(badRows));
      assert.equal(badRows[0]!.severity, 'error');
      assert.match(badRows[0]!.message, message);
      await assert.rejects(read, (error: unknown) => error instanceof DataRowError && error.line === 3 && error.reason === 'wrong_type');
    });
  }

  for (const score of ['NaN', 'abc', 'Infinity', '-Infinity']) {
    it(`reports a CSV score of "${score}", which cosent cannot train on`, async () => {
      const file = `data/score-${score}.csv`;
      workspace.write(file, `anchor,positive,score\na,b,0.5\nc,d,${score}\ne,f,1\n`);
      const { badRows, read } = await bothVerdicts(file, 'cosent', 'error');
      assert.equal(badRows.length, 1, JSON.stringify(badRows));
      assert.match(badRows[0]!.message, new RegExp(`line 3 column "score" \\(data.columns.score\\) is "${score}", not a number`));
      assert.match(badRows[0]!.message, /would drop 1 of 3 rows/);
      await assert.rejects(read, (error: unknown) => error instanceof DataRowError && error.line === 3 && error.reason === 'not_a_number');
    });
  }

  it('counts exactly the rows that on_bad_row: skip drops, whatever is wrong with them', async () => {
    const rows = [
      '{"anchor":"a","positive":"b","label":1}',
      '{"anchor":"c","positive":"d","label":"1.0"}',
      '{"anchor":"e","positive":"f","label":2}',
      '{"anchor":"g","positive":"h","label":"yes"}',
      '{"anchor":"","positive":"i","label":0}',
      '{"anchor":"j","label":0}',
      'not json',
      '{"anchor":7,"positive":"k","label":0}',
      '{"anchor":"l","positive":"m","label":null}',
      '{"anchor":"n","positive":"o","label":0}',
    ];
    workspace.write('data/mixed.jsonl', `${rows.join('\n')}\n`);
    const { badRows, summary, read } = await bothVerdicts('data/mixed.jsonl', 'contrastive', 'skip');
    const loaded = await read;
    assert.ok(summary?.ok);
    assert.equal(loaded.summary.skipped, 7);
    assert.equal(summary.unusableRowCount, loaded.summary.skipped);
    assert.equal(summary.rows + summary.badRowCount - summary.unusableRowCount, loaded.summary.rows);
    assert.ok(badRows.every((d) => d.severity === 'information'));
    assert.ok(
      badRows.some((d) => /7 of 10 rows skipped in all/.test(d.message)),
      JSON.stringify(badRows.map((d) => d.message)),
    );
  });

  it('says nothing when every row is one training accepts', async () => {
    workspace.write('data/fine.csv', 'anchor,positive,score\na,b,0.5\nc,d,1e-1\ne,f, 1 \n');
    const { badRows, read } = await bothVerdicts('data/fine.csv', 'cosent', 'error');
    assert.deepEqual(badRows, []);
    assert.equal((await read).summary.rows, 3);
  });
});
