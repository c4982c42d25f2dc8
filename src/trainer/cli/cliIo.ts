import { statSync } from 'node:fs';

/** Where commands write, so that tests can run them in-process and the CLI entry can own the real streams. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** A mistake in how the command was called: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** A file the command was pointed at that it must not read: not there, or not a regular file. Exit code 1. */
export class InputFileError extends Error {}

/**
 * Throws `InputFileError` unless `path` is a regular file (or a symlink to one). A FIFO would block the read
 * forever and a device would never end, so a config path is checked before anything opens it.
 */
export function requireRegularFile(path: string, what: string): void {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputFileError(
      code === 'ENOENT' ? `${what} ${path} does not exist.` : `${what} ${path} cannot be read (${code ?? String(error)}).`,
    );
  }
  if (!stat.isFile())
    throw new InputFileError(
      `${what} ${path} is not a regular file${stat.isDirectory() ? ' but a folder' : stat.isFIFO() ? ' but a named pipe' : ''}.`,
    );
}

/**
 * Control characters from a config or a data row must not reach the terminal raw: ESC sequences could clear the
 * screen or fake output, a carriage return could overwrite a line. Each one (C0 but newline and tab, DEL, C1, and
 * the bidirectional overrides that reorder text) is written as a \u escape, which is also valid inside JSON strings.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
