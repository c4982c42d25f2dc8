/**
 * Runs `embedtune train` as a user does (the built CLI, a child process) and reads back what the run recorded, plus
 * the exact batches it trained on, so that the Python reference can be given the same ones.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { IN_BATCH_NEGATIVE_LOSSES } from '../../src/shared/config/taskRequirements';
import { hasErrors, validateConfigText } from '../../src/shared/config/validateConfig';
import { BatchIterator, inBatchNegativeTexts } from '../../src/trainer/data/batchIterator';
import { loadTrainingData } from '../../src/trainer/data/loadTrainingData';
import { ROOT } from './pythonPeers';

export const CLI = join(ROOT, 'dist', 'cli.js');

/** Builds dist/ when it is missing (`npm run test:parity` builds it first). */
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, `building dist/ failed:\n${build.stderr}`);
}

export function cli(args: string[], cwd: string, timeoutMs = 900_000): { stdout: string; stderr: string; seconds: number } {
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const how = result.error ? `${result.error.message}, killed with ${result.signal}` : `exit ${result.status}`;
  assert.equal(
    result.status,
    0,
    `embedtune ${args.join(' ')} failed (${how}):\n${result.stderr.slice(-4000)}${result.stdout.slice(-2000)}`,
  );
  return { stdout: result.stdout, stderr: result.stderr, seconds: (performance.now() - started) / 1000 };
}

export interface TrainedRun {
  readonly runDir: string;
  /** The loss of each optimizer step, as the run's progress events report it (index 0 is step 1). */
  readonly losses: Map<number, number>;
  readonly events: Record<string, unknown>[];
  readonly seconds: number;
}

/** `embedtune train CONFIG` on the config's backend (PARITY_BACKEND in the parity configs); the config's output_dir must be `runs`. */
export function trainWithEmbedTune(configPath: string, timeoutMs?: number): TrainedRun {
  const cwd = dirname(configPath);
  const { seconds } = cli(['train', configPath], cwd, timeoutMs);
  const runs = readdirSync(join(cwd, 'runs'));
  assert.equal(runs.length, 1, `one run folder, got ${runs.join(', ')}`);
  const runDir = join(cwd, 'runs', runs[0]!);
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const losses = new Map<number, number>();
  for (const event of events) if (event['type'] === 'progress') losses.set(event['step'] as number, event['loss'] as number);
  return { runDir, losses, events, seconds };
}

export interface PairBatch {
  readonly anchor: string[];
  readonly positive: string[];
}

/**
 * The micro-batches of each optimizer step of a run of `configPath`, worked out by the same data loading and seeded
 * batching that `embedtune train` uses, grouped by gradient_accumulation_steps.
 */
export async function plannedSteps(configPath: string): Promise<PairBatch[][]> {
  const validation = validateConfigText(readFileSync(configPath, 'utf8'), { configPath });
  assert.ok(!hasErrors(validation.diagnostics), `${configPath} is valid: ${JSON.stringify(validation.diagnostics)}`);
  const config = resolveConfig(validation.parsed.value as EmbedTuneConfig);
  const data = await loadTrainingData(config, dirname(configPath));
  const examples = data.train as { anchor: string; positive: string }[];
  const iterator = new BatchIterator(examples, {
    batchSize: config.training.batch_size,
    seed: config.training.seed,
    ...(IN_BATCH_NEGATIVE_LOSSES.includes(config.loss.type) ? { distinctTexts: inBatchNegativeTexts } : {}),
  });
  const steps: PairBatch[][] = [];
  let pending: PairBatch[] = [];
  for (const batch of iterator.batches({ epoch: 0, batchIndex: 0 }, config.training.epochs)) {
    pending.push({ anchor: batch.examples.map((e) => e.anchor), positive: batch.examples.map((e) => e.positive) });
    const epochEnds = batch.next.epoch !== batch.position.epoch;
    if (pending.length < config.training.gradient_accumulation_steps && !epochEnds) continue;
    steps.push(pending);
    pending = [];
  }
  return steps;
}

/** The first `count` rows of an example data file, as text. */
export function exampleRows(path: string, count: number, skip = 0): string {
  const rows = readFileSync(join(ROOT, path), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  return `${rows.slice(skip, skip + count).join('\n')}\n`;
}
