import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import eventsSchema from '../../schemas/events.schema.json';
import { TempWorkspace } from '../helpers/tempWorkspace';

/**
 * bench/gpu/check, the GPU check of the accelerate engine, run as a real child process. Its arguments are checked
 * with any python3 (it parses them before it imports torch). On this machine, which has no CUDA device, it must
 * fall back to the CPU and run end to end from a real pack (bench/gpu/pack.ts: this Node, dist/ and the Python
 * package): fp32 and bf16 train a tiny model, fp16 is reported as unsupported. That part needs the Python peers
 * (bench/python/setup) and skips with the reason printed when they are absent.
 */

const ROOT = resolve(__dirname, '../..');
const CHECK = join(ROOT, 'bench', 'gpu', 'check');
const PACK = join(ROOT, 'bench', 'gpu', 'pack.ts');
const CLI = join(ROOT, 'dist', 'cli.js');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
const PEERS_PYTHON = join(PEERS, 'bin', 'python');
const MODULES = ['torch', 'transformers', 'sentence_transformers', 'accelerate', 'datasets'];
/** A tiny model and 3 steps: about half a minute per precision on a 2-core machine. */
const QUICK = ['--shape', 'tiny', '--steps', '3', '--warmup', '1', '--batch', '4', '--seq', '16'];

function runCheck(python: string, args: string[], timeout = 60_000): SpawnSyncReturns<string> {
  return spawnSync(python, [CHECK, ...args], { cwd: ROOT, encoding: 'utf8', timeout });
}

function output(result: SpawnSyncReturns<string>): string {
  return `exit ${result.status}${result.signal ? ` (${result.signal})` : ''}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

function pythonProblem(): string | undefined {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `no python3 on PATH (${probe.error?.message ?? probe.stderr})`;
}

function peersProblem(): string | undefined {
  if (!existsSync(PEERS_PYTHON)) return `no Python peers at ${PEERS} (run bench/python/setup, or set EMBEDTUNE_PY_PEERS)`;
  const probe = spawnSync(
    PEERS_PYTHON,
    [
      '-c',
      'import importlib.util as u, sys; missing = [m for m in sys.argv[1:] if not u.find_spec(m)]; ' +
        'print(",".join(missing) if missing else ("cuda" if __import__("torch").cuda.is_available() else ""))',
      ...MODULES,
    ],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0) return `${PEERS_PYTHON} does not run: ${probe.stderr}`;
  const answer = probe.stdout.trim();
  if (answer === 'cuda') return 'torch sees a CUDA device here, so the CPU fallback cannot be exercised';
  if (answer) return `${PEERS_PYTHON} lacks ${answer} (run bench/python/setup)`;
  if (!existsSync(CLI)) return 'dist/cli.js is not built (npm run build)';
  return undefined;
}

interface RunResult {
  precision: string;
  status: string;
  reason?: string;
  backend?: string;
  steps?: number;
  total_steps?: number;
  timed_steps?: number;
  steps_per_second?: number;
  pairs_per_second?: number;
  peak_gpu_mib?: number | null;
  max_rss_mib?: number | null;
  first_loss?: number;
  last_loss?: number;
}

interface CheckReport {
  environment: { device: string; why: string };
  settings: { steps: number; warmup: number; batch: number; seq: number };
  results: RunResult[];
  ratios_to_fp32: Record<string, { speed: number; memory: number | null }>;
}

/** Processes whose command line mentions the folder: the CLI, accelerate launch and its worker. */
function processesUsing(folder: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
        return readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(folder);
      } catch {
        return false; // Gone while we looked.
      }
    })
    .map(Number);
}

const argumentsSkip = pythonProblem();
if (argumentsSkip) console.log(`# skipped bench/gpu/check argument tests: ${argumentsSkip}`);

describe('bench/gpu/check arguments', { skip: argumentsSkip }, () => {
  it('documents every option in --help and exits 0', () => {
    const result = runCheck('python3', ['--help']);
    assert.equal(result.status, 0, output(result));
    for (const option of [
      '--steps',
      '--batch',
      '--seq',
      '--precisions',
      '--out',
      '--cpu',
      '--pack',
      '--local',
      '--shape',
      '--warmup',
      '--timeout',
    ]) {
      assert.ok(result.stdout.includes(option), `--help mentions ${option}:\n${result.stdout}`);
    }
  });

  const refusals: { args: string[]; says: string }[] = [
    { args: ['--steps', '0'], says: 'argument --steps: must be at least 1 (got 0)' },
    { args: ['--steps', 'ten'], says: "argument --steps: must be a whole number, not 'ten'" },
    { args: ['--steps', '2.5'], says: "argument --steps: must be a whole number, not '2.5'" },
    { args: ['--batch', '1'], says: 'argument --batch: must be at least 2 (got 1)' },
    { args: ['--seq', '513'], says: 'argument --seq: must be at most 512 (got 513)' },
    { args: ['--precisions', 'fp32,fp8'], says: "argument --precisions: 'fp8' is not one of fp32, fp16, bf16" },
    { args: ['--precisions', 'fp16,fp16'], says: 'argument --precisions: lists fp16 more than once' },
    {
      args: ['--precisions', 'fp32,'],
      says: 'argument --precisions: must be a comma-separated list of fp32, fp16, bf16 without empty items',
    },
    { args: ['--steps', '5', '--warmup', '5'], says: 'argument --warmup: must be below --steps (5), so that some steps are timed (got 5)' },
    { args: ['--shape', 'huge'], says: "argument --shape: invalid choice: 'huge'" },
    { args: ['--local', '--pack', 'x.tgz'], says: 'argument --local: not allowed with --pack' },
    { args: ['--frobnicate'], says: 'unrecognized arguments: --frobnicate' },
  ];
  for (const { args, says } of refusals) {
    it(`refuses ${args.join(' ')} with exit 2 and says why`, () => {
      const result = runCheck('python3', args);
      assert.equal(result.status, 2, output(result));
      assert.ok(result.stderr.includes(says), `stderr says "${says}":\n${result.stderr}`);
      assert.equal(result.stdout, '', 'nothing ran');
    });
  }

  it('says where the missing pack should be and how to make it, with exit 2', () => {
    const result = runCheck('python3', ['--pack', '/nonexistent/embedtune-gpu-check.tgz']);
    assert.equal(result.status, 2, output(result));
    assert.match(result.stderr, /no pack at \/nonexistent\/embedtune-gpu-check\.tgz: run `npm run bench:gpu:pack`/);
    assert.ok(!result.stderr.includes('Traceback'), 'a plain message, not a traceback');
  });
});

const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(eventsSchema);

/**
 * The events a single-GPU accelerate run writes (python/embedtune_accelerate/run_callback.py), as written there:
 * `secondsPerStep` apart, with torch.cuda.max_memory_allocated as memory_mb.gpu. No GPU is lent to these tests, so
 * the report's GPU side is checked on these; each is validated against schemas/events.schema.json first.
 */
function gpuRunEvents(precision: string, secondsPerStep: number, peakGpuMib: number): object[] {
  const start = Date.parse('2026-12-03T12:00:00.000Z');
  const at = (seconds: number) => new Date(start + Math.round(seconds * 1000)).toISOString();
  const run = { run_id: `gpu-check-${precision}-1`, time: at(0) };
  const steps = 10;
  const started = {
    type: 'run_started',
    ...run,
    seq: 0,
    config_hash: 'f'.repeat(64),
    config_path: `/work/check-${precision}.embedtune.yaml`,
    engine: 'accelerate',
    backend: 'cuda',
    backend_reason: `accelerate launch: 1 process(es), not_parallel, no distributed backend, mixed precision ${precision}`,
    device: 'NVIDIA H200',
    threads: 16,
    task: 'embedding',
    model: './model',
    strategy: 'full',
    trainable_parameters: 22565376,
    total_parameters: 22713216,
    dataset: { train_rows: 640, validation_rows: 64, skipped_rows: 0 },
    epochs: 1,
    steps_per_epoch: steps,
    total_steps: steps,
    effective_batch_size: 64,
    num_processes: 1,
    pid: 4242,
  };
  // Startup (CUDA context, first kernels) makes the first step slow; the warm-up leaves it out.
  const progress = Array.from({ length: steps }, (_, i) => ({
    type: 'progress',
    ...run,
    time: at(5 + i * secondsPerStep),
    seq: i + 1,
    step: i + 1,
    epoch: (i + 1) / steps,
    loss: 4.1 - i * 0.05,
    lr: 5e-5,
    examples_per_second: 64 / secondsPerStep,
    eta_seconds: (steps - i - 1) * secondsPerStep,
    memory_mb: { rss: 3000 + i, gpu: peakGpuMib - (steps - i - 1) * 10 },
  }));
  const finished = {
    type: 'run_finished',
    ...run,
    time: at(5 + steps * secondsPerStep + 2),
    seq: steps + 1,
    reason: 'completed',
    step: steps,
    best_checkpoint: null,
    best_metric: null,
    duration_seconds: 5 + steps * secondsPerStep + 2,
  };
  return [started, ...progress, finished];
}

/** Loads bench/gpu/check as a module and reports the runs under `runs/<precision>/` as it does after training. */
const REPORT_GPU_RUNS = `
import argparse, importlib.machinery, importlib.util, json, sys
from pathlib import Path
loader = importlib.machinery.SourceFileLoader("gpu_check", sys.argv[1])
check = importlib.util.module_from_spec(importlib.util.spec_from_loader("gpu_check", loader))
loader.exec_module(check)
options = argparse.Namespace(warmup=2, batch=64)
results = [{"precision": name, "status": "completed", **check.figures(check.read_events(Path(sys.argv[2]) / name), options)} for name in ("fp32", "fp16", "bf16")]
ratios = check.compare(results)
check.report(results, ratios, options)
print("JSON " + json.dumps({"results": results, "ratios": ratios}))
`;

describe('bench/gpu/check: the report of a GPU run', { skip: argumentsSkip }, () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('takes steps/s after the warm-up, the peak GPU memory and the GPU from the events, and compares fp16 and bf16 with fp32', () => {
    const runs: [string, number, number][] = [
      ['fp32', 0.1, 2000],
      ['fp16', 0.07, 1200],
      ['bf16', 0.08, 1300],
    ];
    for (const [precision, secondsPerStep, peak] of runs) {
      const events = gpuRunEvents(precision, secondsPerStep, peak);
      for (const event of events) assert.ok(validateEvent(event), `${JSON.stringify(event)}: ${JSON.stringify(validateEvent.errors)}`);
      const folder = workspace.path(`runs/${precision}/gpu-check-${precision}-1`);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'events.jsonl'), events.map((event) => `${JSON.stringify(event)}\n`).join(''));
    }
    const result = spawnSync('python3', ['-c', REPORT_GPU_RUNS, CHECK, workspace.path('runs')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, output(result));
    const { results, ratios } = JSON.parse(result.stdout.split('\nJSON ')[1]!) as {
      results: (RunResult & { device: string; timed_seconds: number })[];
      ratios: CheckReport['ratios_to_fp32'];
    };
    const fp32 = results[0]!;
    assert.equal(fp32.device, 'NVIDIA H200');
    assert.equal(fp32.backend, 'cuda');
    assert.equal(fp32.timed_steps, 8, 'steps 3 to 10 are timed, from the end of step 2');
    assert.ok(Math.abs(fp32.steps_per_second! - 10) < 1e-4, `fp32: ${fp32.steps_per_second} steps/s`);
    assert.ok(Math.abs(fp32.pairs_per_second! - 640) < 1e-2);
    assert.equal(fp32.peak_gpu_mib, 2000, 'the largest memory_mb.gpu of the run');
    assert.ok(Math.abs(ratios['fp16']!.speed - 0.1 / 0.07) < 1e-3, JSON.stringify(ratios));
    assert.ok(Math.abs(ratios['fp16']!.memory! - 0.6) < 1e-9, JSON.stringify(ratios));
    assert.ok(Math.abs(ratios['bf16']!.memory! - 0.65) < 1e-9, JSON.stringify(ratios));
    assert.match(result.stdout, /\| fp32 \| completed, 8 of 10 steps timed \| NVIDIA H200 \(cuda\) \| 10\.00 \| 640\.0 \| 2000 \|/);
    assert.match(result.stdout, /fp16 against fp32: \+43% steps\/s, -40% peak GPU memory/);
    assert.match(result.stdout, /bf16 against fp32: \+25% steps\/s, -35% peak GPU memory/);
    assert.match(result.stdout, /the seed's claim: fp16 gives \+30-50% speed and -40% memory against fp32/);
  });
});

const packSkip = existsSync(CLI) ? undefined : 'dist/cli.js is not built (npm run build)';
if (packSkip) console.log(`# skipped bench/gpu/pack tests: ${packSkip}`);

describe('bench/gpu/pack', { skip: packSkip }, () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  function runPack(args: string[]): SpawnSyncReturns<string> {
    return spawnSync(process.execPath, ['--import', 'tsx', PACK, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  }

  it('refuses a compression level outside 1 to 9 and an unknown option, with exit 2', () => {
    const level = runPack(['--level', '0', '--out', workspace.path('never.tgz')]);
    assert.equal(level.status, 2, output(level));
    assert.match(level.stderr, /--level must be a whole number from 1 to 9 \(got "0"\)/);
    const unknown = runPack(['--levle', '1']);
    assert.equal(unknown.status, 2, output(unknown));
    assert.match(unknown.stderr, /Unknown option '--levle'/);
    assert.ok(!existsSync(workspace.path('never.tgz')));
  });

  it('fails with exit 1 and removes the pack when it would not fit in what a call carries', () => {
    const out = workspace.path('too-big.tgz');
    const result = runPack(['--out', out, '--level', '1', '--budget-mib', '8']);
    assert.equal(result.status, 1, output(result));
    assert.match(
      result.stderr,
      /too-big\.tgz: [\d.]+ MiB, plus [\d.]+ MiB of working tree = [\d.]+ MiB of the 8 MiB a call carries: too big, so it was removed/,
    );
    assert.ok(!existsSync(out), 'no pack is left to carry');
  });
});

const fallbackSkip = argumentsSkip ?? peersProblem();
if (fallbackSkip) console.log(`# skipped bench/gpu/check CPU fallback tests: ${fallbackSkip}`);

describe('bench/gpu/check on a machine without CUDA', { skip: fallbackSkip }, () => {
  const workspace = new TempWorkspace();
  const pack = workspace.path('embedtune-gpu-check.tgz');
  let packing: SpawnSyncReturns<string>;

  before(() => {
    // Level 1: the same archive, made in a few seconds rather than the default level 9's twenty.
    packing = spawnSync(process.execPath, ['--import', 'tsx', PACK, '--out', pack, '--level', '1'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
  });
  after(() => workspace.dispose());

  it('packs Node, dist/ and the Python package within the 64 MiB a device call carries', () => {
    assert.equal(packing.status, 0, output(packing));
    assert.match(packing.stdout, /MiB of working tree = [\d.]+ MiB of the 64 MiB a call carries/);
    assert.ok(statSync(pack).size > 10 * 2 ** 20, 'the pack holds a Node binary');
  });

  it('falls back to the CPU by itself: fp32 and bf16 train from the pack, fp16 is reported as unsupported', () => {
    assert.equal(packing.status, 0, 'the pack was made');
    const out = workspace.path('results/gpu-check.json');
    const result = runCheck(PEERS_PYTHON, ['--pack', pack, ...QUICK, '--out', out], 400_000);
    assert.equal(result.status, 0, output(result));
    assert.match(result.stdout, /device: no CUDA device is visible to torch here, so this falls back to the CPU/);
    assert.match(result.stdout, /unpacked embedtune-gpu-check\.tgz \([\d.]+ MiB\)[^\n]*Node v\d+/);

    const report = JSON.parse(readFileSync(out, 'utf8')) as CheckReport;
    assert.equal(report.environment.device, 'cpu');
    assert.deepEqual(report.settings, { steps: 3, warmup: 1, batch: 4, seq: 16, loss: 'mnrl', engine: 'accelerate' });
    assert.deepEqual(
      report.results.map((run) => [run.precision, run.status]),
      [
        ['fp32', 'completed'],
        ['fp16', 'unsupported'],
        ['bf16', 'completed'],
      ],
      output(result),
    );
    for (const run of report.results.filter((entry) => entry.status === 'completed')) {
      assert.equal(run.backend, 'cpu', `${run.precision} trained on the CPU`);
      assert.equal(run.total_steps, 3, `${run.precision}: one epoch of steps × batch rows is --steps steps`);
      assert.equal(run.steps, 3);
      assert.equal(run.timed_steps, 2, 'the warm-up step is left out of the timing');
      assert.ok(run.steps_per_second! > 0 && Number.isFinite(run.steps_per_second), `${run.precision}: ${run.steps_per_second} steps/s`);
      assert.ok(Math.abs(run.pairs_per_second! - run.steps_per_second! * 4) < 1e-9, 'pairs/s is steps/s × batch');
      assert.equal(run.peak_gpu_mib, null, 'no GPU memory on the CPU');
      assert.ok(run.max_rss_mib! > 100, `${run.precision}: RSS ${run.max_rss_mib} MiB`);
      assert.ok(
        Number.isFinite(run.first_loss) && Number.isFinite(run.last_loss),
        `${run.precision}: losses ${run.first_loss}, ${run.last_loss}`,
      );
    }
    const fp16 = report.results.find((run) => run.precision === 'fp16')!;
    assert.match(
      fp16.reason!,
      /check-fp16\.embedtune\.yaml:\d+: training\.mixed_precision fp16 needs a GPU, but engine\.cpu trains on the CPU/,
    );
    assert.deepEqual(Object.keys(report.ratios_to_fp32), ['bf16']);
    assert.equal(report.ratios_to_fp32['bf16']!.memory, null);
    assert.match(result.stdout, /\| fp16 \| unsupported: [^\n]*fp16 needs a GPU/);
    assert.match(result.stdout, /bf16 against fp32: [+-]\d+% steps\/s, peak GPU memory n\/a \(CPU\)/);
  });

  it('reports a run that overruns --timeout as failed with exit 1, and leaves no training process behind', () => {
    const work = workspace.path('timeout-work');
    const result = runCheck(
      PEERS_PYTHON,
      ['--local', '--cpu', ...QUICK, '--precisions', 'fp32', '--timeout', '1', '--work', work],
      120_000,
    );
    assert.equal(result.status, 1, output(result));
    assert.match(result.stdout, /device: --cpu was given/);
    assert.match(result.stdout, /\| fp32 \| failed: embedtune train: timed out after 1 s/);
    assert.match(result.stdout, /--- fp32: the last lines of /);
    assert.deepEqual(processesUsing(work), [], 'the CLI and accelerate launch ended');
  });
});
