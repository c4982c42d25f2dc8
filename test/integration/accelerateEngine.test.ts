import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import eventsSchema from '../../schemas/events.schema.json';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { freePort } from '../helpers/freePort';

/**
 * The accelerate engine end to end: the real CLI launches a real `accelerate launch` with two CPU processes over
 * gloo, training a tiny BERT that this test writes, through sentence-transformers. It needs the Python peers
 * (bench/python/setup: torch, transformers, sentence-transformers, accelerate, datasets); without them it skips and
 * says why.
 */

const CLI = resolve(__dirname, '../../dist/cli.js');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
const PYTHON = join(PEERS, 'bin', 'python');
const MODULES = ['torch', 'transformers', 'sentence_transformers', 'accelerate', 'datasets'];
const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(eventsSchema);

const BATCH = 4;
const ACCUMULATION = 2;
const PROCESSES = 2;
const TRAIN_ROWS = 64;
const EPOCHS = 6;
/** Every optimizer step takes 2 processes × 4 rows × 2 micro-batches = 16 rows; 64 rows make 4 steps an epoch. */
const EFFECTIVE = PROCESSES * BATCH * ACCUMULATION;
const TOTAL_STEPS = (TRAIN_ROWS / EFFECTIVE) * EPOCHS;

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

const WORDS = [
  'apple',
  'river',
  'music',
  'stone',
  'cloud',
  'paper',
  'horse',
  'light',
  'green',
  'table',
  'night',
  'water',
  'field',
  'bird',
  'ship',
  'king',
];

function pairs(count: number, make: (i: number) => { q: string; p: string }): string {
  return `${Array.from({ length: count }, (_, i) => JSON.stringify(make(i))).join('\n')}\n`;
}

function config(port: number): string {
  return `name: accel
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: q, positive: p}
loss:
  type: mnrl
training:
  epochs: ${EPOCHS}
  batch_size: ${BATCH}
  gradient_accumulation_steps: ${ACCUMULATION}
  learning_rate: 0.0005
evaluation:
  every: 2
  metrics: [ndcg@10, mrr@10]
checkpoints:
  every: 2
  keep: 2
# This run is about stopping and resuming: it trains every step (early stopping is on by default).
early_stopping:
  enabled: false
engine:
  type: accelerate
  cpu: true
  num_processes: ${PROCESSES}
  main_process_port: ${port}
  python: ${JSON.stringify(PYTHON)}
output_dir: runs
`;
}

function eventsOf(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
}

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** Processes whose command line names this run's launch plan: the launcher and its workers. */
function trainingProcesses(runDir: string): number[] {
  const plan = join(runDir, 'accelerate', 'launch.json');
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(plan)) found.push(Number(name));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

const skip = missingPython();
if (skip) console.log(`# skipped accelerate engine tests: ${skip}`);

describe('engine: accelerate, as a real two-process CPU job', { skip }, () => {
  const workspace = new TempWorkspace();
  let runDir: string;
  let stopped: {
    code: number | null;
    signal: NodeJS.Signals | null;
    output: string;
    pid: number;
    checkpoints: string[];
    processesLeft: number[];
  };
  let resumed: ReturnType<typeof spawnSync>;

  before(async () => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64 });
    workspace.write(
      'data/train.jsonl',
      pairs(TRAIN_ROWS, (i) => ({
        q: `what is ${WORDS[i % 16]} ${WORDS[(i * 7) % 16]} number ${i}`,
        p: `the ${WORDS[i % 16]} and ${WORDS[(i * 7) % 16]} passage ${i}`,
      })),
    );
    workspace.write(
      'data/validation.jsonl',
      pairs(16, (i) => ({ q: `find ${WORDS[i]} ${WORDS[(i * 3) % 16]} ${i}`, p: `a ${WORDS[i]} with ${WORDS[(i * 3) % 16]} text ${i}` })),
    );
    workspace.write('run.embedtune.yaml', config(await freePort()));

    // First run: stopped with SIGTERM, as the editor's Stop does, once it has written a checkpoint.
    const child = spawn(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], { cwd: workspace.root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
      child.once('exit', (code, signal) => resolveExit({ code, signal })),
    );
    const deadline = Date.now() + 150_000;
    let signalled = false;
    while (Date.now() < deadline && child.exitCode === null) {
      const runs = existsSync(workspace.path('runs')) ? readdirSync(workspace.path('runs')) : [];
      const events =
        runs.length === 1 && existsSync(workspace.path(`runs/${runs[0]}/events.jsonl`))
          ? readFileSync(workspace.path(`runs/${runs[0]}/events.jsonl`), 'utf8')
          : '';
      if (events.includes('"type": "checkpoint"')) {
        child.kill('SIGTERM');
        signalled = true;
        break;
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    if (!signalled) child.kill('SIGKILL');
    const exit = await exited;
    assert.ok(signalled, `the run wrote no checkpoint in time:\n${output}`);
    runDir = workspace.path(`runs/${readdirSync(workspace.path('runs'))[0]}`);
    // Looked at now: the resumed run prunes old checkpoints.
    const complete = readdirSync(join(runDir, 'checkpoints')).filter((name) =>
      existsSync(join(runDir, 'checkpoints', name, 'trainer_state.json')),
    );
    stopped = { ...exit, output, pid: child.pid!, checkpoints: complete, processesLeft: trainingProcesses(runDir) };

    // Second run: resumes the stopped run folder and trains to the end.
    resumed = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml', '--resume', runDir], {
      cwd: workspace.root,
      encoding: 'utf8',
      timeout: 240_000,
    });
  });
  after(() => workspace.dispose());

  it('stops on SIGTERM: every process ends after a final checkpoint from the main rank', () => {
    assert.equal(stopped.code, 0, stopped.output);
    const events = eventsOf(runDir);
    const finish = events.filter((event): event is Of<'run_finished'> => event.type === 'run_finished')[0]!;
    assert.equal(finish.reason, 'stopped', stopped.output);
    const last = events
      .filter((event): event is Of<'checkpoint'> => event.type === 'checkpoint')
      .filter((event) => event.seq < finish.seq)
      .at(-1)!;
    assert.equal(last.reason, 'stop');
    assert.equal(last.step, finish.step);
    assert.ok(finish.step < TOTAL_STEPS, `stopped at step ${finish.step} of ${TOTAL_STEPS}`);
    assert.ok(stopped.checkpoints.includes(last.path.replace('checkpoints/', '')), `${last.path} is complete`);
    assert.deepEqual(stopped.processesLeft, [], 'no launcher or worker process is left');
  });

  it('resumes from the stopped checkpoint and trains to the end', () => {
    assert.equal(resumed.status, 0, `${resumed.stderr}${resumed.stdout}`);
    const events = eventsOf(runDir);
    const starts = events.filter((event): event is Of<'run_started'> => event.type === 'run_started');
    const finishes = events.filter((event): event is Of<'run_finished'> => event.type === 'run_finished');
    assert.equal(starts.length, 2);
    assert.equal(finishes.length, 2);
    const stoppedAt = finishes[0]!.step;
    assert.equal(starts[1]!.resumed_from, `checkpoints/step-${stoppedAt}`);
    const progressAfter = events.filter((event): event is Of<'progress'> => event.type === 'progress' && event.seq > starts[1]!.seq);
    assert.equal(progressAfter[0]!.step, stoppedAt + 1, 'the resumed run continues with the next step');
    assert.equal(finishes[1]!.reason, 'completed');
    assert.equal(finishes[1]!.step, TOTAL_STEPS);
  });

  it('writes only events that validate against schemas/events.schema.json, numbered across the resume', () => {
    const events = eventsOf(runDir);
    for (const event of events) assert.ok(validateEvent(event), `${JSON.stringify(event)}: ${JSON.stringify(validateEvent.errors)}`);
    assert.deepEqual(
      events.map((event) => event.seq),
      events.map((_, i) => i),
    );
    assert.ok(
      events.every((event) => event.type !== 'error'),
      JSON.stringify(events.filter((event) => event.type === 'error')),
    );
  });

  it('trains on both ranks with an effective batch of processes × batch_size × accumulation', () => {
    const events = eventsOf(runDir);
    for (const started of events.filter((event): event is Of<'run_started'> => event.type === 'run_started')) {
      assert.equal(started.engine, 'accelerate');
      assert.equal(started.num_processes, PROCESSES);
      assert.equal(started.effective_batch_size, EFFECTIVE);
      assert.equal(started.total_steps, TOTAL_STEPS);
      assert.match(started.backend_reason, /gloo/);
    }
    const finishes = events.filter((event): event is Of<'run_finished'> => event.type === 'run_finished');
    let previousStep = 0;
    for (const finish of finishes) {
      const ranks = finish.ranks!;
      assert.deepEqual(
        ranks.map((rank) => rank.rank),
        [0, 1],
      );
      const steps = finish.step - previousStep;
      for (const rank of ranks) {
        assert.equal(rank.batches, steps * ACCUMULATION, `rank ${rank.rank} ran ${ACCUMULATION} micro-batches per step`);
        assert.equal(rank.examples, steps * BATCH * ACCUMULATION, `rank ${rank.rank} trained ${BATCH} rows per micro-batch`);
      }
      assert.equal(
        ranks.reduce((sum, rank) => sum + rank.examples, 0),
        steps * EFFECTIVE,
      );
      previousStep = finish.step;
    }
  });

  it('keeps checkpoints in the tfjs layout: the newest checkpoints.keep plus the best, a best pointer, and a model folder', () => {
    const names = readdirSync(join(runDir, 'checkpoints')).filter((name) => name.startsWith('step-'));
    const best = readFileSync(join(runDir, 'best'), 'utf8').trim();
    assert.match(best, /^checkpoints\/step-\d+$/);
    const expected = new Set([`step-${TOTAL_STEPS - 2}`, `step-${TOTAL_STEPS}`, best.replace('checkpoints/', '')]);
    assert.deepEqual(names.sort(), [...expected].sort());
    for (const name of names) {
      for (const file of [
        'trainer_state.json',
        'embedtune_state.json',
        'model.safetensors',
        'optimizer.pt',
        'rng_state_0.pth',
        'rng_state_1.pth',
        'modules.json',
      ]) {
        assert.ok(existsSync(join(runDir, 'checkpoints', name, file)), `${name}/${file}`);
      }
    }
    const events = eventsOf(runDir);
    const saved = events.filter((event): event is Of<'checkpoint'> => event.type === 'checkpoint');
    const stop = saved.find((event) => event.reason === 'stop')!;
    const everySecondStep = Array.from({ length: TOTAL_STEPS / 2 }, (_, i) => 2 * (i + 1)).filter((step) => step !== stop.step);
    assert.deepEqual(
      saved.filter((event) => event !== stop).map((event) => [event.step, event.reason]),
      everySecondStep.map((step) => [step, 'interval']),
      'checkpoints.every 2, plus the one the stop wrote',
    );
    for (const file of ['modules.json', 'model.safetensors', 'config_sentence_transformers.json', '1_Pooling/config.json'])
      assert.ok(existsSync(join(runDir, 'model', file)), `model/${file}`);
    const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { state: string; pid: number };
    assert.equal(info.state, 'finished');
    assert.equal(info.pid, resumed.pid, 'run.json names the CLI, which the editor signals to stop the run');
  });

  it("evaluates the best checkpoint with the CLI (the checkpoints panel's Evaluate) to the metrics the run logged", () => {
    const best = readFileSync(join(runDir, 'best'), 'utf8').trim();
    const step = Number(best.replace('checkpoints/step-', ''));
    const logged = eventsOf(runDir).find((event): event is Of<'eval'> => event.type === 'eval' && event.step === step)!;
    const result = spawnSync(process.execPath, [CLI, 'eval', join(runDir, best), '--config', 'run.embedtune.yaml'], {
      cwd: workspace.root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { metrics: Record<string, number> };
    for (const [name, value] of Object.entries(logged.metrics))
      assert.ok(Math.abs(report.metrics[name]! - value!) < 1e-4, `${name}: ${report.metrics[name]} vs ${value}`);
  });
});

describe('engine: accelerate, when the launch fails', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  function failingRun(python: string) {
    const dir = `case-${python.replace(/\W+/g, '-')}`;
    buildTinyBert(workspace.path(`${dir}/tiny`), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
    workspace.write(
      `${dir}/data/train.jsonl`,
      pairs(8, (i) => ({ q: `question ${i}`, p: `answer ${i}` })),
    );
    workspace.write(
      `${dir}/run.embedtune.yaml`,
      `model: {base: ./tiny}\ndata: {train: data/train.jsonl, columns: {anchor: q, positive: p}}\nengine: {type: accelerate, python: ${JSON.stringify(python)}}\n`,
    );
    const result = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], {
      cwd: workspace.path(dir),
      encoding: 'utf8',
      timeout: 60_000,
    });
    const runs = readdirSync(workspace.path(`${dir}/runs`));
    assert.equal(runs.length, 1);
    return { result, runDir: workspace.path(`${dir}/runs/${runs[0]}`) };
  }

  it('reports an interpreter that cannot start as a failed run, in the events the editor reads', () => {
    const { result, runDir } = failingRun('/nonexistent/bin/python');
    assert.equal(result.status, 1);
    const events = eventsOf(runDir);
    for (const event of events) assert.ok(validateEvent(event), JSON.stringify(validateEvent.errors));
    const error = events.find((event): event is Of<'error'> => event.type === 'error')!;
    assert.match(error.message, /Could not start \/nonexistent\/bin\/python.*engine\.python/s);
    assert.equal((events.at(-1) as Of<'run_finished'>).reason, 'failed');
    assert.equal(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).state, 'finished');
  });

  it('reports a launcher that exits before training with its exit code and last output lines', () => {
    const { result, runDir } = failingRun(process.execPath);
    assert.equal(result.status, 1);
    assert.match(result.stdout + result.stderr, /accelerate launch ended \(exit code \d+\) before the run finished/);
    const events = eventsOf(runDir);
    const error = events.find((event): event is Of<'error'> => event.type === 'error')!;
    // Node.js, given Python's -m flag, exits with its own complaint: the error event carries it.
    assert.match(error.message, /exit code 9.*bad option: -m/s);
    assert.deepEqual(
      events.map((event) => event.type),
      ['error', 'run_finished'],
    );
  });
});

describe('engine: accelerate, what the launcher prints', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('reaches the terminal with its control characters escaped, line by line, a last line without newline included', () => {
    // A launcher that prints what a hostile data row could hold: a clear-screen, a title change, a bare carriage return.
    const launcher = workspace.write(
      'launcher.sh',
      "#!/bin/sh\nprintf 'out\\033[2Jcleared\\nfaked\\roverwritten\\n'\nprintf 'err\\033]0;title\\007tail' >&2\nexit 3\n",
    );
    chmodSync(launcher, 0o755);
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
    workspace.write(
      'data/train.jsonl',
      pairs(8, (i) => ({ q: `question ${i}`, p: `answer ${i}` })),
    );
    workspace.write(
      'run.embedtune.yaml',
      `model: {base: ./tiny}\ndata: {train: data/train.jsonl, columns: {anchor: q, positive: p}}\nengine: {type: accelerate, python: ${JSON.stringify(launcher)}}\n`,
    );
    const result = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], {
      cwd: workspace.root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 1);
    assert.ok(!/[\u001b\u0007\r]/.test(result.stdout + result.stderr), JSON.stringify(result.stdout + result.stderr));
    assert.match(result.stdout, /^out\\u001b\[2Jcleared\nfaked\\u000doverwritten\n/m);
    assert.match(result.stderr, /err\\u001b\]0;title\\u0007tail/);
  });
});

describe("the accelerate engine's Python event writer", () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('continues seq after a resume, ends a half-written line first, and writes null for NaN, as the TypeScript writer does', () => {
    const log = workspace.write(
      'events.jsonl',
      `${JSON.stringify({ type: 'log', time: '2025-01-01T00:00:00.000Z', run_id: 'r', seq: 0, level: 'info', message: 'x' })}\n{"type": "progr`,
    );
    const script = [
      'import sys',
      'from embedtune_accelerate.event_log import EventLog',
      'log = EventLog(sys.argv[1], "r")',
      'log.write("progress", step=1, epoch=0.5, loss=float("nan"), lr=1e-4, examples_per_second=3.0, eta_seconds=None, memory_mb={"rss": 10.0})',
      'log.write("log", level="warning", message="ünïcode")',
      'log.close()',
    ].join('\n');
    const result = spawnSync('python3', ['-c', script, log], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: resolve(__dirname, '../../python'), PYTHONDONTWRITEBYTECODE: '1' },
    });
    assert.equal(result.status, 0, result.stderr);
    const lines = readFileSync(log, 'utf8').split('\n');
    assert.equal(lines[1], '{"type": "progr', 'the half-written line is left alone and ended');
    const written = lines
      .slice(2)
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RunEvent);
    assert.deepEqual(
      written.map((event) => event.seq),
      [1, 2],
    );
    for (const event of written) assert.ok(validateEvent(event), JSON.stringify(validateEvent.errors));
    assert.equal((written[0] as Of<'progress'>).loss, null);
    assert.equal((written[1] as Of<'log'>).message, 'ünïcode');
  });
});
