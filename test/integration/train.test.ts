import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import eventsSchema from '../../schemas/events.schema.json';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { readSafetensors, writeSafetensors } from '../../src/trainer/model/safetensors';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');
const TRAIN = readFileSync(resolve(__dirname, '../../examples/retrieval/data/train.jsonl'), 'utf8').split('\n').slice(0, 96).join('\n');
const VALIDATION = readFileSync(resolve(__dirname, '../../examples/retrieval/data/validation.jsonl'), 'utf8')
  .split('\n')
  .slice(0, 24)
  .join('\n');
const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(eventsSchema);

function config(extra = ''): string {
  return `name: tiny
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: query, positive: passage}
strategy:
  type: full
training:
  epochs: 2
  batch_size: 32
  learning_rate: 0.001
  warmup: 1
evaluation:
  every: 3
  metrics: [ndcg@10, mrr@10]
checkpoints:
  every: 3
  keep: 10
output_dir: runs
${extra}`;
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

function train(cwd: string, args: string[] = []) {
  return spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml', ...args], { cwd, encoding: 'utf8', timeout: 240_000 });
}

function workspaceWith(text: string): TempWorkspace {
  const workspace = new TempWorkspace();
  buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64 });
  workspace.write('data/train.jsonl', `${TRAIN}\n`);
  workspace.write('data/validation.jsonl', `${VALIDATION}\n`);
  workspace.write('run.embedtune.yaml', text);
  return workspace;
}

describe('embedtune train as a real child process', () => {
  let workspace: TempWorkspace;
  let runDir: string;
  let result: ReturnType<typeof train>;

  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    workspace = workspaceWith(config());
    result = train(workspace.root);
    runDir = onlyRun(workspace.root);
  });
  after(() => workspace.dispose());

  it('finishes, and every event it writes validates against schemas/events.schema.json', () => {
    assert.equal(result.status, 0, result.stderr + result.stdout);
    const events = eventsOf(runDir);
    for (const event of events) assert.ok(validateEvent(event), `${JSON.stringify(event)}: ${JSON.stringify(validateEvent.errors)}`);
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i),
    );
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'run_started');
    assert.equal(types.at(-1), 'run_finished');
    const started = events[0] as Extract<RunEvent, { type: 'run_started' }>;
    assert.equal(started.backend, 'wasm');
    assert.match(started.backend_reason, /tfjs-node not installed/);
    assert.deepEqual([started.steps_per_epoch, started.total_steps, started.dataset.train_rows], [3, 6, 96]);
    assert.equal(started.trainable_parameters, started.total_parameters);
    const finished = events.at(-1) as Extract<RunEvent, { type: 'run_finished' }>;
    assert.equal(finished.reason, 'completed');
    assert.equal(finished.step, 6);
  });

  it('evaluates before training and at each interval, and checkpoints on the same steps', () => {
    const events = eventsOf(runDir);
    assert.deepEqual(
      events.filter((e) => e.type === 'eval').map((e) => (e as { step: number }).step),
      [0, 3, 6],
    );
    assert.deepEqual(
      events.filter((e) => e.type === 'checkpoint').map((e) => (e as { path: string }).path),
      ['checkpoints/step-3', 'checkpoints/step-6'],
    );
    const progress = events.filter((e) => e.type === 'progress') as Extract<RunEvent, { type: 'progress' }>[];
    assert.ok(progress.length > 0 && progress.every((p) => p.loss !== null && p.loss > 0 && p.examples_per_second > 0));
  });

  it('writes complete checkpoints, a best pointer, and a sentence-transformers folder', () => {
    assert.deepEqual(readdirSync(join(runDir, 'checkpoints')).sort(), ['step-3', 'step-6']);
    for (const step of ['step-3', 'step-6']) {
      const folder = join(runDir, 'checkpoints', step);
      for (const file of ['encoder.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'config.json', 'tokenizer.json'])
        assert.ok(existsSync(join(folder, file)), `${step}/${file}`);
    }
    assert.match(readFileSync(join(runDir, 'best'), 'utf8'), /^checkpoints\/step-[36]\n$/);
    for (const file of [
      'config.json',
      'model.safetensors',
      'modules.json',
      'sentence_bert_config.json',
      '1_Pooling/config.json',
      'tokenizer.json',
      'README.md',
    ]) {
      assert.ok(existsSync(join(runDir, 'model', file)), `model/${file}`);
    }
    assert.ok(existsSync(join(runDir, 'config.resolved.yaml')));
    assert.equal(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).state, 'finished');
  });

  it('encodes text with a checkpoint and with the exported model to the same vectors, and evaluates the export to the final metrics', () => {
    workspace.write('texts.txt', 'how do I reset my password\nwhat is the capital of France\n\n');
    const run = (args: string[]) =>
      spawnSync(process.execPath, [CLI, ...args], { cwd: workspace.root, encoding: 'utf8', timeout: 120_000 });
    const best = readFileSync(join(runDir, 'best'), 'utf8').trim();
    for (const [model, out] of [
      [join(runDir, best), 'a.jsonl'],
      [join(runDir, 'model'), 'b.jsonl'],
    ] as const) {
      const result = run(['encode', model, '--in', 'texts.txt', '--out', out]);
      assert.equal(result.status, 0, result.stderr);
    }
    const read = (file: string) =>
      readFileSync(workspace.path(file), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { text: string; embedding: number[] });
    const [a, b] = [read('a.jsonl'), read('b.jsonl')];
    assert.deepEqual(
      a.map((row) => row.text),
      ['how do I reset my password', 'what is the capital of France', ''],
    );
    assert.equal(a[0]!.embedding.length, 32);
    a.forEach((row, i) => row.embedding.forEach((x, j) => assert.ok(Math.abs(x - b[i]!.embedding[j]!) < 1e-6)));

    const evaluated = run(['eval', join(runDir, 'model'), '--config', 'run.embedtune.yaml']);
    assert.equal(evaluated.status, 0, evaluated.stderr);
    const report = JSON.parse(evaluated.stdout) as { metrics: Record<string, number> };
    const bestStep = Number(best.replace('checkpoints/step-', ''));
    const bestEval = eventsOf(runDir).find((e) => e.type === 'eval' && e.step === bestStep) as Extract<RunEvent, { type: 'eval' }>;
    assert.ok(
      Math.abs(report.metrics['ndcg@10']! - bestEval.metrics['ndcg@10']!) < 1e-6,
      `${report.metrics['ndcg@10']} vs ${bestEval.metrics['ndcg@10']}`,
    );
    assert.ok(existsSync(join(runDir, 'model', 'eval_results.json')));

    const exported = run(['export', join(runDir, 'checkpoints', 'step-3'), '--out', 'exported']);
    assert.equal(exported.status, 0, exported.stderr);
    assert.ok(existsSync(workspace.path('exported/model.safetensors')));
    assert.equal(run(['export', workspace.root, '--out', 'x']).status, 1, 'a folder that is not a checkpoint is refused');
  });

  it('resumed from a middle checkpoint, reaches exactly the weights of the run that was never stopped', () => {
    const copy = workspaceWith(config());
    try {
      const resumedRun = join(copy.root, 'runs', 'resumed');
      mkdirSync(join(resumedRun, 'checkpoints'), { recursive: true });
      cpSync(join(runDir, 'checkpoints', 'step-3'), join(resumedRun, 'checkpoints', 'step-3'), { recursive: true });
      const resumed = train(copy.root, ['--resume', join(resumedRun, 'checkpoints', 'step-3')]);
      assert.equal(resumed.status, 0, resumed.stderr + resumed.stdout);
      const expected = readSafetensors(join(runDir, 'checkpoints', 'step-6', 'encoder.safetensors')).tensors;
      const actual = readSafetensors(join(resumedRun, 'checkpoints', 'step-6', 'encoder.safetensors')).tensors;
      for (const [name, tensor] of expected) assert.deepEqual(actual.get(name)!.data, tensor.data, `${name} differs after resume`);
      const events = eventsOf(resumedRun);
      assert.equal((events[0] as { resumed_from?: string }).resumed_from, 'checkpoints/step-3');
    } finally {
      copy.dispose();
    }
  });
});

describe('stopping a run', () => {
  it('on SIGTERM finishes the step, writes a checkpoint, and resumes with --resume latest', async () => {
    const workspace = workspaceWith(config().replace('epochs: 2', 'epochs: 50'));
    try {
      const child = spawn(process.execPath, [CLI, 'train', 'run.embedtune.yaml', '--events', 'stdout'], { cwd: workspace.root });
      let stdout = '';
      const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
      await new Promise<void>((resolveProgress) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('"type":"progress"')) resolveProgress();
        });
      });
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      const events = eventsOf(onlyRun(workspace.root));
      const finished = events.at(-1) as Extract<RunEvent, { type: 'run_finished' }>;
      assert.equal(finished.reason, 'stopped');
      const last = events.filter((e) => e.type === 'checkpoint').at(-1) as Extract<RunEvent, { type: 'checkpoint' }>;
      assert.equal(last.reason, 'stop');
      assert.equal(last.step, finished.step);
      assert.ok(finished.step < 150, 'it stopped long before the end');

      workspace.write(
        'run.embedtune.yaml',
        config().replace('epochs: 2', 'epochs: 50').replace('every: 3\n  metrics', 'every: 50\n  metrics'),
      );
      const resumed = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml', '--resume', 'latest'], {
        cwd: workspace.root,
        encoding: 'utf8',
        timeout: 10_000,
        killSignal: 'SIGTERM',
      });
      const after = eventsOf(onlyRun(workspace.root));
      const restarted = after.filter((e) => e.type === 'run_started').at(-1) as Extract<RunEvent, { type: 'run_started' }>;
      assert.equal(restarted.resumed_from, last.path, resumed.stderr);
    } finally {
      workspace.dispose();
    }
  });

  it('killed outright, never leaves a half-written checkpoint', async () => {
    // Early stopping, on by default, could end the run before the kills land.
    const workspace = workspaceWith(
      config('early_stopping:\n  enabled: false\n')
        .replace('epochs: 2', 'epochs: 50')
        .replace('checkpoints:\n  every: 3', 'checkpoints:\n  every: 1')
        .replace('every: 3\n  metrics', 'every: 1\n  metrics'),
    );
    try {
      // Kill while checkpoints are being written, whatever the machine's speed: each run is killed a little after
      // its first checkpoint folder appears, at a different offset, so the kill lands at different points of a save.
      const checkpointFolders = () =>
        existsSync(join(workspace.root, 'runs'))
          ? readdirSync(join(workspace.root, 'runs')).flatMap((run) => {
              const folder = join(workspace.root, 'runs', run, 'checkpoints');
              return existsSync(folder) ? readdirSync(folder).map((name) => join(folder, name)) : [];
            })
          : [];
      for (const offsetMs of [0, 40, 120]) {
        const before = checkpointFolders().length;
        const child = spawn(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], { cwd: workspace.root });
        const exited = new Promise((r) => child.on('exit', r));
        const deadline = Date.now() + 120_000;
        while (checkpointFolders().length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, offsetMs));
        child.kill('SIGKILL');
        await exited;
      }
      const complete = checkpointFolders().filter((path) => /step-\d+$/.test(path));
      assert.ok(complete.length > 0, 'no checkpoint was ever completed, so the kills proved nothing');
      for (const path of complete) {
        const state = JSON.parse(readFileSync(join(path, 'trainer_state.json'), 'utf8'));
        assert.equal(`step-${state.step}`, path.split('/').at(-1));
        readSafetensors(join(path, 'encoder.safetensors'));
        readSafetensors(join(path, 'optimizer.safetensors'));
      }
    } finally {
      workspace.dispose();
    }
  });
});

describe('bad input', () => {
  it('a config with errors is refused with file:line messages and no run folder', () => {
    const workspace = workspaceWith(config().replace('learning_rate: 0.001', 'lerning_rate: 0.001'));
    try {
      const result = train(workspace.root);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /run\.embedtune\.yaml:14:3 error unknown-key Unknown key "lerning_rate"/);
      assert.ok(!existsSync(join(workspace.root, 'runs')));
    } finally {
      workspace.dispose();
    }
  });

  it('a malformed data row stops the run with the file and line, or is skipped and counted', () => {
    const workspace = workspaceWith(config());
    try {
      // The validator sees a missing value before training starts…
      workspace.write('data/train.jsonl', `${TRAIN}\n{"query": "only a query"}\n`);
      const refused = train(workspace.root);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /run\.embedtune\.yaml:6:10 error data-bad-row .*"data\/train\.jsonl" have no "passage" .*line 97/);
      // …and a value of the wrong type too, by the trainer's own row rule, with the line.
      workspace.write('data/train.jsonl', `${TRAIN}\n{"query": "a query", "passage": {"text": "nested"}}\n`);
      const failed = train(workspace.root);
      assert.equal(failed.status, 1);
      assert.match(
        failed.stderr,
        /run\.embedtune\.yaml:6:10 error data-bad-row .*line 97 column "passage" \(data\.columns\.positive\) is an object, not text/,
      );
      workspace.write('run.embedtune.yaml', config().replace('data:\n', 'data:\n  on_bad_row: skip\n').replace('epochs: 2', 'epochs: 1'));
      const skipped = train(workspace.root);
      assert.equal(skipped.status, 0, skipped.stderr);
      const runs = readdirSync(join(workspace.root, 'runs'));
      const started = eventsOf(join(workspace.root, 'runs', runs.at(-1)!))[0] as Extract<RunEvent, { type: 'run_started' }>;
      assert.equal(started.dataset.skipped_rows, 1);
    } finally {
      workspace.dispose();
    }
  });
});

describe('training a classifier', () => {
  it('trains a head with focal loss, reports the confusion matrix, and exports the head with the model', () => {
    const workspace = new TempWorkspace();
    try {
      buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64 });
      const tickets = readFileSync(resolve(__dirname, '../../examples/classification/data/tickets.tsv'), 'utf8');
      workspace.write('data/tickets.tsv', tickets);
      workspace.write(
        'run.embedtune.yaml',
        `task: classification
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: data/tickets.tsv
  validation_split: 0.2
strategy:
  type: full
loss:
  type: focal
  gamma: 2
  alpha: [1.5, 1.0, 0.75, 2.5]
training:
  epochs: 2
  batch_size: 32
  learning_rate: 0.002
evaluation:
  every: epoch
  metrics: [accuracy, f1]
  primary: f1
output_dir: runs
`,
      );
      const result = train(workspace.root);
      assert.equal(result.status, 0, result.stderr + result.stdout);
      const runDir = onlyRun(workspace.root);
      const events = eventsOf(runDir);
      for (const event of events) assert.ok(validateEvent(event), JSON.stringify(validateEvent.errors));
      const evals = events.filter((e): e is Extract<RunEvent, { type: 'eval' }> => e.type === 'eval');
      assert.equal(evals.length, 3);
      const last = evals.at(-1)!;
      assert.deepEqual(last.confusion_matrix?.labels, ['account', 'billing', 'bug', 'feature_request']);
      const rows = last.confusion_matrix!.matrix.flat().reduce((sum, n) => sum + n, 0);
      assert.equal(rows, (events[0] as Extract<RunEvent, { type: 'run_started' }>).dataset.validation_rows);
      assert.ok(typeof last.metrics['accuracy'] === 'number');
      assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'model', 'classifier', 'config.json'), 'utf8')).labels, [
        'account',
        'billing',
        'bug',
        'feature_request',
      ]);
    } finally {
      workspace.dispose();
    }
  });
});

describe('a diverging run', () => {
  it('stops with an error event when the loss is not finite, and keeps no checkpoint of the bad weights', () => {
    const workspace = workspaceWith(config());
    try {
      const weightsPath = workspace.path('tiny/model.safetensors');
      const weights = readSafetensors(weightsPath).tensors;
      const poisoned = new Map(weights);
      const layerNorm = weights.get('embeddings.LayerNorm.weight')!;
      poisoned.set('embeddings.LayerNorm.weight', { ...layerNorm, data: new Float32Array(layerNorm.data.length).fill(Number.NaN) });
      writeSafetensors(weightsPath, poisoned);
      const result = train(workspace.root);
      assert.equal(result.status, 1);
      assert.match(
        result.stderr,
        /The loss became NaN at step 1; training stopped and no checkpoint had been saved yet, so there is nothing to resume from or export\./,
      );
      const events = eventsOf(onlyRun(workspace.root));
      assert.equal(events.at(-2)?.type, 'error');
      assert.equal((events.at(-1) as Extract<RunEvent, { type: 'run_finished' }>).reason, 'failed');
      assert.ok(!events.some((e) => e.type === 'checkpoint'));
    } finally {
      workspace.dispose();
    }
  });
});

describe('training with LoRA', () => {
  it('trains only A and B, merges them on export exactly, and writes the adapter in PEFT layout', () => {
    const workspace = workspaceWith(
      config()
        .replace('strategy:\n  type: full', 'strategy:\n  type: lora\n  lora:\n    r: 4\n    alpha: 8\n    targets: [query, value, dense]')
        .replace('learning_rate: 0.001', 'learning_rate: 0.01'),
    );
    try {
      const result = train(workspace.root);
      assert.equal(result.status, 0, result.stderr + result.stdout);
      const runDir = onlyRun(workspace.root);
      const started = eventsOf(runDir)[0] as Extract<RunEvent, { type: 'run_started' }>;
      // 2 layers × (query, value, 3 dense) × (A + B); B starts at zero, and only A and B train.
      assert.ok(started.trainable_parameters > 0 && started.trainable_parameters < started.total_parameters / 5, JSON.stringify(started));
      const base = readSafetensors(workspace.path('tiny/model.safetensors')).tensors;
      const trained = readSafetensors(join(runDir, 'checkpoints', 'step-6', 'encoder.safetensors')).tensors;
      assert.deepEqual(
        trained.get('embeddings.word_embeddings.weight')!.data,
        base.get('embeddings.word_embeddings.weight')!.data,
        'base weights are untouched',
      );
      const loraB = trained.get('encoder.layer.0.attention.self.query.lora_B.weight')!;
      assert.ok(
        Array.from(loraB.data as Float32Array).some((x) => x !== 0),
        'B moved away from zero',
      );

      const run = (args: string[]) =>
        spawnSync(process.execPath, [CLI, ...args], { cwd: workspace.root, encoding: 'utf8', timeout: 120_000 });
      const checkpoint = join(runDir, 'checkpoints', 'step-6');
      assert.equal(run(['export', checkpoint, '--out', 'adapter', '--adapter-only']).status, 0);
      const adapterConfig = JSON.parse(readFileSync(workspace.path('adapter/adapter_config.json'), 'utf8'));
      assert.deepEqual([adapterConfig.peft_type, adapterConfig.r, adapterConfig.lora_alpha], ['LORA', 4, 8]);
      // The module paths the LoRA weights sit on, as PEFT matches them by suffix: every family's names come out right.
      assert.deepEqual(adapterConfig.target_modules, [
        'attention.output.dense',
        'attention.self.query',
        'attention.self.value',
        'intermediate.dense',
        'output.dense',
      ]);
      const adapter = readSafetensors(workspace.path('adapter/adapter_model.safetensors')).tensors;
      const a = adapter.get('base_model.model.encoder.layer.0.attention.self.query.lora_A.weight')!;
      const b = adapter.get('base_model.model.encoder.layer.0.attention.self.query.lora_B.weight')!;
      assert.deepEqual(
        [a.shape, b.shape],
        [
          [4, 32],
          [32, 4],
        ],
      );

      // The merged export must equal W + (alpha / r)·B·A in PyTorch's [out, in] layout.
      assert.equal(run(['export', checkpoint, '--out', 'merged']).status, 0);
      const merged = readSafetensors(workspace.path('merged/model.safetensors')).tensors.get(
        'encoder.layer.0.attention.self.query.weight',
      )!;
      const w = base.get('encoder.layer.0.attention.self.query.weight')!;
      for (let out = 0; out < 32; out++) {
        for (let input = 0; input < 32; input++) {
          let delta = 0;
          for (let k = 0; k < 4; k++) delta += (b.data as Float32Array)[out * 4 + k]! * (a.data as Float32Array)[k * 32 + input]!;
          const expected = (w.data as Float32Array)[out * 32 + input]! + 2 * delta;
          assert.ok(Math.abs((merged.data as Float32Array)[out * 32 + input]! - expected) < 1e-5, `[${out}, ${input}]`);
        }
      }
      workspace.write('texts.txt', 'a query about passwords\nanother about cooking\n');
      assert.equal(run(['encode', checkpoint, '--in', 'texts.txt', '--out', 'lora.jsonl']).status, 0);
      assert.equal(run(['encode', 'merged', '--in', 'texts.txt', '--out', 'merged.jsonl']).status, 0);
      const read = (file: string) =>
        readFileSync(workspace.path(file), 'utf8')
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { embedding: number[] }).embedding);
      const [withLora, withMerged] = [read('lora.jsonl'), read('merged.jsonl')];
      withLora.forEach((vector, i) => vector.forEach((x, j) => assert.ok(Math.abs(x - withMerged[i]![j]!) < 1e-5)));
    } finally {
      workspace.dispose();
    }
  });
});
