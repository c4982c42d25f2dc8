import { hasFields, isBoolean, isNonEmptyString, isString, nullable, oneOf, type Guard } from './messageGuards';

/**
 * Where a run is in its life, as the editor sees it. `starting`: the engine is loading and has not made its run
 * folder yet. `crashed`: its process died without writing run_finished. `interrupted`: found on disk marked running,
 * but no process is training it (the machine restarted, or it was killed while no editor watched).
 */
export const RUN_LIFECYCLES = [
  'starting',
  'running',
  'stopping',
  'completed',
  'early_stopped',
  'stopped',
  'failed',
  'crashed',
  'interrupted',
] as const;
export type RunLifecycle = (typeof RUN_LIFECYCLES)[number];

/** One run in the pickers of the dashboard and the checkpoints panel. */
export interface RunListEntry {
  /** The run folder's absolute path: the run's identity in every message. */
  readonly key: string;
  readonly runId: string;
  readonly configPath: string | null;
  readonly startedAt: string | null;
  readonly lifecycle: RunLifecycle;
  /** A process is training it now. */
  readonly live: boolean;
}

export const isRunLifecycle = oneOf(RUN_LIFECYCLES);

export const isRunListEntry: Guard<RunListEntry> = (value): value is RunListEntry =>
  hasFields<RunListEntry>(value, {
    key: isNonEmptyString,
    runId: isNonEmptyString,
    configPath: nullable(isString),
    startedAt: nullable(isString),
    lifecycle: isRunLifecycle,
    live: isBoolean,
  });

/** Words for a lifecycle, as the pickers and the status line show it. */
export function lifecycleLabel(lifecycle: RunLifecycle): string {
  switch (lifecycle) {
    case 'starting':
      return 'starting';
    case 'running':
      return 'running';
    case 'stopping':
      return 'stopping';
    case 'completed':
      return 'done';
    case 'early_stopped':
      return 'done (early stop)';
    case 'stopped':
      return 'stopped';
    case 'failed':
      return 'failed';
    case 'crashed':
      return 'crashed';
    case 'interrupted':
      return 'interrupted';
  }
}
