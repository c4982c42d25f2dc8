import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveConfig } from '../../src/shared/config/configTypes';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { exampleKindFor } from '../../src/trainer/data/trainingExamples';
import { TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());
workspace.write('data/ner.jsonl', readFileSync(resolve(__dirname, '../../examples/ner/data/validation.jsonl'), 'utf8'));
workspace.write(
  'data/conll.jsonl',
  `${JSON.stringify({ id: '0', words: ['EU', 'rejects', 'German', 'call'], ner: ['B-ORG', 'O', 'B-MISC', 'O'] })}\n`,
);
const configPath = workspace.path('run.embedtune.yaml');
const diagnose = (text: string) => validateConfigText(text, { configPath }).diagnostics;
const HEADER =
  'task: token-classification\nmodel:\n  base: sentence-transformers/all-MiniLM-L6-v2\ndata:\n  train: data/ner.jsonl\nstrategy:\n  type: lora\n';

describe('a token-classification config', () => {
  it('with loss crf and entity metrics validates cleanly and trains on tokens and tags', () => {
    const text = `${HEADER}loss:\n  type: crf\nevaluation:\n  metrics: [f1, precision, recall]\n`;
    assert.deepEqual(
      diagnose(text).map((d) => `${d.code}: ${d.message}`),
      [],
    );
    assert.equal(exampleKindFor('token-classification', 'crf'), 'token-tags');
  });

  it('reads other column names through data.columns, as in conll2003 exports', () => {
    const mapped = `task: token-classification\nmodel:\n  base: x\ndata:\n  train: data/conll.jsonl\n  columns: {tokens: words, tags: ner}\nstrategy:\n  type: lora\nloss:\n  type: crf\n`;
    assert.deepEqual(
      diagnose(mapped).map((d) => d.code),
      [],
    );
    const unmapped = mapped.replace('  columns: {tokens: words, tags: ner}\n', '');
    assert.ok(diagnose(unmapped).some((d) => d.code === 'data-missing-column' && /needs columns "tokens", "tags"/.test(d.message)));
  });

  it('with no loss trains softmax cross-entropy per word, the task default, and validates cleanly', () => {
    assert.deepEqual(
      diagnose(HEADER)
        .filter((d) => d.severity === 'error')
        .map((d) => `${d.code}: ${d.message}`),
      [],
    );
    const resolved = resolveConfig({ task: 'token-classification', model: { base: 'x' }, data: { train: 'data/ner.jsonl' } });
    assert.equal(resolved.loss.type, 'softmax');
    assert.equal(exampleKindFor(resolved.task, resolved.loss.type), 'token-tags');
  });

  it('with no metrics evaluates entity-level f1, precision and recall, f1 primary, with nothing to warn about', () => {
    assert.ok(!diagnose(`${HEADER}loss:\n  type: crf\nevaluation:\n  every: epoch\n`).some((d) => d.code === 'metric-task-mismatch'));
    const resolved = resolveConfig({
      task: 'token-classification',
      model: { base: 'x' },
      data: { train: 'data/ner.jsonl' },
      loss: { type: 'crf' },
    });
    assert.deepEqual(resolved.evaluation.metrics, ['f1', 'precision', 'recall']);
    assert.equal(resolved.evaluation.primary, 'f1');
    const ranking = diagnose(`${HEADER}loss:\n  type: crf\nevaluation:\n  metrics: [f1, ndcg@10]\n`).filter(
      (d) => d.code === 'metric-task-mismatch',
    );
    assert.deepEqual(
      ranking.map((d) => d.data?.path),
      [['evaluation', 'metrics', 1]],
      'a written ranking metric is still warned about',
    );
  });

  it('with a written loss that does not fit, offers the CRF first', () => {
    const mismatch = diagnose(`${HEADER}loss:\n  type: mnrl\n`).find((d) => d.code === 'loss-task-mismatch')!;
    assert.match(mismatch.message, /^Loss "mnrl" does not fit the token-classification task. Use one of: crf, softmax, focal/);
    const fixes = mismatch.data?.fixes ?? [];
    assert.deepEqual(
      fixes.map((fix) => [fix.title, fix.preferred ?? false]),
      [
        ['Use loss crf', true],
        ['Use loss softmax', false],
        ['Use loss focal', false],
      ],
    );
  });

  it('accepts loss.class_weights balanced or none, defaulting to none, and rejects anything else', () => {
    assert.equal(resolveConfig({ model: { base: 'x' }, data: { train: 'x' } }).loss.class_weights, 'none');
    assert.ok(
      !diagnose(`${HEADER}loss:\n  type: softmax\n  class_weights: balanced\nevaluation:\n  metrics: [f1]\n`).some(
        (d) => d.severity === 'error',
      ),
    );
    assert.ok(
      diagnose(`${HEADER}loss:\n  type: softmax\n  class_weights: inverse\n`).some(
        (d) => d.severity === 'error' && /class_weights/.test(d.message),
      ),
    );
  });

  it('rejects crf for a task other than token classification', () => {
    const mismatch = diagnose('task: classification\nmodel:\n  base: x\ndata:\n  train: data/ner.jsonl\nloss:\n  type: crf\n').find(
      (d) => d.code === 'loss-task-mismatch',
    );
    assert.match(mismatch!.message, /Loss "crf" does not fit the classification task/);
  });
});
