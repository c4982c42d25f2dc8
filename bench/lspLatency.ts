/**
 * Language server latency: EmbedTune's server against yaml-language-server on the same schema and the same 300-line
 * config, interleaved in one run. Run with `npm run bench` (node --import tsx bench/lspLatency.ts).
 *
 * Options: --iterations N (default 200) --warmup N (default 20) --timeout-s N (overall, default 900)
 *          --no-build (never rebuild dist/) --no-docs (do not touch docs/benchmarks.md) --no-stock (skip the
 *          unpatched yaml-language-server, which adds its fixed 200 ms delay to every diagnostics sample)
 *          --past-runs N (default 200: finished runs of the config under its output_dir, which the hyperparameter
 *          history code lens reads; a code lens request goes before each completion round)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CompletionItem, CompletionList, Hover } from 'vscode-languageserver-protocol';
import type { CodeLens } from 'vscode-languageserver-protocol';
import { writePastRun } from '../test/helpers/pastRuns';
import { benchConfigText, lineOf, writeBenchData } from './fixtures/benchConfig';
import { LspServer, type PublishedDiagnostics } from './lspClient';
import { formatMs, formatRatio, latencyStats, round2, round3, statsRatio, type LatencyStats, type StatsRatio } from './stats';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA_PATH = join(ROOT, 'schemas', 'embedtune.schema.json');
const SERVER_SCRIPT = join(ROOT, 'dist', 'server.js');
const YAML_LS_DIR = join(ROOT, 'node_modules', 'yaml-language-server');
const RESULTS_PATH = join(ROOT, 'bench', 'results', 'lspLatency.json');
const DOCS_PATH = join(ROOT, 'docs', 'benchmarks.md');
const SECTION_TITLE = '## Language server latency';
const FIXTURE_LINES = 300;
const CONFIG_NAME = 'faq-retrieval.embedtune.yaml';
const TYPO = { from: '  learning_rate:', to: '  lerning_rate:', marker: /lerning_rate/ };
const WAIT_MS = 10_000;
const TARGET_DIAGNOSTICS_RATIO = 0.25;
const TARGET_COMPLETION_P99_MS = 10;

interface Options {
  iterations: number;
  warmup: number;
  timeoutS: number;
  build: boolean;
  docs: boolean;
  stock: boolean;
  pastRuns: number;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { iterations: 200, warmup: 20, timeoutS: 900, build: true, docs: true, stock: true, pastRuns: 200 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const number = () => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 0) throw new Error(`${arg} needs a whole number`);
      return value;
    };
    if (arg === '--iterations') options.iterations = number();
    else if (arg === '--warmup') options.warmup = number();
    else if (arg === '--timeout-s') options.timeoutS = number();
    else if (arg === '--no-build') options.build = false;
    else if (arg === '--no-docs') options.docs = false;
    else if (arg === '--no-stock') options.stock = false;
    else if (arg === '--past-runs') options.pastRuns = number();
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------------- build

function newestMtime(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when server.js is missing (fatal if that fails) or older than src/ (a warning if that fails). */
function ensureServerBuilt(allowBuild: boolean): string {
  const present = existsSync(SERVER_SCRIPT);
  if (present && (!allowBuild || statSync(SERVER_SCRIPT).mtimeMs >= newestMtime(join(ROOT, 'src')))) return 'dist/server.js is up to date';
  if (!present && !allowBuild) throw new Error('dist/server.js is missing and --no-build was given');
  console.log(present ? 'dist/server.js is older than src/: rebuilding…' : 'dist/server.js is missing: building…');
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (build.status === 0 && existsSync(SERVER_SCRIPT)) return present ? 'rebuilt (dist/ was older than src/)' : 'built (dist/ was missing)';
  const why = `${build.error?.message ?? ''}${build.stdout ?? ''}${build.stderr ?? ''}`.trim();
  if (!present) throw new Error(`the build failed:\n${why}`);
  console.warn(`warning: the rebuild failed, benchmarking the existing dist/server.js:\n${why}`);
  return 'stale: the rebuild failed, so an older dist/server.js was measured';
}

// ------------------------------------------------------------------------------------------------- servers

interface BenchServer {
  readonly key: 'ours' | 'yamlLs' | 'yamlLsStock';
  readonly label: string;
  readonly languageId: string;
  readonly server: LspServer;
  version: number;
  startupMs: number;
  serverInfo?: { name: string; version?: string };
}

const CLIENT_CAPABILITIES = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    workspaceFolders: true,
    didChangeWatchedFiles: { dynamicRegistration: true },
  },
  textDocument: {
    synchronization: { dynamicRegistration: false, didSave: true },
    completion: {
      completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'], insertReplaceSupport: false },
      contextSupport: true,
    },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    publishDiagnostics: { relatedInformation: true, versionSupport: true },
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } },
    documentSymbol: { hierarchicalDocumentSymbolSupport: true },
  },
};

async function startServer(
  key: BenchServer['key'],
  label: string,
  languageId: string,
  args: string[],
  configuration: (section: string | undefined) => unknown,
  workspace: string,
): Promise<BenchServer> {
  const started = performance.now();
  const server = new LspServer({ name: label, args, cwd: ROOT, configuration });
  const rootUri = pathToFileURL(workspace).href;
  const result = await server.request<{ serverInfo?: { name: string; version?: string } }>('initialize', {
    processId: process.pid,
    clientInfo: { name: 'embedtune-bench', version: '1' },
    locale: 'en',
    rootUri,
    rootPath: workspace,
    workspaceFolders: [{ uri: rootUri, name: 'bench' }],
    capabilities: CLIENT_CAPABILITIES,
  });
  const bench: BenchServer = {
    key,
    label,
    languageId,
    server,
    version: 0,
    startupMs: performance.now() - started,
    serverInfo: result.serverInfo,
  };
  await server.notify('initialized', {});
  return bench;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function hasTypo(published: PublishedDiagnostics): boolean {
  return published.diagnostics.some((diagnostic) => TYPO.marker.test(diagnostic.message));
}

/** Sends a full-text didChange and waits for the publish of that version (by version when echoed, else the first one after). */
async function changeAndWait(
  target: BenchServer,
  uri: string,
  text: string,
  accept: (published: PublishedDiagnostics) => boolean = () => true,
) {
  const version = ++target.version;
  const wait = target.server.waitForDiagnostics(uri, (p) => (p.version === undefined || p.version === version) && accept(p), WAIT_MS);
  const sentAt = performance.now();
  await target.server.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
  const published = await wait;
  return { published, latencyMs: published.receivedAt - sentAt };
}

// ------------------------------------------------------------------------------------------------ positions

interface Spot {
  readonly label: string;
  readonly line: number;
  readonly character: number;
}

function completionSpots(text: string): Spot[] {
  const training = lineOf(text, /^training:/);
  const loss = lineOf(text, /^loss:/);
  const checkpoints = lineOf(text, /^checkpoints:/);
  const augmentSwap = lineOf(text, /^ {4}random_swap:/);
  const scheduler = lineOf(text, /^ {2}scheduler:/, training);
  const pooling = lineOf(text, /^ {2}pooling:/);
  const unicode = lineOf(text, /^ {4}unicode_normalization:/);
  return [
    { label: 'top level: key (blank line between sections)', line: lineOf(text, /^# -+ training/) - 1, character: 0 },
    { label: 'model: key (start of `pooling` line)', line: pooling, character: 2 },
    { label: 'training: key, typed prefix `sch`', line: scheduler, character: 5 },
    { label: 'training: key (start of `seed` line)', line: lineOf(text, /^ {2}seed:/, training), character: 2 },
    { label: 'preprocess.augment.random_swap: key', line: lineOf(text, /^ {6}count:/, augmentSwap), character: 6 },
    { label: 'strategy.lora: key (start of `r` line)', line: lineOf(text, /^ {4}r:/), character: 4 },
    { label: 'value after `scheduler: `', line: scheduler, character: '  scheduler: '.length },
    { label: 'value after `pooling: `', line: pooling, character: '  pooling: '.length },
    { label: 'value after `loss.type: `', line: lineOf(text, /^ {2}type:/, loss), character: '  type: '.length },
    { label: 'value after `unicode_normalization: `', line: unicode, character: '    unicode_normalization: '.length },
    { label: 'value after `checkpoints.every: ` (anyOf)', line: lineOf(text, /^ {2}every:/, checkpoints), character: '  every: '.length },
    { label: 'evaluation.metrics item after `- ` ($ref)', line: lineOf(text, /^ {4}- ndcg@5$/), character: '    - '.length },
    { label: 'strategy.lora.targets item after `- `', line: lineOf(text, /^ {6}- value$/), character: '      - '.length },
  ];
}

function hoverSpots(text: string): Spot[] {
  const loss = lineOf(text, /^loss:/);
  const engine = lineOf(text, /^engine:/);
  return [
    { label: 'training.learning_rate', line: lineOf(text, /^ {2}learning_rate:/), character: 5 },
    { label: 'model.pooling', line: lineOf(text, /^ {2}pooling:/), character: 4 },
    { label: 'strategy.lora.targets', line: lineOf(text, /^ {4}targets:/), character: 6 },
    { label: 'evaluation.metrics', line: lineOf(text, /^ {2}metrics:/), character: 4 },
    { label: 'loss.alpha (anyOf)', line: lineOf(text, /^ {2}alpha:/, loss), character: 4 },
    { label: 'engine.type', line: lineOf(text, /^ {2}type:/, engine), character: 3 },
    {
      label: 'preprocess.augment.random_swap.probability ($ref)',
      line: lineOf(text, /^ {6}probability:/, lineOf(text, /^ {4}random_swap:/)),
      character: 8,
    },
  ];
}

function completionItems(result: CompletionList | CompletionItem[] | null): CompletionItem[] {
  if (!result) return [];
  return Array.isArray(result) ? result : result.items;
}

function hoverText(result: Hover | null): string {
  if (!result) return '';
  const contents = result.contents;
  if (typeof contents === 'string') return contents;
  if (Array.isArray(contents)) return contents.map((part) => (typeof part === 'string' ? part : part.value)).join('\n');
  return contents.value;
}

// ------------------------------------------------------------------------------------------ schema fidelity

interface Probe {
  readonly label: string;
  readonly apply: (text: string) => string;
}

/** One broken config per schema feature; each server's diagnostics for it are recorded, not timed. */
function fidelityProbes(): Probe[] {
  const replace = (from: string | RegExp, to: string) => (text: string) => {
    const changed = text.replace(from, to);
    if (changed === text) throw new Error(`probe edit ${String(from)} does not apply`);
    return changed;
  };
  return [
    { label: 'unknown key `training.lerning_rate` (additionalProperties)', apply: replace(TYPO.from, TYPO.to) },
    { label: 'bad enum `scheduler: cosin`', apply: replace('  scheduler: cosine', '  scheduler: cosin') },
    { label: 'bad metric `recall@0` (pattern inside $ref/$defs + anyOf)', apply: replace(/^ {4}- recall@1$/m, '    - recall@0') },
    { label: '`warmup: 1.5` (anyOf: fraction < 1 or integer ≥ 1)', apply: replace('  warmup: 0.1', '  warmup: 1.5') },
    { label: 'duplicate `lora.targets` item (uniqueItems)', apply: replace(/^ {6}- value$/m, '      - query') },
    { label: '`batch_size: 0` (minimum)', apply: replace(/^ {2}batch_size: 64/m, '  batch_size: 0') },
    { label: '`epochs: three` (type)', apply: replace('  epochs: 3', '  epochs: three') },
    { label: 'missing `model.base` (required)', apply: replace(/^ {2}base: .*\n/m, '') },
    { label: '`random_swap.count: 50` (maximum inside $ref)', apply: replace(/(random_swap:\n {6}count:) 1/, '$1 50') },
  ];
}

// ------------------------------------------------------------------------------------------------- the run

interface Results {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  options: Options;
  fixture: { lines: number; bytes: number; alphaItems: number; metricItems: number; dataFiles: string };
  build: string;
  setup: string[];
  servers: Record<
    string,
    { label: string; command: string; version: string; startupMs: number; rssMiB?: number; peakRssMiB?: number; publishes: number }
  >;
  schemaVariant: string;
  sampleLayout: string;
  diagnostics: Record<string, { stats: LatencyStats; cleanCount: number; typoCount: number; samples: number[] }>;
  completion: {
    spots: {
      label: string;
      line: number;
      character: number;
      ours: LatencyStats;
      yamlLs: LatencyStats;
      ratio: StatsRatio;
      oursItems: number;
      yamlLsItems: number;
      oursSample: string[];
      yamlLsSample: string[];
    }[];
    ours: LatencyStats;
    yamlLs: LatencyStats;
    /** Grouped by position, in the order of `spots`, `options.iterations` samples each. */
    samples: { ours: number[]; yamlLs: number[] };
  };
  hover: {
    spots: {
      label: string;
      line: number;
      character: number;
      ours: LatencyStats;
      yamlLs: LatencyStats;
      ratio: StatsRatio;
      oursChars: number;
      yamlLsChars: number;
    }[];
    ours: LatencyStats;
    yamlLs: LatencyStats;
    samples: { ours: number[]; yamlLs: number[] };
  };
  ratios: { diagnostics: StatsRatio; diagnosticsVsStock?: StatsRatio; completion: StatsRatio; hover: StatsRatio };
  /** The hyperparameter history lens over `options.pastRuns` runs on disk: its first request, then the others. */
  pastRuns: {
    count: number;
    eventsBytes: number;
    historyLenses: number;
    firstCodeLensMs: number;
    /** EmbedTune's completions sent one after another while the first code lens read the runs. */
    completionDuringFirstRead: LatencyStats;
    codeLens: LatencyStats;
    samples: number[];
  };
  targets: { label: string; value: string; pass: boolean }[];
  fidelity: { label: string; ours: string[]; yamlLs: string[] }[];
  observations: string[];
  logs: Record<string, string[]>;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const servers: BenchServer[] = [];
  const watchdog = setTimeout(() => {
    console.error(`benchmark exceeded --timeout-s ${options.timeoutS}; killing the servers`);
    for (const target of servers) target.server.kill();
    process.exit(2);
  }, options.timeoutS * 1000);
  const workspace = mkdtempSync(join(tmpdir(), 'embedtune-bench-'));
  try {
    await run(options, servers, workspace);
  } catch (error) {
    for (const target of servers) {
      const tail = target.server.logs.slice(-20);
      if (tail.length > 0)
        console.error(
          `--- last messages from ${target.label}${target.server.describeExit() ? ` (${target.server.describeExit()})` : ''}:\n${tail.join('\n')}`,
        );
    }
    throw error;
  } finally {
    await Promise.all(servers.map((target) => target.server.stop()));
    rmSync(workspace, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
}

async function run(options: Options, servers: BenchServer[], workspace: string): Promise<void> {
  const build = ensureServerBuilt(options.build);
  const clean = benchConfigText(FIXTURE_LINES);
  const typo = clean.replace(TYPO.from, TYPO.to);
  if (typo === clean) throw new Error('the typo edit does not apply to the bench config');
  const configPath = join(workspace, CONFIG_NAME);
  writeFileSync(configPath, clean);
  writeBenchData(workspace);
  const pastRunsBytes = writePastRuns(configPath, clean, join(workspace, 'runs'), options.pastRuns);
  const uri = pathToFileURL(configPath).href;
  const observations: string[] = [];

  // ------------------------------------------------------------------ start and configure the servers
  const embedtuneSettings = { validation: { debounceMs: 0 }, codeLens: { dryRun: true } };
  let schemaUrl = pathToFileURL(SCHEMA_PATH).href;
  const yamlSettings = () => ({
    schemas: { [schemaUrl]: '*.embedtune.yaml' },
    validate: true,
    completion: true,
    hover: true,
    format: { enable: false },
    // Offline machine: never fetch the JSON Schema Store or the Kubernetes CRD catalogue.
    schemaStore: { enable: false, url: '' },
    kubernetesCRDStore: { enable: false },
  });
  const yamlConfiguration = (section: string | undefined): unknown => {
    if (section === 'yaml') return yamlSettings();
    if (section === 'http') return { proxy: '', proxyStrictSSL: false };
    if (section === '[yaml]' || section === 'editor') return {};
    if (section === undefined) return { yaml: yamlSettings() };
    return null;
  };

  const ours = await startServer(
    'ours',
    'EmbedTune',
    'embedtune',
    [SERVER_SCRIPT, '--stdio'],
    (section) => {
      if (section === 'embedtune') return embedtuneSettings;
      if (section === undefined) return { embedtune: embedtuneSettings };
      return null;
    },
    workspace,
  );
  servers.push(ours);
  const yamlLs = await startServer(
    'yamlLs',
    'yaml-language-server',
    'yaml',
    [join(ROOT, 'bench', 'yamlServerNoDelay.cjs'), '--stdio'],
    yamlConfiguration,
    workspace,
  );
  servers.push(yamlLs);
  const yamlLsStock = options.stock
    ? await startServer(
        'yamlLsStock',
        'yaml-language-server (stock, 200 ms delay)',
        'yaml',
        [join(YAML_LS_DIR, 'bin', 'yaml-language-server'), '--stdio'],
        yamlConfiguration,
        workspace,
      )
    : undefined;
  if (yamlLsStock) servers.push(yamlLsStock);

  await ours.server.notify('workspace/didChangeConfiguration', { settings: { embedtune: embedtuneSettings } });
  for (const target of servers.filter((s) => s.key !== 'ours'))
    await target.server.notify('workspace/didChangeConfiguration', { settings: { yaml: yamlSettings() } });
  await until(() => servers.every((s) => s.server.configurationRequests > 0), WAIT_MS, 'the servers to pull their settings');
  // Our server pulls settings twice (initialized, then didChangeConfiguration); let both land before the first edit.
  await until(() => ours.server.configurationRequests >= 2, WAIT_MS, 'EmbedTune to pull its settings after didChangeConfiguration');

  for (const target of servers) {
    const opened = target.server.waitForDiagnostics(uri, () => true, WAIT_MS);
    await target.server.notify('textDocument/didOpen', {
      textDocument: { uri, languageId: target.languageId, version: target.version, text: clean },
    });
    const published = await opened;
    if (published.diagnostics.length > 0) {
      observations.push(
        `${target.label} reports ${published.diagnostics.length} diagnostic(s) on the clean config: ${published.diagnostics.map((d) => d.message).join(' | ')}`,
      );
    }
  }

  // --------------------------------------------------- does yaml-language-server really use our schema?
  let schemaVariant = 'schemas/embedtune.schema.json as is (draft 2020-12)';
  const yamlTargets = servers.filter((s) => s.key !== 'ours');
  const schemaWorks = async () => {
    for (const target of yamlTargets) {
      try {
        await changeAndWait(target, uri, typo, hasTypo);
        await changeAndWait(target, uri, clean, (p) => !hasTypo(p));
      } catch {
        return false;
      }
    }
    return true;
  };
  if (!(await schemaWorks())) {
    const last = yamlLs.server.lastDiagnostics.get(uri);
    observations.push(
      `yaml-language-server did not flag the \`lerning_rate\` typo with the 2020-12 schema (its diagnostics: ${last?.diagnostics.map((d) => d.message).join(' | ') || 'none'}); switched to a draft-07 copy.`,
    );
    const draft7 = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
    draft7.$schema = 'http://json-schema.org/draft-07/schema#';
    const draft7Path = join(workspace, 'embedtune.schema.draft-07.json');
    writeFileSync(draft7Path, JSON.stringify(draft7, null, 2));
    schemaUrl = pathToFileURL(draft7Path).href;
    schemaVariant = 'a copy of the schema with `$schema` switched to draft-07 (the 2020-12 original was not applied)';
    for (const target of yamlTargets)
      await target.server.notify('workspace/didChangeConfiguration', { settings: { yaml: yamlSettings() } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (!(await schemaWorks())) throw new Error('yaml-language-server applies neither the 2020-12 schema nor its draft-07 copy');
  }

  // ------------------------------------------------------------------- schema fidelity (untimed)
  const fidelity: Results['fidelity'] = [];
  for (const probe of fidelityProbes()) {
    const broken = probe.apply(clean);
    const row = { label: probe.label, ours: [] as string[], yamlLs: [] as string[] };
    for (const target of [ours, yamlLs]) {
      const { published } = await changeAndWait(target, uri, broken);
      row[target.key === 'ours' ? 'ours' : 'yamlLs'] = published.diagnostics.map((d) => `L${d.range.start.line + 1}: ${d.message}`);
      await changeAndWait(target, uri, clean);
    }
    fidelity.push(row);
  }

  // ------------------------------------------------------------------------------ 1. diagnostics
  console.log(`diagnostics: ${options.warmup} warm-up + ${options.iterations} edits per server, interleaved…`);
  const diagnosticSamples = new Map<string, number[]>(servers.map((s) => [s.key, []]));
  const counts = new Map<string, { clean: number; typo: number }>(servers.map((s) => [s.key, { clean: -1, typo: -1 }]));
  const rounds = options.warmup + options.iterations + ((options.warmup + options.iterations) % 2);
  for (let round = 0; round < rounds; round++) {
    const withTypo = round % 2 === 0;
    const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
    for (const target of order) {
      // Every round's text is new (the training seed changes too), so no server can answer from a cache of earlier texts.
      const text = (withTypo ? typo : clean).replace('\n  seed: 42\n', `\n  seed: ${1000 + round}\n`);
      const { published, latencyMs } = await changeAndWait(target, uri, text, (p) => hasTypo(p) === withTypo);
      counts.get(target.key)![withTypo ? 'typo' : 'clean'] = published.diagnostics.length;
      if (round >= options.warmup && round < options.warmup + options.iterations) diagnosticSamples.get(target.key)!.push(latencyMs);
    }
  }

  // ------------------------------------------------------------------------------- 2. completion
  const pair = [ours, yamlLs];
  const cSpots = completionSpots(clean);
  console.log(`completion: ${cSpots.length} positions × (${options.warmup} warm-up + ${options.iterations}) requests per server…`);
  const cSamples = cSpots.map(() => ({ ours: [] as number[], yamlLs: [] as number[] }));
  const cFirst = cSpots.map(() => ({ ours: [] as CompletionItem[], yamlLs: [] as CompletionItem[] }));
  // The first code lens reads every past run; completions sent while it does must not wait for it.
  const firstLensSentAt = performance.now();
  let firstCodeLensMs = -1;
  const firstLens = ours.server.request<CodeLens[] | null>('textDocument/codeLens', { textDocument: { uri } }).then(() => {
    firstCodeLensMs = performance.now() - firstLensSentAt;
  });
  const duringFirstRead: number[] = [];
  while (firstCodeLensMs < 0) {
    const spot = cSpots[duringFirstRead.length % cSpots.length]!;
    const sentAt = performance.now();
    await ours.server.request('textDocument/completion', {
      textDocument: { uri },
      position: { line: spot.line, character: spot.character },
      context: { triggerKind: 1 },
    });
    duringFirstRead.push(performance.now() - sentAt);
  }
  await firstLens;
  const lensSamples: number[] = [];
  let historyLenses = 0;
  for (let round = 0; round < options.warmup + options.iterations; round++) {
    // As an editor does after a change: the code lenses (with the past runs' history) between completions.
    const lensSentAt = performance.now();
    const lenses = await ours.server.request<CodeLens[] | null>('textDocument/codeLens', { textDocument: { uri } });
    lensSamples.push(performance.now() - lensSentAt);
    historyLenses = (lenses ?? []).filter((lens) => lens.command?.command === 'embedtune.compareRuns').length;
    for (const [index, spot] of cSpots.entries()) {
      const order = (round + index) % 2 === 0 ? pair : [...pair].reverse();
      for (const target of order) {
        const side = target.key === 'ours' ? 'ours' : 'yamlLs';
        const sentAt = performance.now();
        const result = await target.server.request<CompletionList | CompletionItem[] | null>('textDocument/completion', {
          textDocument: { uri },
          position: { line: spot.line, character: spot.character },
          context: { triggerKind: 1 },
        });
        const latencyMs = performance.now() - sentAt;
        if (round === 0) cFirst[index]![side] = completionItems(result);
        if (round >= options.warmup) cSamples[index]![side].push(latencyMs);
      }
    }
  }

  // ------------------------------------------------------------------------------------ 3. hover
  const hSpots = hoverSpots(clean);
  console.log(`hover: ${hSpots.length} positions × (${options.warmup} warm-up + ${options.iterations}) requests per server…`);
  const hSamples = hSpots.map(() => ({ ours: [] as number[], yamlLs: [] as number[] }));
  const hFirst = hSpots.map(() => ({ ours: '', yamlLs: '' }));
  for (let round = 0; round < options.warmup + options.iterations; round++) {
    for (const [index, spot] of hSpots.entries()) {
      const order = (round + index) % 2 === 0 ? pair : [...pair].reverse();
      for (const target of order) {
        const side = target.key === 'ours' ? 'ours' : 'yamlLs';
        const sentAt = performance.now();
        const result = await target.server.request<Hover | null>('textDocument/hover', {
          textDocument: { uri },
          position: { line: spot.line, character: spot.character },
        });
        const latencyMs = performance.now() - sentAt;
        if (round === 0) hFirst[index]![side] = hoverText(result);
        if (round >= options.warmup) hSamples[index]![side].push(latencyMs);
      }
    }
  }

  // ------------------------------------------------------------------------------------ results
  const memory = new Map(servers.map((s) => [s.key, s.server.memory()]));
  const yamlLsVersion = (JSON.parse(readFileSync(join(YAML_LS_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  const ourPackageVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

  const diagnostics: Results['diagnostics'] = {};
  for (const target of servers) {
    const samples = diagnosticSamples.get(target.key)!;
    diagnostics[target.key] = {
      stats: latencyStats(samples),
      cleanCount: counts.get(target.key)!.clean,
      typoCount: counts.get(target.key)!.typo,
      samples: samples.map(round2),
    };
  }
  const all = (samples: { ours: number[]; yamlLs: number[] }[], side: 'ours' | 'yamlLs') => samples.flatMap((s) => s[side]);
  const completion: Results['completion'] = {
    spots: cSpots.map((spot, i) => {
      const o = latencyStats(cSamples[i]!.ours);
      const y = latencyStats(cSamples[i]!.yamlLs);
      return {
        ...spot,
        ours: o,
        yamlLs: y,
        ratio: statsRatio(o, y),
        oursItems: cFirst[i]!.ours.length,
        yamlLsItems: cFirst[i]!.yamlLs.length,
        oursSample: cFirst[i]!.ours.slice(0, 8).map((item) => item.label),
        yamlLsSample: cFirst[i]!.yamlLs.slice(0, 8).map((item) => item.label),
      };
    }),
    ours: latencyStats(all(cSamples, 'ours')),
    yamlLs: latencyStats(all(cSamples, 'yamlLs')),
    samples: { ours: all(cSamples, 'ours').map(round2), yamlLs: all(cSamples, 'yamlLs').map(round2) },
  };
  const hover: Results['hover'] = {
    spots: hSpots.map((spot, i) => {
      const o = latencyStats(hSamples[i]!.ours);
      const y = latencyStats(hSamples[i]!.yamlLs);
      return {
        ...spot,
        ours: o,
        yamlLs: y,
        ratio: statsRatio(o, y),
        oursChars: hFirst[i]!.ours.length,
        yamlLsChars: hFirst[i]!.yamlLs.length,
      };
    }),
    ours: latencyStats(all(hSamples, 'ours')),
    yamlLs: latencyStats(all(hSamples, 'yamlLs')),
    samples: { ours: all(hSamples, 'ours').map(round2), yamlLs: all(hSamples, 'yamlLs').map(round2) },
  };
  const ratios: Results['ratios'] = {
    diagnostics: statsRatio(diagnostics.ours!.stats, diagnostics.yamlLs!.stats),
    ...(diagnostics.yamlLsStock ? { diagnosticsVsStock: statsRatio(diagnostics.ours!.stats, diagnostics.yamlLsStock.stats) } : {}),
    completion: statsRatio(completion.ours, completion.yamlLs),
    hover: statsRatio(hover.ours, hover.yamlLs),
  };
  const pastRuns: Results['pastRuns'] = {
    count: options.pastRuns,
    eventsBytes: pastRunsBytes,
    historyLenses,
    firstCodeLensMs: round3(firstCodeLensMs),
    completionDuringFirstRead: latencyStats(duringFirstRead),
    codeLens: latencyStats(lensSamples),
    samples: lensSamples.map(round3),
  };
  if (options.pastRuns > 0 && historyLenses === 0)
    observations.push(`No hyperparameter history lens with ${options.pastRuns} past runs on disk.`);
  const targets: Results['targets'] = [
    {
      label: `diagnostics: EmbedTune median ≤ ${TARGET_DIAGNOSTICS_RATIO}× yaml-language-server's (both validating with no debounce)`,
      value: `${formatRatio(ratios.diagnostics.median)} (p90 ${formatRatio(ratios.diagnostics.p90)}, p99 ${formatRatio(ratios.diagnostics.p99)})`,
      pass: ratios.diagnostics.median <= TARGET_DIAGNOSTICS_RATIO,
    },
    {
      label: `completion: EmbedTune p99 < ${TARGET_COMPLETION_P99_MS} ms (all ${cSpots.length} positions together, ${options.pastRuns} past runs on disk)`,
      value: `${formatMs(completion.ours.p99)} ms (worst position p99 ${formatMs(Math.max(...completion.spots.map((s) => s.ours.p99)))} ms)`,
      pass: completion.ours.p99 < TARGET_COMPLETION_P99_MS,
    },
    {
      label: `completion: EmbedTune p99 < ${TARGET_COMPLETION_P99_MS} ms while its first code lens reads the ${options.pastRuns} past runs`,
      value: `${formatMs(pastRuns.completionDuringFirstRead.p99)} ms (${pastRuns.completionDuringFirstRead.n} completions during a ${formatMs(pastRuns.firstCodeLensMs)} ms read)`,
      pass: pastRuns.completionDuringFirstRead.p99 < TARGET_COMPLETION_P99_MS,
    },
  ];

  for (const spot of completion.spots) {
    if (spot.oursItems === 0)
      observations.push(`EmbedTune returned no completion items at "${spot.label}" (line ${spot.line + 1}, character ${spot.character}).`);
    if (spot.yamlLsItems === 0)
      observations.push(
        `yaml-language-server returned no completion items at "${spot.label}" (line ${spot.line + 1}, character ${spot.character}).`,
      );
  }
  for (const spot of hover.spots) {
    if (spot.oursChars === 0) observations.push(`EmbedTune returned no hover at "${spot.label}".`);
    if (spot.yamlLsChars === 0) observations.push(`yaml-language-server returned no hover at "${spot.label}".`);
  }
  for (const row of fidelity) {
    if (row.ours.length === 0) observations.push(`EmbedTune reported nothing for the probe ${row.label}.`);
    if (row.yamlLs.length === 0) observations.push(`yaml-language-server reported nothing for the probe ${row.label}.`);
  }
  for (const target of servers) {
    const c = counts.get(target.key)!;
    if (c.typo !== c.clean + 1)
      observations.push(`${target.label}: ${c.clean} diagnostic(s) on the clean config and ${c.typo} with the typo (expected one more).`);
    const errors = target.server.logs.filter((line) => /error|fail|exception/i.test(line));
    if (errors.length > 0) observations.push(`${target.label} logged ${errors.length} error line(s); first: ${errors[0]}`);
  }

  const results: Results = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpuModel(),
    cores: cpus().length,
    options,
    fixture: {
      lines: clean.split('\n').length - 1,
      bytes: Buffer.byteLength(clean),
      alphaItems: (clean.match(/^ {4}- \d+\.\d+ #/gm) ?? []).length,
      metricItems: (clean.match(/^ {4}- (ndcg|mrr|map|recall)@\d+$/gm) ?? []).length,
      dataFiles:
        'data/train.jsonl (2,000 rows) and data/validation.jsonl (200 rows) written next to the config in a temp folder, so the config validates clean',
    },
    build,
    setup: [],
    servers: Object.fromEntries(
      servers.map((s) => {
        const m = memory.get(s.key);
        const version = s.key === 'ours' ? `${s.serverInfo?.version ?? ourPackageVersion} (package ${ourPackageVersion})` : yamlLsVersion;
        return [
          s.key,
          {
            label: s.label,
            command: s.server.commandLine.replace(`${ROOT}/`, ''),
            version,
            startupMs: round3(s.startupMs),
            ...(m ? { rssMiB: round3(m.rssKiB / 1024), peakRssMiB: round3(m.peakRssKiB / 1024) } : {}),
            publishes: s.server.publishCount,
          },
        ];
      }),
    ),
    schemaVariant,
    sampleLayout:
      'Samples are milliseconds in measurement order. completion.samples and hover.samples are grouped by position, in the order of their spots, options.iterations samples per position.',
    diagnostics,
    completion,
    hover,
    ratios,
    pastRuns,
    targets,
    fidelity,
    observations,
    logs: Object.fromEntries(servers.map((s) => [s.key, s.server.logs.slice(0, 50)])),
  };
  results.setup = setupNotes(results);

  mkdirSync(dirname(RESULTS_PATH), { recursive: true });
  // Indented for reading, but each list of numbers on one line.
  const json = JSON.stringify(results, null, 2).replace(
    /\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g,
    (_, list: string) => `[${list.split(/,\s*/).join(', ')}]`,
  );
  writeFileSync(RESULTS_PATH, json + '\n');
  const section = renderSection(results);
  console.log('\n' + section);
  if (options.docs) writeDocs(section);
  console.log(
    `raw numbers: ${RESULTS_PATH.replace(`${ROOT}/`, '')}${options.docs ? `; section written to ${DOCS_PATH.replace(`${ROOT}/`, '')}` : ''}`,
  );
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

function setupNotes(r: Results): string[] {
  const notes = [
    `Both servers run as \`node <script> --stdio\` child processes of one client (\`vscode-languageserver-protocol/node\`), which declares \`workspace.configuration\` and answers \`workspace/configuration\` and \`client/registerCapability\`. Requests are sent one at a time; each sample is the time from writing the message to parsing the reply in the client.`,
    `The servers take turns: every diagnostics round and every completion/hover position alternates which server goes first, so machine noise lands on both. ${r.options.warmup} warm-up rounds are discarded, then ${r.options.iterations} are measured.`,
    `Document: \`${CONFIG_NAME}\`, ${r.fixture.lines} lines (${r.fixture.bytes.toLocaleString('en-US')} bytes), generated by \`bench/fixtures/benchConfig.ts\`: a MiniLM + LoRA + MNRL retrieval config with comments, a ${r.fixture.alphaItems}-item \`loss.alpha\` list, \`strategy.lora.targets\` and a ${r.fixture.metricItems}-item \`evaluation.metrics\` list; some keys are left at their defaults, as in real configs. ${r.fixture.dataFiles}. EmbedTune opens it as languageId \`embedtune\`, yaml-language-server as \`yaml\`.`,
    `Diagnostics: each edit is a full-text \`didChange\` that toggles \`learning_rate\` ↔ \`lerning_rate\` and sets \`training.seed\` to a new value, so that every text is new; the sample ends at the \`publishDiagnostics\` that matches the edit (same version when the server echoes it, and the \`lerning_rate\` unknown-key diagnostic present exactly when the typo is in the text).`,
    `EmbedTune: \`embedtune.validation.debounceMs\` = 0 (answered through \`workspace/configuration\`).`,
    `Past runs: ${r.pastRuns.count} finished runs of the config under its output_dir (\`runs/\`), written with the trainer's own writers (run.json, config.resolved.yaml, events.jsonl; ${(r.pastRuns.eventsBytes / 1024 / 1024).toFixed(1)} MiB of events in all). Before each completion round EmbedTune gets a \`textDocument/codeLens\` request, untimed in the completion numbers, which reads them for the hyperparameter history lenses (${r.pastRuns.historyLenses} lenses): the first took ${formatMs(r.pastRuns.firstCodeLensMs)} ms, during which ${r.pastRuns.completionDuringFirstRead.n} completions sent one after another took median ${formatMs(r.pastRuns.completionDuringFirstRead.median)} ms, p99 ${formatMs(r.pastRuns.completionDuringFirstRead.p99)} ms; the others median ${formatMs(r.pastRuns.codeLens.median)} ms, p99 ${formatMs(r.pastRuns.codeLens.p99)} ms (run folders cached by size and mtime).`,
    `yaml-language-server ${r.servers.yamlLs?.version}: \`yaml.schemas\` maps the schema's file:// URL to \`*.embedtune.yaml\`, with validate, completion and hover on, \`format.enable: false\`, and the schema store and Kubernetes CRD store off (the machine is offline). Schema used: ${r.schemaVariant}.`,
    `yaml-language-server waits a fixed 200 ms (\`validationDelayMs\`, no setting changes it) before validating. For the like-for-like numbers it is started through \`bench/yamlServerNoDelay.cjs\`, which sets that delay to 0 and changes nothing else.${r.diagnostics.yamlLsStock ? ' The unpatched server is measured too, for diagnostics only (its completion and hover code is the same).' : ''} Before each validation yaml-language-server also asks the client for the \`[yaml]\` settings, a round trip that is part of its numbers (as it would be in VS Code).`,
  ];
  return notes;
}

function statsRow(name: string, n: number, s: LatencyStats): string {
  return `| ${name} | ${n} | ${formatMs(s.median)} | ${formatMs(s.p90)} | ${formatMs(s.p99)} | ${formatMs(s.mean)} |`;
}

function renderSection(r: Results): string {
  const lines: string[] = [SECTION_TITLE, ''];
  const ours = r.servers.ours!;
  const yls = r.servers.yamlLs!;
  const stock = r.servers.yamlLsStock;
  lines.push(
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC · Node ${r.node} · ${r.cpu} (${r.cores} cores) · fixture ${r.fixture.lines} lines · EmbedTune server ${ours.version} · yaml-language-server ${yls.version} · dist: ${r.build}.`,
    '',
    '### Targets',
    '',
    '| Target | Result | |',
    '| --- | --- | --- |',
    ...r.targets.map((t) => `| ${t.label} | ${t.value} | ${t.pass ? '**pass**' : '**FAIL**'} |`),
    '',
    '### Latency (ms)',
    '',
    '| Measurement | n | median | p90 | p99 | mean |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  );
  const d = r.diagnostics;
  lines.push(statsRow('Diagnostics after an edit: EmbedTune (debounceMs 0)', d.ours!.stats.n, d.ours!.stats));
  lines.push(statsRow('Diagnostics after an edit: yaml-language-server (delay patched to 0)', d.yamlLs!.stats.n, d.yamlLs!.stats));
  if (d.yamlLsStock)
    lines.push(
      statsRow('Diagnostics after an edit: yaml-language-server (stock, 200 ms delay)', d.yamlLsStock.stats.n, d.yamlLsStock.stats),
    );
  lines.push(statsRow(`Completion, ${r.completion.spots.length} positions: EmbedTune`, r.completion.ours.n, r.completion.ours));
  lines.push(
    statsRow(`Completion, ${r.completion.spots.length} positions: yaml-language-server`, r.completion.yamlLs.n, r.completion.yamlLs),
  );
  lines.push(statsRow(`Hover, ${r.hover.spots.length} keys: EmbedTune`, r.hover.ours.n, r.hover.ours));
  lines.push(statsRow(`Hover, ${r.hover.spots.length} keys: yaml-language-server`, r.hover.yamlLs.n, r.hover.yamlLs));
  lines.push(
    '',
    '### Ratios, EmbedTune ÷ yaml-language-server (below 1× means EmbedTune is faster)',
    '',
    '| Measurement | median | p90 | p99 | mean |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  const ratioRow = (name: string, x: StatsRatio) =>
    `| ${name} | ${formatRatio(x.median)} | ${formatRatio(x.p90)} | ${formatRatio(x.p99)} | ${formatRatio(x.mean)} |`;
  lines.push(ratioRow('Diagnostics (both without debounce)', r.ratios.diagnostics));
  if (r.ratios.diagnosticsVsStock)
    lines.push(ratioRow('Diagnostics vs stock yaml-language-server (its 200 ms delay included)', r.ratios.diagnosticsVsStock));
  lines.push(ratioRow('Completion', r.ratios.completion), ratioRow('Hover', r.ratios.hover));

  lines.push(
    '',
    '### Completion by position (ms; items = size of the list returned)',
    '',
    '| Position | EmbedTune median | EmbedTune p99 | items | yaml-ls median | yaml-ls p99 | items | ratio (median) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.completion.spots.map(
      (s) =>
        `| ${s.label} (L${s.line + 1}:${s.character}) | ${formatMs(s.ours.median)} | ${formatMs(s.ours.p99)} | ${s.oursItems} | ${formatMs(s.yamlLs.median)} | ${formatMs(s.yamlLs.p99)} | ${s.yamlLsItems} | ${formatRatio(s.ratio.median)} |`,
    ),
    '',
    '### Hover by key (ms)',
    '',
    '| Key | EmbedTune median | EmbedTune p99 | yaml-ls median | yaml-ls p99 | ratio (median) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.hover.spots.map(
      (s) =>
        `| ${s.label}${s.oursChars === 0 ? ' (EmbedTune: no hover)' : ''}${s.yamlLsChars === 0 ? ' (yaml-ls: no hover)' : ''} | ${formatMs(s.ours.median)} | ${formatMs(s.ours.p99)} | ${formatMs(s.yamlLs.median)} | ${formatMs(s.yamlLs.p99)} | ${formatRatio(s.ratio.median)} |`,
    ),
    '',
    '### Memory and start-up',
    '',
    '| Server | RSS after the run (MiB) | peak RSS (MiB) | spawn → initialize reply (ms) |',
    '| --- | ---: | ---: | ---: |',
    ...[ours, yls, ...(stock ? [stock] : [])].map(
      (s) => `| ${s.label} | ${s.rssMiB?.toFixed(1) ?? 'n/a'} | ${s.peakRssMiB?.toFixed(1) ?? 'n/a'} | ${formatMs(s.startupMs)} |`,
    ),
    '',
    '### What each server reports for one broken config (not timed)',
    '',
    '| Edit to the clean config | EmbedTune | yaml-language-server |',
    '| --- | --- | --- |',
    ...r.fidelity.map((f) => `| ${f.label} | ${cell(f.ours)} | ${cell(f.yamlLs)} |`),
    '',
    '### Setup',
    '',
    ...r.setup.map((note) => `- ${note}`),
    '',
  );
  if (r.observations.length > 0) lines.push('### Observations from this run', '', ...r.observations.map((o) => `- ${escapeCell(o)}`), '');
  lines.push('Raw samples: `bench/results/lspLatency.json`.', '');
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function cell(messages: readonly string[]): string {
  if (messages.length === 0) return '—';
  return messages.map((m) => escapeCell(m.length > 260 ? `${m.slice(0, 257)}…` : m)).join('<br>');
}

const DOCS_INTRO = [
  '# Benchmarks',
  '',
  'These results come from `npm run bench`, which writes the sections below and the raw numbers under `bench/results/`. ' +
    'They are from one noisy 2-core machine, so absolute milliseconds move from run to run; the ratios between servers measured ' +
    'side by side in one run matter more than the absolute numbers.',
  '',
].join('\n');

/** Replaces this benchmark's section of docs/benchmarks.md (up to the next `## ` heading), creating the file if needed. */
/**
 * `count` finished runs of the config, as the trainer leaves them: learning rate, batch size and epochs vary from run to
 * run, each log holds 300 progress events and 10 evaluations. Returns the bytes of events written.
 */
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

function writeDocs(section: string): void {
  const current = existsSync(DOCS_PATH) ? readFileSync(DOCS_PATH, 'utf8') : DOCS_INTRO;
  const start = current.indexOf(`${SECTION_TITLE}\n`);
  let next: string;
  if (start < 0) {
    next = `${current.trimEnd()}\n\n${section}`;
  } else {
    const after = current.slice(start + SECTION_TITLE.length);
    const end = after.search(/\n## /);
    next = current.slice(0, start) + section + (end < 0 ? '' : `\n${after.slice(end + 1)}`);
  }
  mkdirSync(dirname(DOCS_PATH), { recursive: true });
  writeFileSync(DOCS_PATH, next.trimEnd() + '\n');
}

main().catch((error: unknown) => {
  console.error(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
