import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { readEventLog } from './eventLogReader';
import type { RunEvent, RunEventInput } from './runEvents';

export interface EventLogWriterOptions {
  /** The run's events.jsonl; its folder is created if needed. */
  readonly path: string;
  readonly runId: string;
  /** Also write every line here, e.g. process.stdout for `--events stdout`. */
  readonly mirror?: NodeJS.WritableStream;
}

/**
 * Appends events to a run's events.jsonl, one line each, filling in `time`, `run_id` and `seq`.
 * Each line is written straight to the file descriptor, without buffering in this process, so a
 * tailing reader sees an event as soon as `write` returns; there is no fsync, because losing the
 * last events on a power cut is acceptable and an fsync per progress event is not.
 *
 * Appending to an existing file (a resumed run) continues its `seq`, and first ends a line that
 * a killed run left half-written so that the new events start on a line of their own.
 */
export class EventLogWriter {
  readonly path: string;
  readonly runId: string;
  private readonly mirror: NodeJS.WritableStream | undefined;
  private fd: number | undefined;
  private nextSeq: number;

  constructor(options: EventLogWriterOptions) {
    this.path = options.path;
    this.runId = options.runId;
    this.mirror = options.mirror;
    mkdirSync(dirname(this.path), { recursive: true });
    const existing = readEventLog(this.path, 0);
    this.nextSeq = existing.events.reduce((next, event) => Math.max(next, event.seq + 1), 0);
    this.fd = openSync(this.path, 'a+');
    if (endsWithPartialLine(this.fd)) writeSync(this.fd, '\n');
  }

  /** Writes one event and returns it with its envelope. A non-finite number is written as null, as JSON has no NaN. */
  write(input: RunEventInput): RunEvent {
    if (this.fd === undefined) throw new Error(`The event log ${this.path} is closed; create a new EventLogWriter to append to it.`);
    const { type, ...fields } = input;
    // `type` first, then the envelope, so that a person reading the file sees at once what each line is.
    const event = { type, time: new Date().toISOString(), run_id: this.runId, seq: this.nextSeq, ...fields } as RunEvent;
    const line = `${JSON.stringify(event)}\n`;
    writeSync(this.fd, line);
    this.nextSeq++;
    this.mirror?.write(line);
    return event;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function endsWithPartialLine(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
