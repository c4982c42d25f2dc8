import { readdirSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { DataFileError } from './dataErrors';

/**
 * The ImageFolder layout, as torchvision's `ImageFolder` reads it: each subfolder of `root` is a class named after
 * it, and every .png, .jpg or .jpeg file under it (any depth, any case of the extension) is an image of that class.
 * Classes and files come in sorted order (by code point, as Python's sorted), which fixes each image's index.
 * Other files are ignored, as torchvision ignores them. A class folder without one image is an error, as it is in
 * torchvision: the class could never be learned.
 */

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export interface FolderImage {
  readonly path: string;
  readonly label: string;
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function listImageFolder(root: string, key: string): FolderImage[] {
  let entries: string[];
  try {
    entries = readdirSync(root, { withFileTypes: true })
      .filter((entry) => isDirectory(join(root, entry.name)))
      .map((entry) => entry.name)
      .sort(byCodePoint);
  } catch (error) {
    throw new DataFileError(root, `cannot be read (${(error as Error).message})`, undefined, key);
  }
  if (entries.length === 0)
    throw new DataFileError(root, 'has no class folders; the ImageFolder layout is <folder>/<class>/<image>.png|jpg|jpeg', undefined, key);
  return entries.flatMap((label) => {
    const images = imagesUnder(join(root, label), key);
    if (images.length === 0)
      throw new DataFileError(
        join(root, label),
        `class "${label}" has no .png, .jpg or .jpeg images; add some, or remove the folder`,
        undefined,
        key,
      );
    return images.map((path) => ({ path, label }));
  });
}

/** Folders deeper than this under a class folder are not read; real datasets nest one or two levels at most. */
const MAX_DEPTH = 32;

function imagesUnder(folder: string, key: string): string[] {
  const found: string[] = [];
  // Symbolic links are followed, as torchvision's os.walk(followlinks=True) does, but each real folder once, so
  // that a link to a parent cannot loop.
  const seen = new Set<string>();
  const walk = (dir: string, depth: number) => {
    let real: string;
    let names: string[];
    try {
      real = realpathSync(dir);
      names = readdirSync(dir).sort(byCodePoint);
    } catch (error) {
      throw new DataFileError(dir, `cannot be read (${(error as Error).message})`, undefined, key);
    }
    if (seen.has(real) || depth > MAX_DEPTH) return;
    seen.add(real);
    for (const name of names) {
      const path = join(dir, name);
      if (isDirectory(path)) walk(path, depth + 1);
      else if (IMAGE_EXTENSIONS.includes(extname(name).toLowerCase())) found.push(path);
    }
  };
  walk(folder, 0);
  return found;
}

/** Sorted as Python sorts strings, not by locale, so that the order is the same on every machine. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
