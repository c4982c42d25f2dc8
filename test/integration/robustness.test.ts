import assert from 'node:assert/strict';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { CompletionList, Hover } from 'vscode-languageserver-protocol';
import { LspTestClient } from '../helpers/lspTestClient';

const EXAMPLES = resolve(__dirname, '../../examples');
const SEEDS = ['retrieval/retrieval', 'similarity/similarity', 'classification/classification', 'ner/ner'].map((name) =>
  readFileSync(resolve(EXAMPLES, `${name}.embedtune.yaml`), 'utf8'),
);
const MUTATIONS = 2000;
/** Generous: the bound catches a hang or a quadratic blow-up, not scheduling noise on a shared machine. */
const PER_ANSWER_LIMIT_MS = 5000;
const TOTAL_LIMIT_MS = 240_000;

const NOISE = [
  ':',
  '-',
  '[',
  ']',
  '{',
  '}',
  '#',
  "'",
  '"',
  '\t',
  '\n',
  ' ',
  '&a',
  '*a',
  '!!str',
  '|',
  '>',
  '%',
  '@',
  '`',
  '?',
  ',',
  '\u00e9',
  '\u4e2d',
  '\ud83d\ude00',
  '\u0000',
  '\r',
];
const VALUES = [
  '-1',
  '0',
  '1e999',
  'null',
  '~',
  'true',
  '[]',
  '{}',
  '"x"',
  "''",
  'NaN',
  '.inf',
  '9'.repeat(40),
  'a'.repeat(5000),
  '[[[[[[[[[[',
  '{a: {b: {c: {d: 1}}}}',
];

function mutate(text: string, next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const at = Math.floor(next() * (text.length + 1));
  const lines = text.split('\n');
  const line = Math.floor(next() * lines.length);
  switch (Math.floor(next() * 8)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 20));
    case 2:
      return text.slice(0, at) + pick(NOISE) + text.slice(at);
    case 3:
      lines.splice(line, 0, lines[Math.floor(next() * lines.length)]!);
      return lines.join('\n');
    case 4:
      lines[line] = ' '.repeat(Math.floor(next() * 7)) + lines[line]!.trimStart();
      return lines.join('\n');
    case 5:
      lines[line] = lines[line]!.replace(/:\s.*$/, `: ${pick(VALUES)}`);
      return lines.join('\n');
    case 6:
      return lines.reverse().join('\n');
    default:
      return text.slice(0, at) + text.slice(Math.floor(next() * (text.length + 1)));
  }
}

describe('the language server under thousands of mutated and truncated configs', () => {
  let client: LspTestClient;
  const uri = pathToFileURL(resolve(EXAMPLES, 'retrieval/fuzz.embedtune.yaml')).toString();

  before(async () => {
    client = new LspTestClient();
    await client.initialize(EXAMPLES);
    await client.open(uri, SEEDS[0]!);
  });

  after(async () => {
    await client.dispose();
  });

  it(`answers every one of ${MUTATIONS} configs, crashes on none, and stays under the time bound`, async () => {
    const next = createRandom(20261128);
    const started = Date.now();
    let slowest = 0;
    let current = SEEDS[0]!;
    for (let i = 0; i < MUTATIONS; i++) {
      // Keep mutating the same text for a while so that damage accumulates, then restart from a clean seed.
      current = i % 10 === 0 ? SEEDS[i % SEEDS.length]! : current;
      current = mutate(current, next);
      const sent = Date.now();
      const published = await client.change(uri, current);
      assert.ok(Array.isArray(published.diagnostics));
      if (i % 5 === 0) {
        const lines = current.split('\n');
        const line = Math.floor(next() * lines.length);
        const position = { line, character: Math.floor(next() * (lines[line]!.length + 1)) };
        const [completion, hover] = await Promise.all([
          client.request<CompletionList | null>('textDocument/completion', { textDocument: { uri }, position }),
          client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position }),
          client.request('textDocument/codeAction', {
            textDocument: { uri },
            range: { start: position, end: position },
            context: { diagnostics: published.diagnostics },
          }),
          client.request('textDocument/documentSymbol', { textDocument: { uri } }),
          client.request('textDocument/codeLens', { textDocument: { uri } }),
        ]);
        assert.ok(completion === null || Array.isArray(completion.items));
        assert.ok(hover === null || typeof hover === 'object');
      }
      const elapsed = Date.now() - sent;
      slowest = Math.max(slowest, elapsed);
      assert.ok(elapsed < PER_ANSWER_LIMIT_MS, `mutation ${i} took ${elapsed} ms:\n${current.slice(0, 500)}`);
      assert.ok(client.alive, `the server died on mutation ${i}:\n${current.slice(0, 500)}\n${client.stderr.join('')}`);
    }
    const total = Date.now() - started;
    assert.ok(total < TOTAL_LIMIT_MS, `took ${total} ms`);
    const failures = client.logs.filter((line) => /failed|uncaught|unhandled/.test(line));
    assert.deepEqual(failures, [], 'no handler failed internally');
    process.stdout.write(`# ${MUTATIONS} mutations in ${total} ms, slowest answer ${slowest} ms\n`);
  });
});
