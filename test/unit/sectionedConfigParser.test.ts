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
  const children = Array.isArray(value) ? value.map((item, i) => pathsOf(item, [...prefix, i])) : Object.entries(value).map(([k, v]) => pathsOf(v, [...prefix, k]));
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
      text = next() < 0.5 ? text.slice(0, at) + pieces[Math.floor(next() * pieces.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 5));
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
    assert.deepEqual(locatePath(second, ['evaluation', 'every'])?.valueRange, { start: edited.indexOf('epoch\n'), end: edited.indexOf('epoch\n') + 5 }, 'later sections moved with the text');
  });

  it('falls back to a whole parse for anchors, duplicate sections and errors', () => {
    for (const text of ['a: &x 1\nb: *x\n', 'model:\n  base: x\nmodel:\n  base: y\n', 'model:\n  base: [x\ndata: 1\n', '- a\n- b\n', '']) {
      assertSameAsWhole(new SectionedConfigParser().parse(text), text);
    }
  });
});
