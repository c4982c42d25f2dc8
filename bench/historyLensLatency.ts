/**
 * Completion latency of EmbedTune's language server with past runs on disk, read by the hyperparameter history code
 * lens: steady (lenses cached) and while the first code lens reads the run folders. Over stdio, as an editor talks to
 * dist/server.js (build it first: npm run build). Run with `node --import tsx bench/historyLensLatency.ts`.
 *
 * Options: --past-runs N (default 200) --servers N (fresh servers, each one cold read, default 5)
 *          --steady-rounds N (code lens + one completion per position, default 40)
 *          --baseline PATH (another build of server.js, e.g. of an older commit, measured in turns with dist/server.js
 *          so that both see the same machine load)
 * Writes bench/results/historyLensLatency.json; the numbers go into docs/benchmarks.md by hand.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CodeLens } from 'vscode-languageserver-protocol';
import { writePastRun } from '../test/helpers/pastRuns';
import { benchConfigText, lineOf, writeBenchData } from './fixtures/benchConfig';
import { LspServer } from './lspClient';
import { formatMs, latencyStats, type LatencyStats } from './stats';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_SCRIPT = join(ROOT, 'dist', 'server.js');
const RESULTS_PATH = join(ROOT, 'bench', 'results', 'historyLensLatency.json');
const CONFIG_NAME = 'faq-retrieval.embedtune.yaml';
const TARGET_P99_MS = 10;
const WARMUP_COMPLETIONS = 26;

interface Options {
  pastRuns: number;
  servers: number;
  steadyRounds: number;
  baseline?: string;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { pastRuns: 200, servers: 5, steadyRounds: 40 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--baseline') {
      options.baseline = resolve(argv[++i] ?? '');
      if (!existsSync(options.baseline)) throw new Error(`--baseline ${options.baseline}: no such file`);
      continue;
    }
    const value = Number(argv[++i]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${arg} needs a whole number ≥ 1`);
    if (arg === '--past-runs') options.pastRuns = value;
    else if (arg === '--servers') options.servers = value;
    else if (arg === '--steady-rounds') options.steadyRounds = value;
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

/** The same runs as bench/lspLatency.ts writes: 300 progress events and 10 evaluations each, three values varied. */
function writePastRuns(configPath: string, configText: string, outputDir: string, count: number): number {
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const run = writePastRun(configPath, configText, outputDir, {
      overrides: { training: { learning_rate: [1e-5, 2e-5, 3e-5, 5e-5][i % 4], batch_size: [16, 32, 64][i % 3], epochs: 1 + (i % 5) } },
      evals: Array.from({ length: 10 }, (_, step) => 0.5 + ((i * 7 + step * 13) % 40) / 100),
      stepsPerEval: 30,
      startedAt: new Date(Date.UTC(2026, 10, 1) + i * 3_600_000),
    });
    bytes += statSync(run.eventsPath).size;
  }
  return bytes;
}

/** Positions where completion has work to do: keys in three sections and enum values. */
function completionSpots(text: string): { line: number; character: number }[] {
  const training = lineOf(text, /^training:/);
  const loss = lineOf(text, /^loss:/);
  const scheduler = lineOf(text, /^ {2}scheduler:/, training);
  const pooling = lineOf(text, /^ {2}pooling:/);
  return [
    { line: lineOf(text, /^# -+ training/) - 1, character: 0 },
    { line: pooling, character: 2 },
    { line: scheduler, character: 5 },
    { line: lineOf(text, /^ {2}seed:/, training), character: 2 },
    { line: lineOf(text, /^ {4}r:/), character: 4 },
    { line: scheduler, character: '  scheduler: '.length },
    { line: pooling, character: '  pooling: '.length },
    { line: lineOf(text, /^ {2}type:/, loss), character: '  type: '.length },
  ];
}

interface ServerRound {
  firstLensMs: number;
  historyLenses: number;
  during: number[];
  steady: number[];
  lens: number[];
}

async function oneServer(script: string, workspace: string, uri: string, text: string, options: Options): Promise<ServerRound> {
  const settings = { validation: { debounceMs: 0 }, codeLens: { dryRun: true, history: true } };
  const server = new LspServer({
    name: 'EmbedTune',
    args: [script, '--stdio'],
    cwd: ROOT,
    configuration: (section) => (section === 'embedtune' ? settings : section === undefined ? { embedtune: settings } : null),
  });
  try {
    const rootUri = pathToFileURL(workspace).href;
    await server.request('initialize', {
      processId: process.pid,
      rootUri,
      workspaceFolders: [{ uri: rootUri, name: 'bench' }],
      capabilities: { workspace: { configuration: true }, textDocument: {} },
      initializationOptions: { workspaceTrusted: true },
    });
    await server.notify('initialized', {});
    const opened = server.waitForDiagnostics(uri, () => true, 10_000);
    await server.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'embedtune', version: 1, text } });
    await opened;
    const spots = completionSpots(text);
    const complete = async (index: number): Promise<number> => {
      const spot = spots[index % spots.length]!;
      const sentAt = performance.now();
      await server.request('textDocument/completion', { textDocument: { uri }, position: spot, context: { triggerKind: 1 } });
      return performance.now() - sentAt;
    };
    for (let i = 0; i < WARMUP_COMPLETIONS; i++) await complete(i);

    // The first code lens reads every run folder; completions are sent one after another until it answers.
    const lensSentAt = performance.now();
    let firstLensMs = -1;
    let historyLenses = 0;
    const firstLens = server.request<CodeLens[] | null>('textDocument/codeLens', { textDocument: { uri } }).then((lenses) => {
      firstLensMs = performance.now() - lensSentAt;
      historyLenses = (lenses ?? []).filter((lens) => lens.command?.command === 'embedtune.compareRuns').length;
    });
    const during: number[] = [];
    while (firstLensMs < 0) during.push(await complete(during.length));
    await firstLens;

    // Steady: as an editor does after each change, the code lenses and then completions.
    const steady: number[] = [];
    const lens: number[] = [];
    for (let round = 0; round < options.steadyRounds; round++) {
      const sentAt = performance.now();
      await server.request('textDocument/codeLens', { textDocument: { uri } });
      lens.push(performance.now() - sentAt);
      for (let i = 0; i < spots.length; i++) steady.push(await complete(round + i));
    }
    return { firstLensMs, historyLenses, during, steady, lens };
  } finally {
    await server.stop();
  }
}

/** Indented JSON with each list of numbers on one line, rounded to the microsecond. */
function compactJson(value: unknown): string {
  const text = JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v), 2);
  return text.replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, list: string) => `[${list.replace(/\s+/g, ' ')}]`);
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function summary(server: string, rounds: readonly ServerRound[]) {
  const steady = latencyStats(rounds.flatMap((r) => r.steady));
  const during = latencyStats(rounds.flatMap((r) => r.during));
  return {
    server,
    historyLenses: rounds.map((r) => r.historyLenses),
    firstLens: latencyStats(rounds.map((r) => r.firstLensMs)),
    completionDuringFirstRead: during,
    completionSteady: steady,
    codeLensCached: latencyStats(rounds.flatMap((r) => r.lens)),
    pass: during.p99 < TARGET_P99_MS && steady.p99 < TARGET_P99_MS,
    samples: { during: rounds.map((r) => r.during), steady: rounds.map((r) => r.steady), lens: rounds.map((r) => r.lens) },
  };
}

function row(name: string, stats: LatencyStats): string {
  return `| ${name} | ${stats.n} | ${formatMs(stats.median)} ms | ${formatMs(stats.p99)} ms | ${formatMs(stats.max)} ms |`;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(SERVER_SCRIPT)) throw new Error('dist/server.js is missing: run npm run build first');
  const workspace = mkdtempSync(join(tmpdir(), 'embedtune-history-bench-'));
  try {
    const text = benchConfigText(300);
    const configPath = join(workspace, CONFIG_NAME);
    writeFileSync(configPath, text);
    writeBenchData(workspace);
    const eventsBytes = writePastRuns(configPath, text, join(workspace, 'runs'), options.pastRuns);
    const uri = pathToFileURL(configPath).href;
    const loadBefore = loadavg();
    const scripts = [SERVER_SCRIPT, ...(options.baseline ? [options.baseline] : [])];
    const rounds = new Map<string, ServerRound[]>(scripts.map((script) => [script, []]));
    for (let i = 0; i < options.servers; i++) {
      for (const script of i % 2 === 0 ? scripts : [...scripts].reverse()) {
        const round = await oneServer(script, workspace, uri, text, options);
        rounds.get(script)!.push(round);
        console.log(`${relative(ROOT, script)} ${i + 1}/${options.servers}: first code lens ${formatMs(round.firstLensMs)} ms`);
      }
    }
    const loadAfter = loadavg();
    const summaries = scripts.map((script) => summary(relative(ROOT, script), rounds.get(script)!));
    const results = {
      date: new Date().toISOString(),
      commit: commit(),
      node: process.version,
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      loadAverage: { before: loadBefore, after: loadAfter },
      options,
      eventsMiB: eventsBytes / 1024 / 1024,
      servers: summaries,
    };
    mkdirSync(dirname(RESULTS_PATH), { recursive: true });
    writeFileSync(RESULTS_PATH, `${compactJson(results)}\n`);
    console.log(
      `${results.date} commit ${results.commit}, ${results.cores} × ${results.cpu}, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} → ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
    );
    console.log(`${options.pastRuns} past runs (${results.eventsMiB.toFixed(1)} MiB of events), ${options.servers} fresh servers each`);
    for (const s of summaries) {
      console.log(
        [
          '',
          `${s.server}: history lenses ${s.historyLenses.join(',')}`,
          '| Measurement | n | median | p99 | max |',
          '| --- | ---: | ---: | ---: | ---: |',
          row('Completion, lenses cached', s.completionSteady),
          row('Completion while the first code lens reads the runs', s.completionDuringFirstRead),
          row('First code lens (reads every run folder)', s.firstLens),
          row('Code lens, run folders cached', s.codeLensCached),
          `target completion p99 < ${TARGET_P99_MS} ms: ${s.pass ? 'pass' : 'FAIL'}`,
        ].join('\n'),
      );
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
