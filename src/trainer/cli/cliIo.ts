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
