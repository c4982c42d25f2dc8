import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import eventsSchema from '../../schemas/events.schema.json';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { readSafetensors } from '../../src/trainer/model/safetensors';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');
const TRAIN = readFileSync(resolve(__dirname, '../../examples/ner/data/train.jsonl'), 'utf8');
const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(eventsSchema);
const TAGS = ['B-COND', 'B-DOSE', 'B-DRUG', 'I-COND', 'I-DOSE', 'I-DRUG', 'O'];

type Eval = Extract<RunEvent, { type: 'eval' }>;
type Started = Extract<RunEvent, { type: 'run_started' }>;

/**
 * The bundled clinical NER data on a tiny random BERT. Its vocabulary holds most words of the data whole, and
 * leaves the rest (drug names, numbers) to letter pieces, so that words of several pieces are aligned as well.
 * The validation file is the training file: a model that learned anything must beat the untrained one on it.
 */
function config(loss: string): string {
  return `task: token-classification
model:
  base: ./tiny
  max_seq_length: 48
data:
  train: data/train.jsonl
  validation: data/train.jsonl
strategy:
  type: full
loss:
  type: ${loss}
training:
  epochs: 3
  batch_size: 16
  learning_rate: 0.003
  warmup: 0
evaluation:
  every: epoch
  metrics: [f1, precision, recall, accuracy]
checkpoints:
  every: epoch
  keep: 5
output_dir: runs
`;
}

function workspaceFor(loss: string): TempWorkspace {
  const workspace = new TempWorkspace();
  const rows = TRAIN.split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { tokens: string[] });
  const words = [...new Set(rows.flatMap((row) => row.tokens.map((token) => token.toLowerCase())))].filter((word) =>
    /^[a-z]{2,}$/.test(word),
  );
  buildTinyBert(workspace.path('tiny'), {
    layers: 2,
    hidden: 32,
    heads: 4,
    intermediate: 64,
    vocabWords: words.filter((_, i) => i % 4 !== 0),
  });
  workspace.write('data/train.jsonl', TRAIN);
  workspace.write('run.embedtune.yaml', config(loss));
  return workspace;
}

function train(cwd: string, args: string[] = []) {
  return spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml', ...args], { cwd, encoding: 'utf8', timeout: 240_000 });
}

function eventsOf(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
}

function onlyRun(workspaceDir: string): string {
  const runs = readdirSync(join(workspaceDir, 'runs'));
  assert.equal(runs.length, 1, `one run folder, got ${runs.join(', ')}`);
  return join(workspaceDir, 'runs', runs[0]!);
}

describe('embedtune train on token classification with a CRF', () => {
  let workspace: TempWorkspace;
  let result: ReturnType<typeof train>;
  let runDir: string;
  let events: RunEvent[];

  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    workspace = workspaceFor('crf');
    result = train(workspace.root);
    runDir = onlyRun(workspace.root);
    events = eventsOf(runDir);
  });
  after(() => workspace.dispose());

  it('finishes, and every event validates against schemas/events.schema.json', () => {
    assert.equal(result.status, 0, result.stderr + result.stdout);
    for (const event of events) assert.ok(validateEvent(event), `${JSON.stringify(event)}: ${JSON.stringify(validateEvent.errors)}`);
    assert.equal((events.at(-1) as Extract<RunEvent, { type: 'run_finished' }>).reason, 'completed');
  });

  it('counts the emission layer and the CRF among the trainable parameters', () => {
    const started = events[0] as Started;
    const encoder = [...readSafetensors(workspace.path('tiny/model.safetensors')).tensors]
      .filter(([name]) => !name.startsWith('pooler.'))
      .reduce((sum, [, tensor]) => sum + tensor.data.length, 0);
    const k = TAGS.length;
    const head = 32 * k + k + k * k + 2 * k;
    assert.equal(started.task, 'token-classification');
    assert.deepEqual([started.total_parameters, started.trainable_parameters], [encoder + head, encoder + head]);
  });

  it('lowers the loss', () => {
    const losses = events.filter((e): e is Extract<RunEvent, { type: 'progress' }> => e.type === 'progress').map((e) => e.loss!);
    assert.ok(losses.length >= 4, `${losses.length} progress events`);
    const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
    const quarter = Math.max(1, Math.floor(losses.length / 4));
    assert.ok(mean(losses.slice(-quarter)) < 0.7 * mean(losses.slice(0, quarter)), `losses ${losses.map((l) => l.toFixed(2)).join(' ')}`);
  });

  it('reports entity-level F1 at each evaluation, and the trained model beats the untrained one', () => {
    const evals = events.filter((e): e is Eval => e.type === 'eval');
    assert.deepEqual(
      evals.map((e) => e.step),
      [0, 11, 22, 33],
    );
    for (const evaluation of evals) {
      assert.deepEqual(Object.keys(evaluation.metrics).sort(), ['accuracy', 'f1', 'precision', 'recall']);
      assert.equal(evaluation.primary.name, 'f1');
      assert.deepEqual(Object.keys(evaluation.per_class ?? {}).sort(), ['COND', 'DOSE', 'DRUG'], 'scores per entity type');
      assert.deepEqual(evaluation.confusion_matrix?.labels, TAGS);
    }
    const wordCount = TRAIN.split('\n')
      .filter(Boolean)
      .reduce((sum, line) => sum + (JSON.parse(line) as { tokens: string[] }).tokens.length, 0);
    assert.equal(
      evals[0]!.confusion_matrix!.matrix.flat().reduce((sum, n) => sum + n, 0),
      wordCount,
      'one count per word',
    );
    const untrained = evals[0]!.metrics['f1']!;
    const trained = Math.max(...evals.slice(1).map((e) => e.metrics['f1']!));
    assert.ok(trained > untrained + 0.25, `entity F1 ${untrained} before training, ${trained} after`);
    const finished = events.at(-1) as Extract<RunEvent, { type: 'run_finished' }>;
    assert.equal(finished.best_metric?.name, 'f1');
    assert.equal(finished.best_metric?.value, trained);
  });

  it('exports the encoder as a sentence-transformers folder with the emission layer, the CRF and the tags beside it', () => {
    const model = join(runDir, 'model');
    for (const file of [
      'model.safetensors',
      'modules.json',
      'tokenizer.json',
      'token_classifier/config.json',
      'token_classifier/model.safetensors',
    ]) {
      assert.ok(existsSync(join(model, file)), file);
    }
    const headConfig = JSON.parse(readFileSync(join(model, 'token_classifier', 'config.json'), 'utf8'));
    assert.deepEqual(Object.values(headConfig.id2label), TAGS);
    assert.equal(headConfig.crf, true);
    assert.equal(headConfig.word_alignment, 'first_subtoken');
    const tensors = readSafetensors(join(model, 'token_classifier', 'model.safetensors')).tensors;
    assert.deepEqual([...tensors].map(([name, tensor]) => [name, tensor.shape]).sort(), [
      ['classifier.bias', [7]],
      ['classifier.weight', [7, 32]],
      ['crf.end_transitions', [7]],
      ['crf.start_transitions', [7]],
      ['crf.transitions', [7, 7]],
    ]);
    // The export is the best checkpoint's head, transposed to PyTorch's [out, in] layout.
    const best = readFileSync(join(runDir, 'best'), 'utf8').trim();
    const saved = readSafetensors(join(runDir, best, 'encoder.safetensors')).tensors;
    assert.deepEqual(tensors.get('crf.transitions')!.data, saved.get('crf.transitions')!.data);
    const kernel = saved.get('token_classifier.weight')!.data;
    const exported = tensors.get('classifier.weight')!.data;
    for (let h = 0; h < 32; h++) for (let k = 0; k < 7; k++) assert.equal(exported[k * 32 + h], kernel[h * 7 + k]);
  });

  it('resumed from a middle checkpoint, reaches exactly the head, CRF and encoder of the run that was never stopped', () => {
    const copy = workspaceFor('crf');
    try {
      const resumedRun = join(copy.root, 'runs', 'resumed');
      mkdirSync(join(resumedRun, 'checkpoints'), { recursive: true });
      cpSync(join(runDir, 'checkpoints', 'step-22'), join(resumedRun, 'checkpoints', 'step-22'), { recursive: true });
      const resumed = train(copy.root, ['--resume', join(resumedRun, 'checkpoints', 'step-22')]);
      assert.equal(resumed.status, 0, resumed.stderr + resumed.stdout);
      const expected = readSafetensors(join(runDir, 'checkpoints', 'step-33', 'encoder.safetensors')).tensors;
      const actual = readSafetensors(join(resumedRun, 'checkpoints', 'step-33', 'encoder.safetensors')).tensors;
      assert.ok(expected.has('crf.transitions') && expected.has('token_classifier.weight'));
      for (const [name, tensor] of expected) assert.deepEqual(actual.get(name)!.data, tensor.data, `${name} differs after resume`);
    } finally {
      copy.dispose();
    }
  });
});

describe('token classification without a CRF', () => {
  it('trains per-word softmax with balanced tag weights, and also beats the untrained model', () => {
    const workspace = workspaceFor('softmax');
    try {
      workspace.write(
        'run.embedtune.yaml',
        config('softmax').replace('  type: softmax', '  type: softmax\n  class_weights: balanced').replace('epochs: 3', 'epochs: 2'),
      );
      const result = train(workspace.root);
      assert.equal(result.status, 0, result.stderr + result.stdout);
      const runDir = onlyRun(workspace.root);
      const events = eventsOf(runDir);
      for (const event of events) assert.ok(validateEvent(event), JSON.stringify(validateEvent.errors));
      const evals = events.filter((e): e is Eval => e.type === 'eval');
      assert.ok(evals.at(-1)!.metrics['f1']! > evals[0]!.metrics['f1']! + 0.2, evals.map((e) => e.metrics['f1']).join(', '));
      const headConfig = JSON.parse(readFileSync(join(runDir, 'model', 'token_classifier', 'config.json'), 'utf8'));
      assert.equal(headConfig.crf, false);
      assert.ok(!readSafetensors(join(runDir, 'model', 'token_classifier', 'model.safetensors')).tensors.has('crf.transitions'));
    } finally {
      workspace.dispose();
    }
  });
});
