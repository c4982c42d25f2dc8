import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MAX_READ = 1 << 20;

/**
 * Follows a growing text file line by line, by byte offset, as EventLogReader does for events: each `readNew()`
 * returns the complete lines written since the last call and keeps a trailing partial line for the next one. A file
 * that does not exist yet reads as empty. At most 1 MiB is read per call, the newest, so a chatty engine cannot
 * stall the extension host.
 */
export class LineTail {
  private offset = 0;
  private partial = '';

  constructor(readonly path: string) {}

  readNew(): string[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        this.offset = 0;
        this.partial = '';
      }
      if (size === this.offset) return [];
      let start = this.offset;
      if (size - start > MAX_READ) {
        start = size - MAX_READ;
        this.partial = '';
      }
      const bytes = Buffer.alloc(size - start);
      const read = readSync(fd, bytes, 0, bytes.length, start);
      this.offset = start + read;
      const text = this.partial + bytes.toString('utf8', 0, read);
      const lines = text.split(/\r?\n/);
      this.partial = lines.pop() ?? '';
      return lines;
    } finally {
      closeSync(fd);
    }
  }

  /** The partial last line, for when the writer has exited and will not finish it. */
  flush(): string[] {
    const rest = this.partial;
    this.partial = '';
    return rest ? [rest] : [];
  }
}
