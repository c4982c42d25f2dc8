import { StringDecoder } from 'node:string_decoder';
import { escapeControlCharacters } from './cliIo';

/** A line longer than this (a progress bar redrawn with carriage returns and no newline) is written without waiting. */
const LONGEST_HELD_LINE = 64 * 1024;

/**
 * Passes a child process's output to the terminal with its control characters escaped, as the CLI's own output is:
 * Python's launcher prints what a data row or a model file holds, and an ESC sequence there must not reach the
 * terminal raw. Escaping goes line by line so that a sequence split across two chunks is still caught; newlines (and
 * CRLF endings) are kept as they are, and a partial last line is written by `end`, or as soon as it grows too long.
 */
export class EscapedLineWriter {
  private readonly decoder = new StringDecoder('utf8');
  private held = '';

  constructor(private readonly write: (text: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.held + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lastNewline = text.lastIndexOf('\n');
    this.held = text.slice(lastNewline + 1);
    if (lastNewline >= 0) this.write(escapeLines(text.slice(0, lastNewline + 1)));
    if (this.held.length > LONGEST_HELD_LINE) this.flushHeld();
  }

  /** Writes what is left: bytes of an unfinished character and a last line with no newline. */
  end(): void {
    this.held += this.decoder.end();
    this.flushHeld();
  }

  private flushHeld(): void {
    if (this.held !== '') this.write(escapeControlCharacters(this.held));
    this.held = '';
  }
}

/** Each complete line escaped, its newline (LF or CRLF) written raw. */
function escapeLines(text: string): string {
  return text.replace(/([^\n]*?)(\r?\n)/g, (_, line: string, newline: string) => escapeControlCharacters(line) + newline);
}
