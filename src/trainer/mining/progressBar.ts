/** Where a progress bar writes: process.stderr, or a test's recorder. */
export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** The terminal's width, when it is one. */
  readonly columns?: number;
}

/** A terminal redraws at most this often, so that a fast loop is not slowed down by its own progress output. */
const REDRAW_MS = 100;
/** Off a terminal (a log file, a CI log, a pipe) a line is written at every tenth of the way. */
const PLAIN_STEPS = 10;

/**
 * Progress of one stage, e.g. "encoding 1,200/4,000 texts". On a terminal it is one line redrawn in place (carriage
 * return) with a bar, the rate and the time left; elsewhere it is a plain line per tenth, which reads well in a log.
 */
export class ProgressBar {
  private done = 0;
  private lastDraw = -Infinity;
  private lastStep = -1;
  private readonly started: number;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
    this.draw(true);
  }

  /** Moves to `done` of `total`. */
  update(done: number): void {
    this.done = Math.min(done, this.total);
    this.draw(false);
  }

  /** Marks the stage complete and ends its line. */
  finish(): void {
    this.done = this.total;
    this.draw(true);
    if (this.sink.isTTY) this.sink.write('\n');
  }

  private draw(force: boolean): void {
    const fraction = this.total === 0 ? 1 : this.done / this.total;
    if (this.sink.isTTY) {
      const time = this.now();
      if (!force && time - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = time;
      this.sink.write(`\r${this.terminalLine(fraction, time)}\u001b[K`);
      return;
    }
    const step = Math.floor(fraction * PLAIN_STEPS);
    if (step === this.lastStep) return;
    this.lastStep = step;
    const seconds = (this.now() - this.started) / 1000;
    this.sink.write(`${this.label}: ${this.count()} (${Math.floor(fraction * 100)}%, ${seconds.toFixed(1)} s)\n`);
  }

  private terminalLine(fraction: number, time: number): string {
    const seconds = (time - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const left = rate > 0 ? (this.total - this.done) / rate : undefined;
    const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${this.count()}${rate > 0 ? ` ${rate.toFixed(1)}/s` : ''}${left !== undefined && this.done < this.total ? ` ${Math.ceil(left)} s left` : ''}`;
    const width = Math.max(10, Math.min(40, (this.sink.columns ?? 80) - this.label.length - tail.length - 4));
    const filled = Math.round(fraction * width);
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${tail}`;
  }

  private count(): string {
    return `${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} ${this.unit}`;
  }
}
