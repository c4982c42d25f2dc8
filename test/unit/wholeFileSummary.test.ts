import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { summarize, type RowAcceptance } from '../../src/shared/data/dataFileProbe';
import type { DataFormat } from '../../src/shared/data/dataFormat';
import { exampleKindFor } from '../../src/shared/data/trainingExamples';
import { summarizeWholeFile } from '../../src/shared/data/wholeFileSummary';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());

const ACCEPTANCE: RowAcceptance = {
  kind: exampleKindFor('embedding', 'mnrl'),
  columns: { anchor: 'anchor', positive: 'positive' } as RowAcceptance['columns'],
};

/** Rows of every kind the summary counts: good, malformed, a number or an empty value, a column seen only late, blank lines, non-ASCII. */
function jsonlRows(count: number, seed: number): string {
  const random = createRandom(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const pick = random();
    if (pick < 0.05) lines.push('{"anchor": "cut');
    else if (pick < 0.08) lines.push('');
    else if (pick < 0.12) lines.push(JSON.stringify({ anchor: 7, positive: 'número ünïcödé 中文' }));
    else if (pick < 0.16) lines.push(JSON.stringify({ anchor: `q ${i}`, positive: '' }));
    else if (pick < 0.18 && i > count / 2) lines.push(JSON.stringify({ anchor: `q ${i}`, positive: `p ${i}`, late: 'x' }));
    else lines.push(JSON.stringify({ anchor: `question ${i} é中`, positive: `answer ${i}` }));
  }
  return `\ufeff${lines.join('\n')}\n`;
}

function csvRows(count: number, seed: number): string {
  const random = createRandom(seed);
  const lines = ['anchor,positive'];
  for (let i = 0; i < count; i++) {
    const pick = random();
    if (pick < 0.05) lines.push('one field only');
    else if (pick < 0.1) lines.push(`"q ${i}",`);
    else lines.push(`"question ${i}, ""quoted"" é中","answer ${i}\nnext line"`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

function bothWays(text: string, format: DataFormat, chunkBytes: number) {
  const path = workspace.write(`rows-${chunkBytes}.${format}`, text);
  const whole = summarize(text.replace(/^\ufeff/, ''), format, ACCEPTANCE);
  const parts = summarizeWholeFile(path, format, (part) => summarize(part, format, ACCEPTANCE), chunkBytes);
  return { whole, parts };
}

describe('summarizeWholeFile, which validate uses on files over 8 MiB', () => {
  for (const chunkBytes of [37, 1000, 65_536]) {
    it(`gives a JSONL summary equal to parsing it at once, read ${chunkBytes} bytes at a time`, () => {
      const { whole, parts } = bothWays(jsonlRows(3000, chunkBytes), 'jsonl', chunkBytes);
      assert.ok(whole.ok && whole.badRowCount > 0 && whole.rejectedRowCount > 0 && whole.emptyValues.get('late')!.count > 0);
      assert.deepEqual(parts, whole);
    });

    it(`gives a CSV summary equal to parsing it at once, quoted newlines and all, read ${chunkBytes} bytes at a time`, () => {
      const { whole, parts } = bothWays(csvRows(3000, chunkBytes), 'csv', chunkBytes);
      assert.ok(whole.ok && whole.badRowCount > 0 && whole.emptyValues.get('positive')!.count > 0);
      assert.deepEqual(parts, whole);
    });
  }
});
