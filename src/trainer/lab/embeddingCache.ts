import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Corpus embeddings on disk, one entry per (model, corpus) pair, so that searching the same corpus again never
 * re-encodes it. An entry is `<key>.f32` (the unit vectors, row after row, as little-endian float32) and `<key>.json`
 * (what they are); the key hashes the model's identity and the corpus hash.
 */
export interface CachedEmbeddings {
  readonly vectors: Float32Array[];
  readonly file: string;
}

interface CacheHeader {
  readonly model: string;
  readonly modelFingerprint: string;
  readonly corpusSha256: string;
  readonly count: number;
  readonly dimension: number;
}

/** `$XDG_CACHE_HOME/embedtune/lab`, else `~/.cache/embedtune/lab`. */
export function defaultLabCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'embedtune', 'lab');
}

/**
 * What identifies a model's weights without reading them: a folder's files (at its top and in checkpoint/ or
 * model/ layouts one level down) by name, size and modification time; a hub id by its name. Retraining into the
 * same folder changes the fingerprint, so stale embeddings are never served.
 */
export function modelFingerprint(model: string, baseDir: string): string {
  const folder = resolve(baseDir, model);
  if (!existsSync(folder)) return `id:${model}`;
  const hash = createHash('sha256').update(folder);
  for (const name of readdirSync(folder).sort()) {
    const stat = statSync(join(folder, name));
    hash.update(`\0${name}:${stat.isDirectory() ? 'dir' : `${stat.size}:${stat.mtimeMs}`}`);
    if (stat.isDirectory()) {
      for (const inner of readdirSync(join(folder, name)).sort()) {
        const innerStat = statSync(join(folder, name, inner));
        hash.update(`\0${name}/${inner}:${innerStat.size}:${innerStat.mtimeMs}`);
      }
    }
  }
  return hash.digest('hex');
}

export class EmbeddingCache {
  constructor(readonly dir: string) {}

  private key(fingerprint: string, corpusSha256: string): string {
    return createHash('sha256').update(`${fingerprint}\0${corpusSha256}`).digest('hex').slice(0, 32);
  }

  /** The stored vectors, or undefined when there are none or they do not match what was asked (a damaged entry). */
  read(fingerprint: string, corpusSha256: string, count: number): CachedEmbeddings | undefined {
    const base = join(this.dir, this.key(fingerprint, corpusSha256));
    if (!existsSync(`${base}.json`) || !existsSync(`${base}.f32`)) return undefined;
    let header: CacheHeader;
    try {
      header = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as CacheHeader;
    } catch {
      return undefined;
    }
    if (header.modelFingerprint !== fingerprint || header.corpusSha256 !== corpusSha256 || header.count !== count) return undefined;
    const bytes = readFileSync(`${base}.f32`);
    if (bytes.byteLength !== header.count * header.dimension * 4) return undefined;
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const vectors = Array.from({ length: header.count }, (_, i) => all.subarray(i * header.dimension, (i + 1) * header.dimension));
    return { vectors, file: `${base}.f32` };
  }

  /** Stores the vectors; each file is written beside its place and renamed, so a reader never sees half an entry. */
  write(model: string, fingerprint: string, corpusSha256: string, vectors: readonly Float32Array[]): string {
    mkdirSync(this.dir, { recursive: true });
    const base = join(this.dir, this.key(fingerprint, corpusSha256));
    const dimension = vectors[0]?.length ?? 0;
    const packed = new Float32Array(vectors.length * dimension);
    vectors.forEach((vector, i) => packed.set(vector, i * dimension));
    const header: CacheHeader = { model, modelFingerprint: fingerprint, corpusSha256, count: vectors.length, dimension };
    const suffix = `.${process.pid}.tmp`;
    writeFileSync(`${base}.f32${suffix}`, Buffer.from(packed.buffer));
    renameSync(`${base}.f32${suffix}`, `${base}.f32`);
    writeFileSync(`${base}.json${suffix}`, `${JSON.stringify(header)}\n`);
    renameSync(`${base}.json${suffix}`, `${base}.json`);
    return `${base}.f32`;
  }
}
