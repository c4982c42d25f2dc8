import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import type { CodeLens } from 'vscode-languageserver-protocol';
import eventsSchema from '../../schemas/events.schema.json';
import type { RunPlan } from '../../src/shared/config/runPlan';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { LspTestClient } from '../helpers/lspTestClient';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { freePort } from '../helpers/freePort';

/**
 * engine: accelerate with several processes, checked for what DistributedDataParallel promises rather than for
 * what the run reports about itself: each rank's own trace (EMBEDTUNE_ACCELERATE_TRACE) shows which rows it trained
 * and a digest of its weights after every step. And the same config without engine.cpu on a machine with no
 * visible GPU (CUDA_VISIBLE_DEVICES hides any this machine has), which must fail at once, written once.
 */

const CLI = resolve(__dirname, '../../dist/cli.js');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
const PYTHON = join(PEERS, 'bin', 'python');
const MODULES = ['torch', 'transformers', 'sentence_transformers', 'accelerate', 'datasets'];
const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(eventsSchema);

const PROCESSES = 2;
const BATCH = 4;
const EPOCHS = 2;
/** Not a multiple of batch × processes: each epoch trains 4 rounds of 2 × 4 rows and leaves 6 rows out. */
const TRAIN_ROWS = 38;
const TRAINED_PER_EPOCH = Math.floor(TRAIN_ROWS / (BATCH * PROCESSES)) * BATCH * PROCESSES;
const STEPS_PER_EPOCH = TRAINED_PER_EPOCH / (BATCH * PROCESSES);

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;
type TraceEntry = { batch: string[] } | { step: number; weights_sha256: string };

function missingPython(): string | undefined {
  if (!existsSync(PYTHON)) return `no Python peers at ${PEERS} (run bench/python/setup, or set EMBEDTUNE_PY_PEERS)`;
  const probe = spawnSync(
    PYTHON,
    ['-c', `import importlib.util as u, sys; print(",".join(m for m in sys.argv[1:] if not u.find_spec(m)))`, ...MODULES],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0) return `${PYTHON} does not run: ${probe.stderr}`;
  const missing = probe.stdout.trim();
  return missing ? `${PYTHON} lacks ${missing} (run bench/python/setup)` : undefined;
}

function anchor(i: number): string {
  return `question number ${i} about topic ${i % 5}`;
}

function jsonl(count: number, make: (i: number) => object): string {
  return Array.from({ length: count }, (_, i) => `${JSON.stringify(make(i))}\n`).join('');
}

function config(port: number, engine: string): string {
  return `model: {base: ./tiny, max_seq_length: 16}
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: q, positive: p}
training: {epochs: ${EPOCHS}, batch_size: ${BATCH}, learning_rate: 0.001}
evaluation: {every: ${STEPS_PER_EPOCH}, metrics: [ndcg@10]}
checkpoints: {every: epoch, keep: 1}
engine: {type: accelerate, num_processes: ${PROCESSES}, main_process_port: ${port}, python: ${JSON.stringify(PYTHON)}${engine}}
output_dir: runs
`;
}

function eventsOf(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
}

function traceOf(runDir: string, rank: number): TraceEntry[] {
  return readFileSync(join(runDir, 'accelerate', `trace-rank-${rank}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TraceEntry);
}

function onlyRun(folder: string): string {
  const runs = readdirSync(folder);
  assert.equal(runs.length, 1, runs.join(', '));
  return join(folder, runs[0]!);
}

/** Events numbered 0, 1, 2… with no repeat, valid against the schema, and exactly one run_finished, the last. */
function assertOneWriter(events: RunEvent[]): Of<'run_finished'> {
  assert.deepEqual(
    events.map((event) => event.seq),
    events.map((_, i) => i),
    'seq is unique and increasing: one process wrote the events',
  );
  for (const event of events) assert.ok(validateEvent(event), `${JSON.stringify(event)}: ${JSON.stringify(validateEvent.errors)}`);
  const finishes = events.filter((event): event is Of<'run_finished'> => event.type === 'run_finished');
  assert.equal(finishes.length, 1, JSON.stringify(finishes));
  assert.equal(events.at(-1), finishes[0]);
  return finishes[0]!;
}

const skip = missingPython();
if (skip) console.log(`# skipped multi-process accelerate tests: ${skip}`);

describe('engine: accelerate on two CPU processes splits each epoch between the ranks', { skip }, () => {
  const workspace = new TempWorkspace();
  let runDir: string;
  let result: ReturnType<typeof spawnSync>;
  let plan: RunPlan;

  before(async () => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
    workspace.write(
      'data/train.jsonl',
      jsonl(TRAIN_ROWS, (i) => ({ q: anchor(i), p: `the answer to ${i} is in passage ${i % 7}` })),
    );
    workspace.write(
      'data/validation.jsonl',
      jsonl(8, (i) => ({ q: `held out ${i}`, p: `held out answer ${i}` })),
    );
    workspace.write('run.embedtune.yaml', config(await freePort(), ', cpu: true'));
    const summary = spawnSync(process.execPath, [CLI, 'validate', '--summary', '--format', 'json', 'run.embedtune.yaml'], {
      cwd: workspace.root,
      encoding: 'utf8',
    });
    assert.equal(summary.status, 0, summary.stderr);
    plan = (JSON.parse(summary.stdout) as { plan: RunPlan }[])[0]!.plan;
    result = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], {
      cwd: workspace.root,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, EMBEDTUNE_ACCELERATE_TRACE: '1' },
    });
    runDir = onlyRun(workspace.path('runs'));
  });
  after(() => workspace.dispose());

  it('completes, with events from one writer: unique increasing seq and one run_finished', () => {
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    const events = eventsOf(runDir);
    assert.equal(assertOneWriter(events).reason, 'completed');
    assert.deepEqual(
      events.filter((event) => event.type === 'error'),
      [],
    );
    // Baseline plus one evaluation per epoch, each once.
    assert.deepEqual(
      events.filter((event): event is Of<'eval'> => event.type === 'eval').map((event) => event.step),
      [0, STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH],
    );
  });

  it('trains, in each epoch, every row at most once over the ranks, summing to the rows the epoch trains', () => {
    const byRank = [0, 1].map((rank) => traceOf(runDir, rank).flatMap((entry) => ('batch' in entry ? [entry.batch] : [])));
    const rows = new Set(Array.from({ length: TRAIN_ROWS }, (_, i) => anchor(i)));
    for (const [rank, batches] of byRank.entries()) {
      assert.equal(batches.length, EPOCHS * STEPS_PER_EPOCH, `rank ${rank} trained ${STEPS_PER_EPOCH} batches an epoch`);
      for (const batch of batches) assert.equal(batch.length, BATCH, `rank ${rank} trains only full batches`);
    }
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      const trained = byRank.flatMap((batches) => batches.slice(epoch * STEPS_PER_EPOCH, (epoch + 1) * STEPS_PER_EPOCH).flat());
      assert.equal(trained.length, TRAINED_PER_EPOCH, `epoch ${epoch + 1}: the ranks' rows sum to the epoch's`);
      assert.equal(new Set(trained).size, trained.length, `epoch ${epoch + 1}: no row trained twice`);
      for (const row of trained) assert.ok(rows.has(row), `${row} is a training row`);
    }
    const finish = eventsOf(runDir).find((event): event is Of<'run_finished'> => event.type === 'run_finished')!;
    assert.deepEqual(
      finish.ranks!.map((rank) => [rank.rank, rank.examples]),
      [
        [0, (EPOCHS * TRAINED_PER_EPOCH) / PROCESSES],
        [1, (EPOCHS * TRAINED_PER_EPOCH) / PROCESSES],
      ],
    );
  });

  it('has the same weights on every rank after every optimizer step, and they change from step to step', () => {
    const digests = [0, 1].map((rank) =>
      traceOf(runDir, rank).flatMap((entry) => ('step' in entry ? [[entry.step, entry.weights_sha256] as const] : [])),
    );
    const steps = Array.from({ length: EPOCHS * STEPS_PER_EPOCH }, (_, i) => i + 1);
    assert.deepEqual(
      digests[0]!.map(([step]) => step),
      steps,
    );
    assert.deepEqual(digests[1], digests[0]);
    assert.equal(new Set(digests[0]!.map(([, digest]) => digest)).size, steps.length, 'every step changed the weights');
  });

  it('trains the steps the dry run (validate --summary) plans, and leaves out the rows it says', () => {
    const started = eventsOf(runDir).find((event): event is Of<'run_started'> => event.type === 'run_started')!;
    assert.equal(plan.stepsPerEpoch, STEPS_PER_EPOCH);
    assert.equal(plan.totalSteps, started.total_steps);
    assert.equal(plan.rowsLeftOutPerEpoch, TRAIN_ROWS - TRAINED_PER_EPOCH);
    const warning = eventsOf(runDir).find(
      (event): event is Of<'log'> => event.type === 'log' && /left out of each epoch/.test(event.message),
    );
    assert.match(warning!.message, new RegExp(`${TRAIN_ROWS - TRAINED_PER_EPOCH} of the ${TRAIN_ROWS} training rows`));
  });
});

describe('engine: accelerate with two GPU processes on a machine with no visible GPU', { skip }, () => {
  const workspace = new TempWorkspace();
  const noGpu = { ...process.env, CUDA_VISIBLE_DEVICES: '' };
  let result: ReturnType<typeof spawnSync>;
  let runDir: string;

  before(async () => {
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
    workspace.write(
      'data/train.jsonl',
      jsonl(TRAIN_ROWS, (i) => ({ q: anchor(i), p: `answer ${i}` })),
    );
    workspace.write(
      'data/validation.jsonl',
      jsonl(8, (i) => ({ q: `held out ${i}`, p: `held out answer ${i}` })),
    );
    workspace.write('run.embedtune.yaml', config(await freePort(), ''));
    result = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], {
      cwd: workspace.root,
      encoding: 'utf8',
      timeout: 240_000,
      env: noGpu,
    });
    runDir = onlyRun(workspace.path('runs'));
  });
  after(() => workspace.dispose());

  it('fails at once with one error that names the cause and the fix, and one failed run_finished', () => {
    assert.equal(result.status, 1, `${result.stdout}${result.stderr}`);
    const events = eventsOf(runDir);
    assert.equal(assertOneWriter(events).reason, 'failed');
    assert.deepEqual(
      events.map((event) => event.type),
      ['error', 'run_finished'],
      'nothing trained, evaluated or saved',
    );
    const error = events[0] as Of<'error'>;
    assert.match(error.message, /accelerate launch started 2 processes, one per GPU, but PyTorch sees no GPU on this machine/);
    assert.match(error.message, /transformers would train every process alone on the CPU, each on all the rows/);
    assert.match(error.message, /Set engine\.cpu: true to train 2 processes on the CPU, or run on a machine with 2 GPUs/);
    const saved = existsSync(join(runDir, 'checkpoints'))
      ? readdirSync(join(runDir, 'checkpoints')).filter((name) => name.startsWith('step-'))
      : [];
    assert.deepEqual(saved, [], 'no process wrote a checkpoint');
  });

  it('is warned about beforehand by embedtune validate on this machine, which offers engine.cpu', () => {
    const validated = spawnSync(process.execPath, [CLI, 'validate', '--format', 'json', 'run.embedtune.yaml'], {
      cwd: workspace.root,
      encoding: 'utf8',
      env: noGpu,
    });
    const diagnostics = JSON.parse(validated.stdout) as { code: string; severity: string; message: string; line: number }[];
    const warning = diagnostics.find((d) => d.code === 'accelerate-processes-exceed-gpus');
    assert.ok(warning, validated.stdout);
    assert.equal(warning.severity, 'warning');
    assert.match(warning.message, /engine\.num_processes 2 .*Set engine\.cpu: true/);
  });

  it('is warned about in the editor too, by the language server on this machine', async () => {
    const previous = process.env['CUDA_VISIBLE_DEVICES'];
    process.env['CUDA_VISIBLE_DEVICES'] = '';
    const client = new LspTestClient();
    try {
      await client.initialize(workspace.root);
      const uri = pathToFileURL(workspace.path('run.embedtune.yaml')).toString();
      const text = readFileSync(workspace.path('run.embedtune.yaml'), 'utf8');
      const published = await client.open(uri, text);
      const warning = published.diagnostics.find((d) => d.code === 'accelerate-processes-exceed-gpus');
      assert.ok(warning, JSON.stringify(published.diagnostics));
      const line = text.split('\n').findIndex((l) => l.startsWith('engine:'));
      assert.equal(warning.range.start.line, line);
      const fixed = await client.change(uri, text.replace('num_processes: 2,', 'num_processes: 2, cpu: true,'));
      assert.deepEqual(
        fixed.diagnostics.filter((d) => d.code === 'accelerate-processes-exceed-gpus'),
        [],
      );
      const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
      assert.match(
        lenses[0]?.command?.title ?? '',
        new RegExp(`· ${STEPS_PER_EPOCH} steps/epoch · ${EPOCHS * STEPS_PER_EPOCH} total .*· 6 rows/epoch left out`),
      );
    } finally {
      await client.dispose();
      if (previous === undefined) delete process.env['CUDA_VISIBLE_DEVICES'];
      else process.env['CUDA_VISIBLE_DEVICES'] = previous;
    }
  });
});
