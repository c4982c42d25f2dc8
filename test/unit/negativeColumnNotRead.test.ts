import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfigText } from '../../src/shared/config/validateConfig';

function config(loss: string, negative: string): string {
  return `model:\n  base: sentence-transformers/all-MiniLM-L6-v2\ndata:\n  train: train.jsonl\n  columns:\n    negative: ${negative}\nloss:\n  type: ${loss}\n`;
}

function notRead(text: string) {
  return validateConfigText(text).diagnostics.filter((d) => d.code === 'negative-column-not-read');
}

describe('a negative column written as a string with an in-batch loss', () => {
  for (const loss of ['mnrl', 'cached_mnrl']) {
    it(`warns with ${loss} that the column is not trained on, on the value, naming the list form`, () => {
      const text = config(loss, 'hard_negative');
      const [warning, ...rest] = notRead(text);
      assert.equal(rest.length, 0);
      assert.ok(warning);
      assert.equal(warning.severity, 'warning');
      assert.equal(text.slice(warning.range.start, warning.range.end), 'hard_negative');
      assert.match(warning.message, /Write data\.columns\.negative: \[hard_negative\]/);
    });
  }

  it('is quiet for the list form, and for triplet, which reads the string form', () => {
    assert.deepEqual(notRead(config('mnrl', '[hard_negative]')), []);
    assert.deepEqual(notRead(config('triplet', 'hard_negative')), []);
  });
});
