import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { readSafetensors } from '../../src/trainer/model/safetensors';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');
const EXAMPLES = resolve(__dirname, '../../examples');

type Eval = Extract<RunEvent, { type: 'eval' }>;
interface EvalReport {
  examples: number;
  metrics: Record<string, number | null>;
  confusion_matrix?: { labels: string[]; matrix: number[][] };
  per_class?: Record<string, unknown>;
}

function cli(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 240_000 });
}

function evalEvents(runDir: string): Eval[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent)
    .filter((event): event is Eval => event.type === 'eval');
}

function onlyRun(workspaceDir: string): string {
  const runs = readdirSync(join(workspaceDir, 'runs'));
  assert.equal(runs.length, 1, `one run folder, got ${runs.join(', ')}`);
  return join(workspaceDir, 'runs', runs[0]!);
}

/** `embedtune eval` of a model, which must succeed and print its report. */
function evaluate(cwd: string, model: string, extra: string[] = []): EvalReport {
  const result = cli(cwd, ['eval', model, '--config', 'run.embedtune.yaml', ...extra]);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as EvalReport;
}

/** The report equals what the run's own evaluation reported at that step, on the same rows. */
function assertSameAsRun(report: EvalReport, event: Eval): void {
  assert.deepEqual(Object.keys(report.metrics).sort(), Object.keys(event.metrics).sort());
  for (const [name, value] of Object.entries(event.metrics)) {
    assert.ok(
      value !== null && Math.abs(report.metrics[name]! - value) < 1e-9,
      `${name}: eval ${report.metrics[name]}, run ${value} at step ${event.step}`,
    );
  }
  assert.deepEqual(report.confusion_matrix, event.confusion_matrix);
  assert.deepEqual(report.per_class, event.per_class);
}

/**
 * Trains a tiny BERT on an example's data, then checks that eval and export carry the task head: eval of a
 * checkpoint, of the run's exported model and of a checkpoint exported by `embedtune export` all report what the
 * run reported at the same step.
 */
function describeHeadRoundTrip(
  title: string,
  setup: (workspace: TempWorkspace) => void,
  head: { folder: string; tensors: string[]; labels: (config: Record<string, unknown>) => string[] },
) {
  describe(title, () => {
    let workspace: TempWorkspace;
    let runDir: string;
    let evals: Eval[];

    before(() => {
      assert.ok(existsSync(CLI), 'dist/cli.js is built');
      workspace = new TempWorkspace();
      setup(workspace);
      const trained = cli(workspace.root, ['train', 'run.embedtune.yaml']);
      assert.equal(trained.status, 0, trained.stderr + trained.stdout);
      runDir = onlyRun(workspace.root);
      evals = evalEvents(runDir);
    });
    after(() => workspace.dispose());

    it('evaluates a checkpoint with its head to the metrics the run reported at that step', () => {
      const first = evals.find((event) => event.step > 0)!;
      const checkpoint = join(runDir, 'checkpoints', `step-${first.step}`);
      const report = evaluate(workspace.root, checkpoint);
      assertSameAsRun(report, first);
      // The trained head predicts differently from the untrained one, so matching the run's numbers means its weights were used.
      assert.equal(evals[0]!.step, 0);
      assert.notDeepEqual(first.confusion_matrix, evals[0]!.confusion_matrix);
      assert.deepEqual(JSON.parse(readFileSync(join(checkpoint, 'eval_results.json'), 'utf8')), report);
      // --data names the rows to score; the validation file itself gives the same numbers.
      assertSameAsRun(evaluate(workspace.root, checkpoint, ['--data', 'data/validation.data']), first);
    });

    it("evaluates the run's exported model, head included, to the best checkpoint's metrics", () => {
      assert.ok(existsSync(join(runDir, 'model', head.folder, 'config.json')));
      const bestStep = Number(readFileSync(join(runDir, 'best'), 'utf8').trim().replace('checkpoints/step-', ''));
      assertSameAsRun(evaluate(workspace.root, join(runDir, 'model')), evals.find((event) => event.step === bestStep)!);
    });

    it('exports a checkpoint with its head, in the layout of the final export, and the export evaluates the same', () => {
      const first = evals.find((event) => event.step > 0)!;
      const exported = cli(workspace.root, ['export', join(runDir, 'checkpoints', `step-${first.step}`), '--out', 'exported']);
      assert.equal(exported.status, 0, exported.stderr);
      const out = workspace.path('exported');
      for (const file of [
        'model.safetensors',
        'modules.json',
        'tokenizer.json',
        `${head.folder}/config.json`,
        `${head.folder}/model.safetensors`,
      ])
        assert.ok(existsSync(join(out, file)), file);
      const config = JSON.parse(readFileSync(join(out, head.folder, 'config.json'), 'utf8')) as Record<string, unknown>;
      const final = JSON.parse(readFileSync(join(runDir, 'model', head.folder, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(config, final, 'the same config.json as the final export');
      assert.deepEqual(head.labels(config), first.confusion_matrix!.labels);
      assert.deepEqual([...readSafetensors(join(out, head.folder, 'model.safetensors')).tensors.keys()].sort(), head.tensors);
      assertSameAsRun(evaluate(workspace.root, out), first);
    });

    it('refuses a model without a head, and a checkpoint that does not name its labels, saying what is missing', () => {
      const result = cli(workspace.root, ['eval', 'tiny', '--config', 'run.embedtune.yaml']);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /tiny has no (token-)?classification head/);
      // A checkpoint whose trainer_state.json does not name its head's labels cannot rebuild it, and says so.
      const first = evals.find((event) => event.step > 0)!;
      const unnamed = workspace.path('unnamed/checkpoints/step-1');
      cpSync(join(runDir, 'checkpoints', `step-${first.step}`), unnamed, { recursive: true });
      cpSync(join(runDir, 'config.resolved.yaml'), workspace.path('unnamed/config.resolved.yaml'));
      const state = JSON.parse(readFileSync(join(unnamed, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
      delete state['head'];
      writeFileSync(join(unnamed, 'trainer_state.json'), JSON.stringify(state));
      for (const command of [
        ['eval', unnamed, '--config', 'run.embedtune.yaml'],
        ['export', unnamed, '--out', 'unnamed-export'],
      ]) {
        const refused = cli(workspace.root, command);
        assert.equal(refused.status, 1, refused.stderr);
        assert.match(refused.stderr, /holds a task head's weights, but its trainer_state\.json does not name the head's labels/);
      }
      assert.ok(!existsSync(workspace.path('unnamed-export')), 'nothing is exported');
    });
  });
}

describeHeadRoundTrip(
  'eval and export of a token-classification (CRF) run on the NER example',
  (workspace) => {
    const lines = readFileSync(join(EXAMPLES, 'ner/data/train.jsonl'), 'utf8').split('\n').filter(Boolean);
    const words = [
      ...new Set(lines.flatMap((line) => (JSON.parse(line) as { tokens: string[] }).tokens.map((token) => token.toLowerCase()))),
    ].filter((word) => /^[a-z]{2,}$/.test(word));
    buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64, vocabWords: words });
    workspace.write('data/train.jsonl', `${lines.slice(0, 48).join('\n')}\n`);
    workspace.write('data/validation.data', readFileSync(join(EXAMPLES, 'ner/data/validation.jsonl'), 'utf8'));
    workspace.write(
      'run.embedtune.yaml',
      'task: token-classification\nmodel:\n  base: ./tiny\n  max_seq_length: 48\ndata:\n  train: data/train.jsonl\n  validation: data/validation.data\n  format: jsonl\n' +
        'strategy:\n  type: full\nloss:\n  type: crf\ntraining:\n  epochs: 2\n  batch_size: 16\n  learning_rate: 0.003\n  warmup: 0\n' +
        'evaluation:\n  every: epoch\n  metrics: [f1, precision, recall, accuracy]\ncheckpoints:\n  every: epoch\n  keep: 5\noutput_dir: runs\n',
    );
  },
  {
    folder: 'token_classifier',
    tensors: ['classifier.bias', 'classifier.weight', 'crf.end_transitions', 'crf.start_transitions', 'crf.transitions'],
    labels: (config) => Object.values(config['id2label'] as Record<string, string>),
  },
);

describeHeadRoundTrip(
  'eval and export of a classification run on the ticket example',
  (workspace) => {
    const tickets = readFileSync(join(EXAMPLES, 'classification/data/tickets.tsv'), 'utf8');
    const words = [...new Set(tickets.toLowerCase().split(/[^a-z]+/))].filter((word) => word.length >= 2);
    buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64, vocabWords: words });
    const [header, ...rows] = tickets.split('\n').filter(Boolean);
    workspace.write('data/train.tsv', `${[header, ...rows.slice(0, 150)].join('\n')}\n`);
    workspace.write('data/validation.data', `${[header, ...rows.slice(150)].join('\n')}\n`);
    workspace.write(
      'run.embedtune.yaml',
      'task: classification\nmodel:\n  base: ./tiny\n  max_seq_length: 48\ndata:\n  train: data/train.tsv\n  validation: data/validation.data\n  format: tsv\n  on_bad_row: skip\n' +
        'preprocess:\n  clean:\n    strip_html: true\n' +
        'strategy:\n  type: full\nloss:\n  type: softmax\ntraining:\n  epochs: 2\n  batch_size: 32\n  learning_rate: 0.003\n  warmup: 0\n' +
        'evaluation:\n  every: epoch\n  metrics: [accuracy, f1, precision, recall]\n  primary: f1\ncheckpoints:\n  every: epoch\n  keep: 5\noutput_dir: runs\n',
    );
  },
  {
    folder: 'classifier',
    tensors: ['classifier.bias', 'classifier.weight'],
    labels: (config) => config['labels'] as string[],
  },
);
