import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const CLI = resolve(__dirname, '../../dist/cli.js');
/** Above the 8 MiB under which the language server parses a file whole; above it the server samples the first MiB. */
const LARGE_ROWS = 200_000;

function validate(workspace: TempWorkspace, config: string): { code: number | null; out: string } {
  workspace.write('run.embedtune.yaml', config);
  const result = spawnSync(process.execPath, [CLI, 'validate', '--summary', 'run.embedtune.yaml'], {
    cwd: workspace.root,
    encoding: 'utf8',
  });
  return { code: result.status, out: result.stdout + result.stderr };
}

const CONFIG = (train: string, extra = '') => `model:\n  base: x\ndata:\n  train: ${train}\n${extra}strategy:\n  type: lora\n`;

/** A CSV row whose quoted text spans lines, so that some part of the file must end inside one unless parts respect quotes. */
function csvRows(count: number): string {
  const lines = ['anchor,positive'];
  for (let i = 0; i < count; i++) lines.push(`"question ${i}, with a comma","answer ${i}\nsecond line of it"`);
  return `${lines.join('\n')}\n`;
}

describe('embedtune validate on a data file over 8 MiB', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('reads every row: a last row train would refuse is an error with its line number', () => {
    const path = workspace.write('data/train.jsonl', `${pairsJsonl(LARGE_ROWS)}{"anchor":123,"positive":["list"]}\n`);
    assert.ok(statSync(path).size > 8 * 2 ** 20, `${statSync(path).size} bytes`);
    const { code, out } = validate(workspace, CONFIG('data/train.jsonl'));
    assert.equal(code, 1, out);
    assert.match(
      out,
      new RegExp(
        `error data-bad-row data.train: 1 row\\(s\\) of "data/train.jsonl" hold values training cannot use: line ${LARGE_ROWS + 1} `,
      ),
    );
    assert.doesNotMatch(out, /among the first/);
  });

  it('finds a malformed row and a row without a value near the end, at their file lines', () => {
    const rows = pairsJsonl(LARGE_ROWS).split('\n');
    rows[LARGE_ROWS - 5] = '{"anchor": "cut off';
    rows[LARGE_ROWS - 3] = JSON.stringify({ anchor: 'no positive here' });
    workspace.write('data/holes.jsonl', rows.join('\n'));
    const { code, out } = validate(workspace, CONFIG('data/holes.jsonl'));
    assert.equal(code, 1, out);
    assert.match(out, new RegExp(`has 1 malformed row\\(s\\): line ${LARGE_ROWS - 4} is not valid JSON`));
    assert.match(out, new RegExp(`1 row\\(s\\) of "data/holes.jsonl" have no "positive" value, e.g. line ${LARGE_ROWS - 2}\\.`));
  });

  it('counts every row of a clean file, so the plan matches what train will load', () => {
    workspace.write('data/clean.jsonl', pairsJsonl(LARGE_ROWS));
    const { code, out } = validate(workspace, CONFIG('data/clean.jsonl'));
    assert.equal(code, 0, out);
    // The default validation_split of 0.1 holds out a tenth; a sample's estimate from line count would pass too, so
    // the rows lacking a value are what the whole read proves: none here, and the count is exact.
    assert.match(out, new RegExp(`rows ${LARGE_ROWS * 0.9} train · ${LARGE_ROWS * 0.1} validation`));
  });

  it('reads a large CSV whose quoted fields span lines, and finds a short last row at its file line', () => {
    const rows = 200_000;
    workspace.write('data/train.csv', `${csvRows(rows)}only one field\n`);
    assert.ok(statSync(workspace.path('data/train.csv')).size > 8 * 2 ** 20);
    const { code, out } = validate(workspace, CONFIG('data/train.csv'));
    assert.equal(code, 1, out);
    assert.match(out, new RegExp(`has 1 malformed row\\(s\\): line ${1 + rows * 2 + 1} has 1 fields, but the header has 2`));
  });
});
