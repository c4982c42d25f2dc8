import { opendirSync, realpathSync, statSync, type Dir } from 'node:fs';
import { join } from 'node:path';
import type { DataFormat } from './dataFormat';
import { readImageHeader, type ImageHeader } from './imageHeader';
import { readImageRows, type ImageRow, type ImageRowColumns } from './imageRows';

/**
 * What validation needs to know about an ImageFolder-layout folder (`<folder>/<class>/.../<image>.png|jpg|jpeg`) without
 * decoding it: its classes and their image counts, and a bounded sample of image headers checked for readability.
 * Listing stops at a cap and the sample has a fixed size, so a folder of 100k images costs one directory listing
 * (cached) and a few dozen small reads, and an odd folder (a symlink loop, a folder it may not read) is reported,
 * never thrown.
 */

export interface ImageClass {
  readonly name: string;
  readonly images: number;
  /** Set when the class folder could not be listed (its count is then 0). */
  readonly problem?: string;
}

export interface UnreadableImage {
  /** Relative to the folder: `<class>/<file>`. */
  readonly file: string;
  readonly problem: string;
}

export interface ImageSize {
  readonly width: number;
  readonly height: number;
  readonly count: number;
}

export type ImageFolderSummary =
  | {
      readonly ok: true;
      /** Sorted by name, as torchvision's ImageFolder and the trainer order them. */
      readonly classes: readonly ImageClass[];
      readonly images: number;
      /** True when listing stopped at the entry cap: the counts are then lower bounds. */
      readonly capped: boolean;
      /** .png/.jpg/.jpeg files directly in the folder, which belong to no class and are not read. */
      readonly looseImages: number;
      /** Files in class folders without a .png/.jpg/.jpeg extension, which are not read. */
      readonly otherFiles: number;
      /** Headers checked, spread evenly over the classes. */
      readonly sampled: number;
      readonly unreadable: readonly UnreadableImage[];
      /** Sizes the sampled headers declare, most frequent first. */
      readonly sizes: readonly ImageSize[];
    }
  | { readonly ok: false; readonly reason: 'missing' | 'unreadable'; readonly message: string };

/** The images a CSV/TSV/JSONL row file of task image-classification names: labels counted, a sample of headers checked. */
export type ImageRowsSummary =
  | {
      readonly ok: true;
      /** Rows with an image and a label, among the rows read. */
      readonly rows: number;
      /** False when only the first IMAGE_ROWS_READ_BYTES of the file were read. */
      readonly wholeFile: boolean;
      /** Images per label, sorted by label. */
      readonly labels: readonly ImageClass[];
      readonly sampled: number;
      /** `file` as the row writes it, with the row's line. */
      readonly unreadable: readonly (UnreadableImage & { readonly line: number })[];
      readonly sizes: readonly ImageSize[];
    }
  | { readonly ok: false; readonly message: string };

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;
/** Image headers read per folder on each validation. */
export const IMAGE_SAMPLE_SIZE = 64;
/** Directory entries read per folder before counting stops; beyond it counts are lower bounds. */
const MAX_ENTRIES = 500_000;
/** Per-file header results kept; a folder's sample is far below it. */
const MAX_CACHED_HEADERS = 20_000;

const OUTSIDE_UNTRUSTED_WORKSPACE =
  'is not read: it is outside the workspace, and an untrusted workspace reads no file outside its folders';

interface Listing {
  readonly classes: readonly { name: string; files: readonly string[]; problem?: string }[];
  readonly looseImages: number;
  readonly otherFiles: number;
  readonly capped: boolean;
  /** Each folder read, with its modification time taken before reading it: the listing is current while none changed. */
  readonly stamps: readonly (readonly [string, string])[];
}

/** Lists image folders and checks a sample of their headers, caching by directory and file modification times. */
export class ImageFolderProbe {
  private readonly listings = new Map<string, Listing>();
  private readonly headers = new Map<string, { stamp: string; header: ImageHeader }>();
  private readonly rowFiles = new Map<string, { stamp: string; rows: ImageRow[]; wholeFile: boolean }>();

  constructor(private readonly mayRead: (absolutePath: string) => boolean = () => true) {}

  summarize(folder: string): ImageFolderSummary {
    if (!this.mayRead(folder)) return { ok: false, reason: 'unreadable', message: OUTSIDE_UNTRUSTED_WORKSPACE };
    try {
      const stat = statSync(folder);
      if (!stat.isDirectory()) return { ok: false, reason: 'unreadable', message: 'is not a folder' };
    } catch (error) {
      const code = errorCode(error);
      return code === 'ENOENT'
        ? { ok: false, reason: 'missing', message: 'does not exist' }
        : { ok: false, reason: 'unreadable', message: `cannot be read (${code})` };
    }
    let listing: Listing;
    try {
      listing = this.listing(folder);
    } catch (error) {
      return { ok: false, reason: 'unreadable', message: `cannot be listed (${errorCode(error)})` };
    }
    return this.summarizeListing(folder, listing);
  }

  /** A folder's mtime changes when an entry is added, removed or renamed in it, so unchanged stamps mean an unchanged listing. */
  private listing(folder: string): Listing {
    const cached = this.listings.get(folder);
    if (cached?.stamps.every(([path, stamp]) => folderStamp(path) === stamp)) return cached;
    const stamp = folderStamp(folder);
    const listing = readListing(folder, listFolder(folder, MAX_ENTRIES), stamp);
    this.listings.set(folder, listing);
    return listing;
  }

  /**
   * A row file's images: the rows are read (a prefix of a large file), the labels counted, and up to
   * IMAGE_SAMPLE_SIZE images, evenly spaced over the rows, checked by their headers. Never throws.
   */
  summarizeRows(dataFile: string, format: DataFormat, columns: ImageRowColumns): ImageRowsSummary {
    if (!this.mayRead(dataFile)) return { ok: false, message: OUTSIDE_UNTRUSTED_WORKSPACE };
    let read: { rows: ImageRow[]; wholeFile: boolean };
    try {
      const stat = statSync(dataFile);
      const stamp = `${format}:${stat.size}:${stat.mtimeMs}:${columns.image}:${columns.label}`;
      const cached = this.rowFiles.get(dataFile);
      read = cached?.stamp === stamp ? cached : { stamp, ...readImageRows(dataFile, format, columns) };
      this.rowFiles.set(dataFile, { stamp, ...read });
    } catch (error) {
      return { ok: false, message: `cannot be read (${errorCode(error)})` };
    }
    const { rows, wholeFile } = read;
    // An untrusted workspace reads no image outside its folders, whatever a row names.
    const readable = rows.filter((row) => this.mayRead(row.absolute));
    const step = Math.max(1, readable.length / IMAGE_SAMPLE_SIZE);
    const sample = Array.from({ length: Math.min(readable.length, IMAGE_SAMPLE_SIZE) }, (_, k) => readable[Math.floor(k * step)]!);
    const checked = this.checkSample(sample.map((row) => ({ path: row.absolute, file: row.written, line: row.line })));
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row.label, (counts.get(row.label) ?? 0) + 1);
    const labels = [...counts.entries()].sort(([a], [b]) => compareNames(a, b)).map(([name, images]) => ({ name, images }));
    return { ok: true, rows: rows.length, wholeFile, labels, sampled: sample.length, ...checked };
  }

  /** Headers of sampled files: the unreadable ones with why, and the sizes of the rest, most frequent first. */
  private checkSample<T extends { path: string; file: string }>(
    sample: readonly T[],
  ): { unreadable: (Omit<T, 'path'> & { problem: string })[]; sizes: ImageSize[] } {
    const unreadable: (Omit<T, 'path'> & { problem: string })[] = [];
    const sizes = new Map<string, ImageSize>();
    for (const { path, ...named } of sample) {
      const header = this.header(path);
      if (!header.ok) {
        unreadable.push({ ...named, problem: header.problem });
        continue;
      }
      const key = `${header.width}x${header.height}`;
      const seen = sizes.get(key);
      sizes.set(key, { width: header.width, height: header.height, count: (seen?.count ?? 0) + 1 });
    }
    return { unreadable, sizes: [...sizes.values()].sort((a, b) => b.count - a.count || b.width * b.height - a.width * a.height) };
  }

  private summarizeListing(folder: string, listing: Listing): ImageFolderSummary {
    const sample = sampleFiles(listing.classes);
    const { unreadable, sizes } = this.checkSample(sample.map((file) => ({ path: join(folder, file), file })));
    const classes = listing.classes.map(({ name, files, problem }) => ({ name, images: files.length, ...(problem ? { problem } : {}) }));
    return {
      ok: true,
      classes,
      images: classes.reduce((sum, { images }) => sum + images, 0),
      capped: listing.capped,
      looseImages: listing.looseImages,
      otherFiles: listing.otherFiles,
      sampled: sample.length,
      unreadable,
      sizes,
    };
  }

  /** A file's header, re-read when its size or modification time changes. */
  private header(path: string): ImageHeader {
    let stamp: string;
    try {
      const stat = statSync(path);
      stamp = `${stat.size}:${stat.mtimeMs}`;
    } catch (error) {
      const code = errorCode(error);
      return { ok: false, problem: code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code})` };
    }
    const cached = this.headers.get(path);
    if (cached?.stamp === stamp) return cached.header;
    const header = readImageHeader(path);
    if (this.headers.size >= MAX_CACHED_HEADERS) this.headers.clear();
    this.headers.set(path, { stamp, header });
    return header;
  }
}

export function isImageFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

interface FolderEntries {
  readonly entries: readonly { name: string; kind: 'folder' | 'file' | 'other' }[];
  readonly capped: boolean;
}

/** One folder's entries, a symlink classified by what it points to (a loop or a dangling link is 'other'). */
function listFolder(folder: string, limit: number): FolderEntries {
  const entries: { name: string; kind: 'folder' | 'file' | 'other' }[] = [];
  let dir: Dir | undefined;
  try {
    dir = opendirSync(folder);
    for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) {
      if (entries.length >= limit) return { entries, capped: true };
      let kind: 'folder' | 'file' | 'other' = entry.isDirectory() ? 'folder' : entry.isFile() ? 'file' : 'other';
      if (entry.isSymbolicLink()) kind = linkKind(join(folder, entry.name));
      entries.push({ name: entry.name, kind });
    }
    return { entries, capped: false };
  } finally {
    dir?.closeSync();
  }
}

function linkKind(path: string): 'folder' | 'file' | 'other' {
  try {
    const stat = statSync(path);
    return stat.isDirectory() ? 'folder' : stat.isFile() ? 'file' : 'other';
  } catch {
    return 'other';
  }
}

function readListing(folder: string, top: FolderEntries, stamp: string): Listing {
  const stamps: (readonly [string, string])[] = [[folder, stamp]];
  let budget = MAX_ENTRIES - top.entries.length;
  let capped = top.capped;
  let otherFiles = 0;
  const classes: { name: string; files: string[]; problem?: string }[] = [];
  // Every subfolder is a class, hidden ones included, as torchvision's ImageFolder and the trainer's loader read it.
  const classNames = top.entries
    .filter((entry) => entry.kind === 'folder')
    .map((entry) => entry.name)
    .sort(compareNames);
  for (const name of classNames) {
    try {
      const walk = new ClassWalk(join(folder, name), budget, stamps);
      budget = walk.budget;
      capped ||= walk.capped;
      otherFiles += walk.otherFiles;
      classes.push({ name, files: walk.files });
    } catch (error) {
      stamps.push([join(folder, name), folderStamp(join(folder, name))]);
      classes.push({ name, files: [], problem: `cannot be listed (${errorCode(error)})` });
    }
  }
  const looseImages = top.entries.filter((entry) => entry.kind === 'file' && isImageFileName(entry.name)).length;
  return { classes, looseImages, otherFiles, capped, stamps };
}

/** Levels of subfolders followed inside a class folder; deeper ones (or a symlink loop) are not read. */
const MAX_DEPTH = 16;

/**
 * The images under one class folder at any depth, as the trainer finds them, in sorted order (relative paths). A
 * folder reached twice through links is read once, so a symlink loop ends; only the class folder itself may fail.
 */
class ClassWalk {
  readonly files: string[] = [];
  otherFiles = 0;
  capped = false;
  private readonly seen = new Set<string>();

  constructor(
    root: string,
    public budget: number,
    /** Where each folder read is recorded with its stamp, for the cache. */
    private readonly stamps: (readonly [string, string])[],
  ) {
    this.walk(root, '', 0);
  }

  private walk(folder: string, prefix: string, depth: number): void {
    let real: string;
    try {
      real = realpathSync(folder);
    } catch (error) {
      if (depth === 0) throw error;
      return;
    }
    if (this.seen.has(real) || depth > MAX_DEPTH) return;
    this.seen.add(real);
    this.stamps.push([folder, folderStamp(folder)]);
    let listed: FolderEntries;
    try {
      listed = listFolder(folder, Math.max(this.budget, 0));
    } catch (error) {
      if (depth === 0) throw error;
      return;
    }
    this.budget -= listed.entries.length;
    this.capped ||= listed.capped;
    for (const entry of [...listed.entries].sort((a, b) => compareNames(a.name, b.name))) {
      if (entry.kind === 'folder') this.walk(join(folder, entry.name), `${prefix}${entry.name}/`, depth + 1);
      else if (entry.kind === 'file' && isImageFileName(entry.name)) this.files.push(`${prefix}${entry.name}`);
      else if (entry.kind === 'file') this.otherFiles++;
    }
  }
}

/** Up to IMAGE_SAMPLE_SIZE files, taken round-robin over the classes at evenly spaced positions in each. */
function sampleFiles(classes: Listing['classes']): string[] {
  const total = classes.reduce((sum, { files }) => sum + files.length, 0);
  if (total <= IMAGE_SAMPLE_SIZE) return classes.flatMap(({ name, files }) => files.map((file) => `${name}/${file}`));
  const perClass = classes.map(({ files }) => Math.min(files.length, Math.floor(IMAGE_SAMPLE_SIZE / classes.length)));
  // The remainder, and the share small classes cannot fill, goes round-robin to classes with images left.
  let left = IMAGE_SAMPLE_SIZE - perClass.reduce((sum, n) => sum + n, 0);
  for (let i = 0; left > 0 && i < classes.length * IMAGE_SAMPLE_SIZE; i++) {
    const c = i % classes.length;
    if (perClass[c]! < classes[c]!.files.length) {
      perClass[c]!++;
      left--;
    }
  }
  const picked: string[] = [];
  classes.forEach(({ name, files }, c) => {
    const n = perClass[c]!;
    for (let k = 0; k < n && picked.length < IMAGE_SAMPLE_SIZE; k++) picked.push(`${name}/${files[Math.floor((k * files.length) / n)]!}`);
  });
  return picked;
}

function folderStamp(path: string): string {
  try {
    return String(statSync(path).mtimeMs);
  } catch (error) {
    return errorCode(error);
  }
}

/** Code-point order, as Python's sorted() orders class names. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}
