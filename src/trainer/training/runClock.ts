/** Training time of a run, counting the seconds before a resume, so that durations and ETAs span the whole run. */
export class RunClock {
  private readonly started = Date.now();

  constructor(readonly secondsBefore = 0) {}

  /** Seconds of training, this process's and the resumed ones'. */
  elapsed(): number {
    return this.secondsBefore + this.sinceStart();
  }

  /** Seconds since this process started training. */
  sinceStart(): number {
    return (Date.now() - this.started) / 1000;
  }
}
