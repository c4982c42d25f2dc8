import type { RunConfig } from './prepareRun';

/**
 * What `embedtune train` asks of an engine, the same for both: the tfjs engine's `train()` and the accelerate
 * engine's `trainWithAccelerate()` take it, and hand it to `prepareRun` as it is.
 */
export interface RunRequest {
  readonly configPath: string;
  /** The config as `embedtune train` already read it; without it, the file is read once by `prepareRun`. */
  readonly runConfig?: RunConfig;
  /** A checkpoint folder, a run folder (its newest checkpoint), or `latest`. */
  readonly resume?: string;
  /** Mirror every event to stdout, one JSON line each. */
  readonly eventsToStdout?: boolean;
  /** Human-readable progress lines (stderr in the CLI when events go to stdout). */
  readonly log: (line: string) => void;
  /** Set on SIGTERM, SIGINT or the editor's stop message: the run finishes its step, checkpoints and returns. */
  readonly stop: { requested: boolean };
  readonly env?: Readonly<Record<string, string | undefined>>;
}
