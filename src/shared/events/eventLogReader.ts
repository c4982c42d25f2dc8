import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseRunEventLine, type RunEvent } from './runEvents';

/** What one read of an events.jsonl found after the previous offset. */
export interface EventLogChunk {
  /** Complete, valid events, in file order. */
  readonly events: RunEvent[];
  /** Complete lines that are not valid events (e.g. written by a newer trainer); kept out of `events`. */
  readonly invalidLines: number;
  /** Byte offset just past the last complete line; pass it to the next read. */
  readonly nextOffset: number;
  /** True when the file had shrunk below the offset (a new run replaced it), so it was read from the start. */
  readonly restarted: boolean;
}

const NEWLINE = 0x0a;
const READ_SIZE = 1 << 16;

/**
 * Reads the complete lines of an events.jsonl from `offset` to the end of the file. A trailing
 * line without its newline is left for the next read: the writer may be half-way through it.
 * A file that does not exist yet reads as empty, so a tail can start before the run does.
 * Offsets are in bytes, and '\n' never occurs inside a multi-byte UTF-8 character, so cutting
 * at a newline byte never splits a character.
 */
export function readEventLog(path: string, offset = 0): EventLogChunk {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], invalidLines: 0, nextOffset: offset, restarted: false };
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    const restarted = size < offset;
    const start = restarted ? 0 : offset;
    const bytes = Buffer.alloc(size - start);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, Math.min(READ_SIZE, bytes.length - filled), start + filled);
      if (read === 0) break;
      filled += read;
    }
    const end = bytes.lastIndexOf(NEWLINE, filled - 1);
    if (end < 0) return { events: [], invalidLines: 0, nextOffset: start, restarted };
    const events: RunEvent[] = [];
    let invalidLines = 0;
    for (const line of bytes.toString('utf8', 0, end).split('\n')) {
      if (line.trim() === '') continue;
      const event = parseRunEventLine(line);
      if (event) events.push(event);
      else invalidLines++;
    }
    return { events, invalidLines, nextOffset: start + end + 1, restarted };
  } finally {
    closeSync(fd);
  }
}

/** Follows a growing events.jsonl: each `readNew()` returns the events written since the last call. */
export class EventLogReader {
  private offset: number;
  private invalid = 0;

  constructor(
    readonly path: string,
    startOffset = 0,
  ) {
    this.offset = startOffset;
  }

  /** Byte offset of the first line not read yet; save it to resume tailing later. */
  get position(): number {
    return this.offset;
  }

  /** Complete lines so far that were not valid events. */
  get invalidLines(): number {
    return this.invalid;
  }

  readNew(): RunEvent[] {
    const chunk = readEventLog(this.path, this.offset);
    this.offset = chunk.nextOffset;
    this.invalid = (chunk.restarted ? 0 : this.invalid) + chunk.invalidLines;
    return chunk.events;
  }
}
