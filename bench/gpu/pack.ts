/**
 * Packs what bench/gpu/check needs on the lent GPU machine, which has Python and torch but no Node and no network,
 * and takes at most 64 MiB per call (the working tree included): a Node binary for linux-x64 (this one, by
 * default), the built dist/ (cli.js, its wasm binaries and WordNet files; no source maps, no extension or server
 * bundles) and python/embedtune_accelerate, as one gzip'd tar. The check unpacks it with Python's tarfile.
 *
 *   npm run bench:gpu:pack                          # writes bench/gpu/carry/embedtune-gpu-check.tgz
 *   node --import tsx bench/gpu/pack.ts --node /path/to/node --out FILE --level 1..9 --budget-mib 64
 *
 * It fails (exit 1) and removes the pack when the pack and the files that travel with every call together pass the
 * budget, so a pack that would be refused is never handed to the device tool.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';

const ROOT = resolve(__dirname, '../..');
const DEFAULT_OUT = join(__dirname, 'carry', 'embedtune-gpu-check.tgz');
const MIB = 2 ** 20;
/** What the CLI reads at run time; dist/extension.js and dist/server.js are the editor's, and maps are for debugging. */
const DIST_EXCLUDES = ['*.map', 'dist/extension.js', 'dist/server.js'];

export interface PackOptions {
  readonly node: string;
  readonly out: string;
  readonly level: number;
  readonly budgetMib: number;
}

function usageError(message: string): never {
  console.error(
    `bench/gpu/pack: ${message}\nUsage: node --import tsx bench/gpu/pack.ts [--node PATH] [--out FILE] [--level 1..9] [--budget-mib N]`,
  );
  process.exit(2);
}

function wholeNumber(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    usageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  return value;
}

function parseOptions(argv: string[]): PackOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { node: { type: 'string' }, out: { type: 'string' }, level: { type: 'string' }, 'budget-mib': { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    usageError((error as Error).message);
  }
  return {
    node: resolve(values.node ?? process.execPath),
    out: resolve(values.out ?? DEFAULT_OUT),
    level: wholeNumber('level', values.level, 9, 1, 9),
    budgetMib: wholeNumber('budget-mib', values['budget-mib'], 64, 1, 4096),
  };
}

function git(args: string[]): string {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * MIB });
  return result.status === 0 ? result.stdout : '';
}

/** Bytes of the files the device tool copies with every call: tracked files and untracked ones git does not ignore. */
export function workingTreeBytes(): number {
  return git(['ls-files', '-z', '--cached', '--others', '--exclude-standard'])
    .split('\0')
    .filter(Boolean)
    .reduce((sum, path) => {
      const full = join(ROOT, path);
      return existsSync(full) ? sum + statSync(full).size : sum;
    }, 0);
}

function nodeVersion(node: string): string {
  const result = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${node} does not run (${result.error?.message ?? result.stderr.trim()})`);
  return result.stdout.trim();
}

/** pack.json and bin/node (a link the tar follows), so that the archive's layout does not depend on where node is. */
function stage(options: PackOptions): string {
  const staging = mkdtempSync(join(tmpdir(), 'embedtune-gpu-pack-'));
  mkdirSync(join(staging, 'bin'));
  symlinkSync(options.node, join(staging, 'bin', 'node'));
  const manifest = {
    node: nodeVersion(options.node),
    platform: `${process.platform}-${process.arch}`,
    commit: git(['rev-parse', '--short', 'HEAD']).trim() || 'unknown',
    distBuilt: statSync(join(ROOT, 'dist', 'cli.js')).mtime.toISOString(),
    packed: new Date().toISOString(),
  };
  writeFileSync(join(staging, 'pack.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return staging;
}

async function writeArchive(options: PackOptions, staging: string): Promise<void> {
  const args = [
    '-c',
    '-f',
    '-',
    '--dereference',
    ...DIST_EXCLUDES.map((pattern) => `--exclude=${pattern}`),
    '--exclude=__pycache__',
    '-C',
    ROOT,
    'dist',
    'python/embedtune_accelerate',
    '-C',
    staging,
    'pack.json',
    'bin',
  ];
  mkdirSync(dirname(options.out), { recursive: true });
  const partial = `${options.out}.partial`;
  const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => tar.on('close', done));
  await pipeline(tar.stdout, createGzip({ level: options.level }), createWriteStream(partial));
  const code = await exited;
  if (code !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`tar exited with ${code}: ${stderr.trim()}`);
  }
  renameSync(partial, options.out);
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (process.platform !== 'linux' || process.arch !== 'x64')
    console.warn(`warning: this is ${process.platform}-${process.arch}; the GPU machine is linux-x64.`);
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) usageError('dist/cli.js is missing; run `npm run build` first.');
  if (!existsSync(options.node)) usageError(`--node ${options.node} does not exist.`);
  const staging = stage(options);
  try {
    await writeArchive(options, staging);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const pack = statSync(options.out).size;
  const tree = workingTreeBytes();
  const total = pack + tree;
  const line = `${relative(process.cwd(), options.out)}: ${(pack / MIB).toFixed(1)} MiB, plus ${(tree / MIB).toFixed(1)} MiB of working tree = ${(total / MIB).toFixed(1)} MiB of the ${options.budgetMib} MiB a call carries`;
  if (total > options.budgetMib * MIB) {
    // Removed, so that a pack the device tool would refuse is never carried by mistake.
    rmSync(options.out, { force: true });
    console.error(`${line}: too big, so it was removed. Drop files from the pack, or pass a smaller Node build with --node.`);
    return 1;
  }
  console.log(line);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`bench/gpu/pack: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
