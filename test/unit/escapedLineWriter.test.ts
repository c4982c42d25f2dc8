import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EscapedLineWriter } from '../../src/trainer/cli/escapedLineWriter';

function written(chunks: readonly (string | Buffer)[]): { parts: string[]; all: string } {
  const parts: string[] = [];
  const writer = new EscapedLineWriter((text) => parts.push(text));
  for (const chunk of chunks) writer.push(chunk);
  writer.end();
  return { parts, all: parts.join('') };
}

describe('EscapedLineWriter, between the accelerate launcher and the terminal', () => {
  it('escapes an ESC sequence and a bare carriage return, and keeps LF and CRLF line ends', () => {
    const { all } = written(['step 1\n\u001b[2Jcleared\r\nfaked\roverwritten\n']);
    assert.equal(all, 'step 1\n\\u001b[2Jcleared\r\nfaked\\u000doverwritten\n');
  });

  it('catches a sequence split across chunks, and a UTF-8 character split across chunks', () => {
    const bytes = Buffer.from('é\u001b]0;title\u0007done\n', 'utf8');
    const { all } = written([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)]);
    assert.equal(all, 'é\\u001b]0;title\\u0007done\n');
  });

  it('writes complete lines at once and a last line without newline at the end', () => {
    const parts: string[] = [];
    const writer = new EscapedLineWriter((text) => parts.push(text));
    writer.push('one\ntw');
    assert.deepEqual(parts, ['one\n']);
    writer.push('o\u001b');
    assert.deepEqual(parts, ['one\n']);
    writer.end();
    assert.deepEqual(parts, ['one\n', 'two\\u001b']);
  });

  it('does not hold a line without newline forever', () => {
    const parts: string[] = [];
    const writer = new EscapedLineWriter((text) => parts.push(text));
    writer.push('\r'.repeat(70_000));
    assert.equal(parts.join(''), '\\u000d'.repeat(70_000));
  });
});
