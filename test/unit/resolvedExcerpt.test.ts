import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { benchConfigText } from '../../bench/fixtures/benchConfig';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { HISTORY_KEYS, MODE_KEY } from '../../src/server/service/historyKeys';
import { resolvedExcerpt, simpleValues } from '../../src/server/service/resolvedExcerpt';
import { valueAt } from '../../src/server/service/runHistory';

const KEYS = [...HISTORY_KEYS, MODE_KEY];

test('the excerpt of a resolved config holds the same value at every history key as the whole file, in a few lines', () => {
  const text = stringify(resolveConfig(parse(benchConfigText(300)) as EmbedTuneConfig));
  const excerpt = resolvedExcerpt(text, KEYS);
  for (const path of KEYS) assert.deepEqual(valueAt(parse(excerpt), path), valueAt(parse(text), path), path.join('.'));
  assert.ok(valueAt(parse(excerpt), ['training', 'learning_rate']) !== undefined);
  assert.ok(excerpt.split('\n').length < 30, `${excerpt.split('\n').length} lines of ${text.split('\n').length}`);
  assert.equal(valueAt(parse(excerpt), ['data', 'train']), undefined, 'sections the history never shows are left out');
  assert.deepEqual(simpleValues(excerpt), parse(excerpt), 'the resolved excerpt takes the fast path, to the same value');
});

test('simple values read as YAML reads them, and anything else is left to YAML', () => {
  const simple = [
    'training:',
    '  learning_rate: 2.0e-05',
    '  epochs: 3 # comment',
    '  warmup: 0.1',
    '  dropout: -0',
    '  scheduler: cosine',
    '  head_learning_rate: null',
    '  max_grad_norm: ~',
    '  gradient_accumulation_steps: 1',
    'model:',
    '  base: sentence-transformers/all-MiniLM-L6-v2',
    '  max_seq_length: 512',
    'early_stopping:',
    '  mode: max',
    '  enabled: false',
  ].join('\n');
  assert.deepEqual(simpleValues(simple), parse(simple));
  for (const line of [
    '  x: True',
    '  x: .inf',
    '  x: 007',
    "  x: 'quoted'",
    '  x: a#b',
    '  x:',
    '  x: 0x1F',
    '  x: 1.',
    '    x: 1',
    '  - 1',
  ])
    assert.equal(simpleValues(`training:\n${line}`), undefined, line);
  assert.equal(simpleValues('training: 1'), undefined, 'a section with an inline value');
  assert.equal(simpleValues('training:\n  x: 1\n  x: 2'), undefined, 'a duplicate key, which YAML refuses');
});

test('a key keeps its whole block: a nested value, a block scalar with a blank line, a comment', () => {
  const text = [
    'training:',
    '  # the rate',
    '  learning_rate: 2.0e-5 # tuned',
    '  scheduler: |',
    '    line one',
    '',
    '    line two',
    '  epochs:',
    '    nested: 3',
    '  seed: 7',
    'data:',
    '  train: x',
  ].join('\n');
  const value = parse(resolvedExcerpt(text, KEYS));
  assert.deepEqual(value, { training: { learning_rate: 2e-5, scheduler: 'line one\n\nline two\n', epochs: { nested: 3 } } });
});

test('what the excerpt cannot follow gives back the whole text', () => {
  for (const text of [
    '---\ntraining:\n  epochs: 1\n',
    '{training: {epochs: 1}}\n',
    'training:\n  - epochs\n',
    'training:\n  "epochs": 1\n',
    'training:\n    epochs: 1\n  batch_size: 2\n',
  ])
    assert.equal(resolvedExcerpt(text, KEYS), text, text);
});
