import { readFileSync, statSync } from 'node:fs';

/**
 * Reads a model file only when it is a regular file (a symlink to one, as in the Hugging Face cache, is fine). A
 * model fetched by hub id or cloned with a repository could otherwise name /dev/zero or a FIFO, and reading it would
 * never end or would fill memory.
 */
export function readRegularFile(path: string): Buffer;
export function readRegularFile(path: string, encoding: 'utf8'): string;
export function readRegularFile(path: string, encoding?: 'utf8'): Buffer | string {
  const stat = statSync(path);
  if (!stat.isFile())
    throw new Error(`${path} is not a regular file (it is ${kindOf(stat)}), so EmbedTune will not read it as part of a model.`);
  return encoding ? readFileSync(path, encoding) : readFileSync(path);
}

/** A model's JSON file, read as readRegularFile reads it; invalid JSON is an error that names the file. */
export function readRegularJson(path: string): unknown {
  try {
    return JSON.parse(readRegularFile(path, 'utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new Error(`${path} is not valid JSON: ${error.message}`);
  }
}

function kindOf(stat: ReturnType<typeof statSync> & object): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  return 'not a plain file';
}
