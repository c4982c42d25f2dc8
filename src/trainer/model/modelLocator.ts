import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { completeModelFolder, findCachedModel, HUB_ID, hubRepoFolder, transformerFolder } from '../../shared/model/hubCache';

/**
 * Finds the folder of the model a config names in `model.base`, local-first as transformers.js does: a folder on
 * disk, then the Hugging Face cache, then the legacy sentence-transformers cache, and only then the hub. Downloads
 * land in the Hugging Face cache layout, so Python tools and EmbedTune share one copy.
 */

/** The rules for finding a model; `cacheDir` is searched first and is where downloads go. */
export interface ModelLocatorSettings {
  allowRemote: boolean;
  cacheDir?: string;
}

export interface ModelLocatorContext {
  /** The folder a relative `model.base` is relative to: the config file's folder. */
  baseDir: string;
  /** Where HF_HUB_CACHE, HF_HOME, HF_ENDPOINT, HF_TOKEN and friends are read from (process.env in production). */
  env: Readonly<Record<string, string | undefined>>;
}

export type ModelSource = 'local' | 'hf-cache' | 'st-cache' | 'downloaded';

export interface LocatedModel {
  /** The folder with the transformer's config.json, weights and tokenizer. */
  folder: string;
  /** The folder that was found; above `folder` when a sentence-transformers model keeps its transformer in a subfolder (`0_Transformer`). */
  rootFolder: string;
  source: ModelSource;
}

/** The model is nowhere EmbedTune may look; `searched` lists each place with why it did not qualify. */
export class ModelNotFoundError extends Error {
  constructor(
    message: string,
    readonly modelId: string,
    readonly searched: readonly string[],
  ) {
    super(message);
    this.name = 'ModelNotFoundError';
  }
}

/** Files the trainer reads, at the top of a repo or inside a sentence-transformers module folder (`1_Pooling/`). */
const WANTED_FILES = new Set([
  'config.json',
  'model.safetensors',
  'model.safetensors.index.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'modules.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
]);
const SHARD_FILE = /^model-\d+-of-\d+\.safetensors$/;
const MODULE_FOLDER = /^\d+_[^/]+$/;

export async function locateModel(base: string, settings: ModelLocatorSettings, context: ModelLocatorContext): Promise<LocatedModel> {
  const home = context.env['HOME'] ?? context.env['USERPROFILE'] ?? homedir();
  const searched: string[] = [];

  const path = base.startsWith('~/') ? join(home, base.slice(2)) : resolve(context.baseDir, base);
  if (existsSync(path) && statSync(path).isDirectory()) {
    const found = transformerFolder(path);
    if (typeof found === 'string') throw new Error(`model.base ${JSON.stringify(base)} is the folder ${path}, but ${found}.`);
    return { ...found, source: 'local' };
  }
  searched.push(`${path} (no such folder)`);
  if (!HUB_ID.test(base)) {
    throw new ModelNotFoundError(
      `model.base ${JSON.stringify(base)} is not a folder (looked for ${path}) and not a Hugging Face model id like "sentence-transformers/all-MiniLM-L6-v2". Point it at a folder that contains config.json.`,
      base,
      searched,
    );
  }

  // The caches next; a bare name such as "all-MiniLM-L6-v2" is also tried as "sentence-transformers/all-MiniLM-L6-v2".
  const cached = findCachedModel(base, context.env, home, settings.cacheDir);
  if (cached.found) return cached.found;
  searched.push(...cached.searched);
  const { ids, hubCaches } = cached;

  const downloadCache = hubCaches[0]!;
  const offline = ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE'].find((name) =>
    ['1', 'true', 'yes', 'on'].includes((context.env[name] ?? '').toLowerCase()),
  );
  let whyNotDownloaded: string;
  if (!settings.allowRemote) whyNotDownloaded = 'downloading is turned off (allowRemote is false)';
  else if (offline) whyNotDownloaded = `downloading is turned off by ${offline}=${context.env[offline]}`;
  else {
    try {
      const snapshot = await downloadFirstFound(ids, downloadCache, context.env);
      const found = completeModelFolder(snapshot);
      if (typeof found === 'string') throw new Error(`the downloaded files in ${snapshot} are incomplete: ${found}`);
      return { ...found, source: 'downloaded' };
    } catch (error) {
      whyNotDownloaded = `downloading it from ${context.env['HF_ENDPOINT'] ?? 'https://huggingface.co'} failed: ${describeError(error)}`;
    }
  }
  throw new ModelNotFoundError(
    [
      `Model "${base}" is not on this machine, and ${whyNotDownloaded}.`,
      'Looked in:',
      ...searched.map((place) => `  - ${place}`),
      `To fix it, download the model where there is internet access with \`huggingface-cli download ${ids[ids.length - 1]} --local-dir <folder>\` ` +
        `(or \`hf download …\`), copy that folder here and point model.base at it; or copy a Hugging Face cache that holds the model to ${downloadCache}.`,
    ].join('\n'),
    base,
    searched,
  );
}

/** Downloads the first of `ids` the hub has; it answers 401 as well as 404 for a repository that does not exist. */
async function downloadFirstFound(ids: readonly string[], cacheDir: string, env: ModelLocatorContext['env']): Promise<string> {
  for (const [index, id] of ids.entries()) {
    try {
      return await downloadToHubCache(id, cacheDir, env);
    } catch (error) {
      const status = (error as { statusCode?: unknown }).statusCode;
      if (index === ids.length - 1 || (status !== 401 && status !== 404)) throw error;
    }
  }
  throw new Error('no model id to download');
}

/**
 * Downloads the files the trainer needs (not ONNX, OpenVINO or pickle exports) at the current `main` commit,
 * into the Hugging Face cache layout, and records that commit in refs/main as huggingface_hub does.
 */
async function downloadToHubCache(id: string, cacheDir: string, env: ModelLocatorContext['env']): Promise<string> {
  const hub = await import('@huggingface/hub');
  const token = env['HF_TOKEN'] ?? env['HUGGING_FACE_HUB_TOKEN'];
  const access = { ...(env['HF_ENDPOINT'] ? { hubUrl: env['HF_ENDPOINT'] } : {}), ...(token ? { accessToken: token } : {}) };
  const repo = { type: 'model' as const, name: id };
  const { sha } = await hub.modelInfo({ name: id, additionalFields: ['sha'], ...access });
  const files: string[] = [];
  for await (const entry of hub.listFiles({ repo, recursive: true, revision: sha, ...access })) {
    if (entry.type === 'file' && isWantedFile(entry.path)) files.push(entry.path);
  }
  if (!files.some((file) => file.endsWith('.safetensors')))
    throw new Error(`the repository ${id} has no safetensors weights, which EmbedTune needs`);
  for (const path of files) await hub.downloadFileToCacheDir({ repo, path, revision: sha, cacheDir, ...access });
  const refs = join(hubRepoFolder(cacheDir, id), 'refs');
  mkdirSync(refs, { recursive: true });
  writeFileSync(join(refs, 'main'), sha);
  return join(hubRepoFolder(cacheDir, id), 'snapshots', sha);
}

function isWantedFile(path: string): boolean {
  const parts = path.split('/');
  const name = parts[parts.length - 1]!;
  if (parts.length > 2 || (parts.length === 2 && !MODULE_FOLDER.test(parts[0]!))) return false;
  return WANTED_FILES.has(name) || SHARD_FILE.test(name);
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
