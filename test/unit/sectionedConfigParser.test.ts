import assert from 'node:assert/strict';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { benchConfigText } from '../../bench/fixtures/benchConfig';
import type { ConfigPath } from '../../src/shared/config/configDiagnostic';
import { locatePath, parseConfigText, type ParsedConfig } from '../../src/shared/config/parsedConfig';
import { SectionedConfigParser } from '../../src/shared/config/sectionedConfigParser';

const EXAMPLES = ['retrieval/retrieval', 'similarity/similarity', 'classification/classification', 'ner/ner'].map((name) =>
  readFileSync(resolve(__dirname, '../../examples', `${name}.embedtune.yaml`), 'utf8'),
);

function pathsOf(value: unknown, prefix: (string | number)[] = []): ConfigPath[] {
  if (value === null || typeof value !== 'object') return [prefix];
  const children = Array.isArray(value)
    ? value.map((item, i) => pathsOf(item, [...prefix, i]))
    : Object.entries(value).map(([k, v]) => pathsOf(v, [...prefix, k]));
  return [prefix, ...children.flat()];
}

/** The sectioned parse must be indistinguishable from a whole parse: same value, same diagnostics, same ranges. */
function assertSameAsWhole(sectioned: ParsedConfig, text: string): void {
  const whole = parseConfigText(text);
  assert.deepEqual(sectioned.value, whole.value);
  assert.deepEqual(sectioned.syntaxDiagnostics, whole.syntaxDiagnostics);
  for (const path of pathsOf(whole.value).filter((p) => p.length > 0)) {
    const a = locatePath(sectioned, path);
    const b = locatePath(whole, path);
    assert.deepEqual([a?.keyRange, a?.valueRange, a?.range], [b?.keyRange, b?.valueRange, b?.range], `ranges differ at ${path.join('.')}`);
  }
}

describe('the sectioned parser', () => {
  it('gives exactly the whole parse for the examples and the benchmark config', () => {
    for (const text of [...EXAMPLES, benchConfigText()]) assertSameAsWhole(new SectionedConfigParser().parse(text), text);
  });

  it('stays exact through a long series of edits that insert, delete and move text between sections', () => {
    const next = createRandom(42);
    const parser = new SectionedConfigParser();
    const pieces = ['a', ' ', '\n', '1', ':', '#', '  x: 1\n', '\ntraining:\n  epochs: 2\n', '- ', '"', '\n\n', 'seed: 3\n'];
    let text = EXAMPLES[0]!;
    for (let i = 0; i < 600; i++) {
      if (i % 50 === 0) text = EXAMPLES[(i / 50) % EXAMPLES.length]!;
      const at = Math.floor(next() * (text.length + 1));
      text =
        next() < 0.5
          ? text.slice(0, at) + pieces[Math.floor(next() * pieces.length)] + text.slice(at)
          : text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 5));
      assertSameAsWhole(parser.parse(text), text);
    }
  });

  it('re-parses only the section that changed', () => {
    const parser = new SectionedConfigParser();
    const text = 'model:\n  base: x\ntraining:\n  epochs: 1\nevaluation:\n  every: epoch\n';
    const first = parser.parse(text);
    const edited = text.replace('epochs: 1', 'epochs: 12');
    const second = parser.parse(edited);
    const nodeOf = (parsed: ParsedConfig, key: string) => locatePath(parsed, [key])?.node;
    assert.equal(nodeOf(second, 'model'), nodeOf(first, 'model'), 'the model section was reused');
    assert.notEqual(nodeOf(second, 'training'), nodeOf(first, 'training'), 'the training section was parsed again');
    assert.deepEqual(
      locatePath(second, ['evaluation', 'every'])?.valueRange,
      { start: edited.indexOf('epoch\n'), end: edited.indexOf('epoch\n') + 5 },
      'later sections moved with the text',
    );
  });

  it('falls back to a whole parse for anchors, duplicate sections and errors', () => {
    for (const text of ['a: &x 1\nb: *x\n', 'model:\n  base: x\nmodel:\n  base: y\n', 'model:\n  base: [x\ndata: 1\n', '- a\n- b\n', '']) {
      assertSameAsWhole(new SectionedConfigParser().parse(text), text);
    }
  });

  it('re-parses only the entry that changed within a section, and stays exact through edits inside sections', () => {
    const parser = new SectionedConfigParser();
    let text = benchConfigText();
    const first = parser.parse(text);
    text = text.replace('  seed: 42\n', '  seed: 1042\n');
    const second = parser.parse(text);
    assertSameAsWhole(second, text);
    const nodeOf = (parsed: ParsedConfig, path: ConfigPath) => locatePath(parsed, path)?.node;
    assert.equal(
      nodeOf(second, ['training', 'epochs']),
      nodeOf(first, ['training', 'epochs']),
      'an unchanged entry of the edited section was reused',
    );
    assert.notEqual(nodeOf(second, ['training', 'seed']), nodeOf(first, ['training', 'seed']), 'the edited entry was parsed again');
    const next = createRandom(7);
    const pieces = ['1', ' ', '\n', '  x: 1\n', '    - a\n', '#', '"', ':', '\r\n', '\t', '- '];
    for (let i = 0; i < 400; i++) {
      // Edits inside the second half of a line, where they change one entry rather than the section structure.
      const lineStarts = [...text.matchAll(/\n/g)].map((m) => m.index! + 1);
      const lineStart = lineStarts[Math.floor(next() * lineStarts.length)]!;
      const lineEnd = text.indexOf('\n', lineStart) === -1 ? text.length : text.indexOf('\n', lineStart);
      const at = lineStart + Math.floor(((lineEnd - lineStart) * (1 + next())) / 2);
      text =
        next() < 0.6
          ? text.slice(0, at) + pieces[Math.floor(next() * pieces.length)] + text.slice(at)
          : text.slice(0, at) + text.slice(at + 1);
      assertSameAsWhole(parser.parse(text), text);
      if (i % 100 === 99) text = benchConfigText();
    }
  });

  it('parses whole any document with anchors, aliases, tags or directives, wherever they are', () => {
    const base = 'model:\n  base: x\ntraining:\n  epochs: 1\n';
    for (const extra of ['a: &x 1\n', 'a: [*x]\n', 'a: {k: !!str 1}\n', '%YAML 1.2\n---\n', '...\n', 'a: b\r---\n']) {
      const text = base + extra;
      assertSameAsWhole(new SectionedConfigParser().parse(text), text);
    }
    for (const text of [`${base}# a comment with & and * and ! and --- and ...\n`, `${base}a: "x&y*z!"\n`]) {
      assertSameAsWhole(new SectionedConfigParser().parse(text), text);
    }
  });

  it('gives one-line scalar entries, built without the YAML parser, exactly the nodes and values a YAML parse gives', () => {
    const scalars = [
      '42',
      '-1',
      '+1',
      '-.5',
      '1.50',
      '1e3',
      '1E-3',
      '0x1f',
      '0o17',
      '.inf',
      '-.inf',
      '.NaN',
      'true',
      'True',
      'TRUE',
      'false',
      'null',
      'Null',
      '~',
      'yes',
      'on',
      'cosine',
      'ndcg@10',
      'data/train.jsonl',
      'a-b_c.d',
      '1_000',
      '12',
      '007',
      '-',
      '--x',
      '.',
    ];
    const keys = ['seed', 'null', 'true', 'x1', '__proto__', 'a.b-c'];
    const parser = new SectionedConfigParser();
    for (const key of keys) {
      for (const scalar of scalars) {
        for (const rest of ['', '  ', ' # a comment', '\t# c', '#x', '\r']) {
          const text = `model:\n  base: x\ntraining:\n  epochs: 1\n  ${key}:${rest === '\t# c' ? '\t' : ' '}${scalar}${rest}\n\n# next\nevaluation:\n  every: epoch\n`;
          assertSameAsWhole(parser.parse(text), text);
        }
      }
    }
  });
});
