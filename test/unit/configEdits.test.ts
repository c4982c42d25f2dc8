import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignValues, type Assignment } from '../../src/shared/config/configEdits';
import { parseConfigText } from '../../src/shared/config/parsedConfig';

function apply(text: string, assignments: Assignment[], format: 'yaml' | 'json' = 'yaml'): string {
  const replacement = assignValues(text, assignments, format);
  assert.ok(replacement, 'the assignment could be placed');
  const result = text.slice(0, replacement.range.start) + replacement.newText + text.slice(replacement.range.end);
  assert.deepEqual(parseConfigText(result).syntaxDiagnostics, [], `edited text is valid:\n${result}`);
  return result;
}

describe('assigning config values as a person would edit them', () => {
  it('replaces a present scalar in place and keeps comments', () => {
    const text = '# my run\nloss:\n  type: mnrl # in-batch negatives\n  scale: 20\n';
    assert.equal(
      apply(text, [{ path: ['loss', 'type'], value: 'cached_mnrl' }]),
      '# my run\nloss:\n  type: cached_mnrl # in-batch negatives\n  scale: 20\n',
    );
  });

  it('inserts a missing key at the indentation of its mapping, after the last key', () => {
    const text = 'training:\n    epochs: 3\n    batch_size: 16\nevaluation:\n    every: epoch\n';
    assert.equal(
      apply(text, [{ path: ['training', 'gradient_accumulation_steps'], value: 1 }]),
      'training:\n    epochs: 3\n    batch_size: 16\n    gradient_accumulation_steps: 1\nevaluation:\n    every: epoch\n',
    );
  });

  it('inserts after a nested mapping that ends the section', () => {
    const text = 'strategy:\n  lora:\n    r: 8\ntraining:\n  epochs: 1\n';
    assert.equal(
      apply(text, [{ path: ['strategy', 'type'], value: 'lora' }]),
      'strategy:\n  lora:\n    r: 8\n  type: lora\ntraining:\n  epochs: 1\n',
    );
  });

  it('creates a missing section at the end of the file', () => {
    assert.equal(
      apply('model:\n  base: x\n', [{ path: ['strategy', 'type'], value: 'lora' }]),
      'model:\n  base: x\nstrategy:\n  type: lora\n',
    );
    assert.equal(apply('model:\n  base: x', [{ path: ['strategy', 'type'], value: 'lora' }]), 'model:\n  base: x\nstrategy:\n  type: lora');
  });

  it('fills a key that has no value yet', () => {
    assert.equal(
      apply('training:\n  epochs:\n  seed: 1\n', [{ path: ['training', 'epochs'], value: 3 }]),
      'training:\n  epochs: 3\n  seed: 1\n',
    );
    assert.equal(
      apply('strategy:\nmodel:\n  base: x\n', [{ path: ['strategy', 'type'], value: 'lora' }]),
      'strategy:\n  type: lora\nmodel:\n  base: x\n',
    );
  });

  it('applies several assignments together', () => {
    const text = 'loss:\n  type: mnrl\ntraining:\n  batch_size: 32\n  gradient_accumulation_steps: 4\n';
    assert.equal(
      apply(text, [
        { path: ['loss', 'type'], value: 'cached_mnrl' },
        { path: ['training', 'batch_size'], value: 128 },
        { path: ['training', 'gradient_accumulation_steps'], value: 1 },
      ]),
      'loss:\n  type: cached_mnrl\ntraining:\n  batch_size: 128\n  gradient_accumulation_steps: 1\n',
    );
  });

  it('replaces a block list with a flow list', () => {
    const text = 'evaluation:\n  metrics:\n    - ndcg@10\n  primary: mrr@10\n';
    assert.equal(
      apply(text, [{ path: ['evaluation', 'metrics'], value: ['ndcg@10', 'mrr@10'] }]),
      'evaluation:\n  metrics: [ndcg@10, mrr@10]\n  primary: mrr@10\n',
    );
  });

  it('edits JSON configs as JSON', () => {
    const text = '{\n  "loss": {"type": "mnrl"},\n  "training": {"batch_size": 8}\n}\n';
    assert.equal(
      apply(text, [{ path: ['loss', 'type'], value: 'cached_mnrl' }], 'json'),
      '{\n  "loss": {"type": "cached_mnrl"},\n  "training": {"batch_size": 8}\n}\n',
    );
    assert.equal(
      apply(text, [{ path: ['training', 'gradient_accumulation_steps'], value: 1 }], 'json'),
      '{\n  "loss": {"type": "mnrl"},\n  "training": {"batch_size": 8, "gradient_accumulation_steps": 1}\n}\n',
    );
  });
});

describe('assignments in CRLF files', () => {
  it('keep every line ending CRLF', () => {
    const text = 'loss:\r\n  type: mnrl\r\ntraining:\r\n  batch_size: 32\r\n';
    const result = apply(text, [
      { path: ['training', 'gradient_accumulation_steps'], value: 1 },
      { path: ['strategy', 'type'], value: 'lora' },
    ]);
    assert.equal(
      result,
      'loss:\r\n  type: mnrl\r\ntraining:\r\n  batch_size: 32\r\n  gradient_accumulation_steps: 1\r\nstrategy:\r\n  type: lora\r\n',
    );
  });
});
