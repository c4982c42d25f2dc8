import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFile, readRegularJson } from './regularFile';

/**
 * Where a model named by hub id sits on this machine: the Hugging Face cache (huggingface_hub's layout,
 * `models--org--name/snapshots/<revision>/`) and the legacy sentence-transformers cache. The trainer's model locator
 * looks here before it downloads anything, and the Embedding Lab checks a hub id the user types against the same
 * places, so both agree on what "in the local cache" means. Pure file reads: no network, no editor.
 */

/** What the locator accepts as a hub id: `name` or `org/name`. */
export const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** The variables the caches are found by (process.env in production). */
export type CacheEnvironment = Readonly<Record<string, string | undefined>>;

export interface ModelFolder {
  /** The folder with the transformer's config.json, weights and tokenizer. */
  folder: string;
  /** The folder that was found; above `folder` when a sentence-transformers model keeps its transformer in a subfolder (`0_Transformer`). */
  rootFolder: string;
}

export interface CachedModelLookup {
  /** The complete cached model, if any. */
  readonly found: (ModelFolder & { source: 'hf-cache' | 'st-cache' }) | undefined;
  /** Each place looked in, with why it did not qualify. */
  readonly searched: string[];
  /** The ids tried: a bare name is also tried as `sentence-transformers/<name>`, as sentence-transformers reads it. */
  readonly ids: string[];
  /** The Hugging Face caches, `cacheDir` first: downloads go to the first. */
  readonly hubCaches: string[];
}

/**
 * Looks `id` (a string `HUB_ID` accepts) up in `cacheDir`, then the default Hugging Face cache, then the
 * sentence-transformers cache. Snapshots that hold only some files are passed over.
 */
export function findCachedModel(id: string, env: CacheEnvironment, home: string, cacheDir?: string): CachedModelLookup {
  const searched: string[] = [];
  const ids = id.includes('/') ? [id] : [id, `sentence-transformers/${id}`];
  const hubCaches = [...new Set([cacheDir, defaultHubCache(env, home)].filter((dir): dir is string => dir !== undefined))];
  for (const cache of hubCaches) {
    for (const candidate of ids) {
      const found = findInHubCache(cache, candidate, searched);
      if (found) return { found: { ...found, source: 'hf-cache' }, searched, ids, hubCaches };
    }
  }
  const stCache = sentenceTransformersCache(env, home);
  for (const candidate of ids) {
    const folder = join(stCache, candidate.replace('/', '_'));
    const found = existsSync(folder) ? completeModelFolder(folder) : 'no such folder';
    if (typeof found !== 'string') return { found: { ...found, source: 'st-cache' }, searched, ids, hubCaches };
    searched.push(`sentence-transformers cache: ${folder} (${found})`);
  }
  return { found: undefined, searched, ids, hubCaches };
}

/** huggingface_hub's own order: HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME or ~/.cache. */
export function defaultHubCache(env: CacheEnvironment, home: string): string {
  if (env['HF_HUB_CACHE']) return env['HF_HUB_CACHE'];
  if (env['HUGGINGFACE_HUB_CACHE']) return env['HUGGINGFACE_HUB_CACHE'];
  if (env['HF_HOME']) return join(env['HF_HOME'], 'hub');
  return join(env['XDG_CACHE_HOME'] ?? join(home, '.cache'), 'huggingface', 'hub');
}

/** Where sentence-transformers before v3 kept downloads, as `org_name` folders. */
function sentenceTransformersCache(env: CacheEnvironment, home: string): string {
  if (env['SENTENCE_TRANSFORMERS_HOME']) return env['SENTENCE_TRANSFORMERS_HOME'];
  return join(env['TORCH_HOME'] ?? join(env['XDG_CACHE_HOME'] ?? join(home, '.cache'), 'torch'), 'sentence_transformers');
}

export function hubRepoFolder(cache: string, id: string): string {
  return join(cache, `models--${id.split('/').join('--')}`);
}

/**
 * A cached snapshot of `id`: the revision `refs/main` names, else the newest snapshot. Snapshots can hold only
 * some files (a tool that fetched just config.json leaves one like that), so incomplete ones are passed over.
 */
function findInHubCache(cache: string, id: string, searched: string[]): ModelFolder | undefined {
  const repo = hubRepoFolder(cache, id);
  const snapshots = join(repo, 'snapshots');
  if (!existsSync(snapshots)) {
    searched.push(`Hugging Face cache: ${repo} (${existsSync(repo) ? 'no snapshots' : 'not there'})`);
    return undefined;
  }
  const refPath = join(repo, 'refs', 'main');
  const mainRevision = existsSync(refPath) ? readRegularFile(refPath, 'utf8').trim() : undefined;
  const revisions = readdirSync(snapshots, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ name: entry.name, modified: statSync(join(snapshots, entry.name)).mtimeMs }))
    .sort((a, b) => Number(b.name === mainRevision) - Number(a.name === mainRevision) || b.modified - a.modified)
    .map((entry) => entry.name);
  if (revisions.length === 0) searched.push(`Hugging Face cache: ${repo} (no snapshots)`);
  for (const revision of revisions) {
    const found = completeModelFolder(join(snapshots, revision));
    if (typeof found !== 'string') return found;
    searched.push(`Hugging Face cache: ${join(snapshots, revision)} (${found})`);
  }
  return undefined;
}

/** A found folder, or why it is not a usable model folder. */
export function transformerFolder(folder: string): ModelFolder | string {
  const modulesPath = join(folder, 'modules.json');
  if (existsSync(modulesPath)) {
    const subfolder = transformerModulePath(modulesPath);
    if (subfolder === undefined) return 'its modules.json names no Transformer module';
    const inner = join(folder, subfolder);
    if (!existsSync(join(inner, 'config.json'))) return `its modules.json puts the transformer in ${inner}, which has no config.json`;
    return { folder: inner, rootFolder: folder };
  }
  if (!existsSync(join(folder, 'config.json'))) return 'it has no config.json (nor a sentence-transformers modules.json)';
  return { folder, rootFolder: folder };
}

/** Like `transformerFolder`, but also needs weights, since a cache may hold a model only in part. */
export function completeModelFolder(folder: string): ModelFolder | string {
  const found = transformerFolder(folder);
  if (typeof found === 'string') return found;
  const weights = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin'];
  if (!weights.some((file) => existsSync(join(found.folder, file)))) return 'no model.safetensors in it';
  return found;
}

/** The path of the first Transformer module in modules.json ('' for the folder itself), as sentence-transformers loads it. */
function transformerModulePath(modulesPath: string): string | undefined {
  const modules = readRegularJson(modulesPath);
  if (!Array.isArray(modules)) throw new Error(`${modulesPath} is not a list of modules.`);
  const transformer = modules.find(
    (module: { type?: unknown }) => typeof module?.type === 'string' && /(^|\.)Transformer$/.test(module.type),
  ) as { path?: unknown } | undefined;
  if (!transformer) return undefined;
  return typeof transformer.path === 'string' ? transformer.path : '';
}
