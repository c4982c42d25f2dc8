import type { RunEventType } from './runEvents';

// Its own module, free of the JSON Schema validator that runEvents.ts loads, so that the webview's event guard can
// check against this one list instead of a copy that falls behind when a type is added.

/** Every event type, in the order a run usually writes them. */
export const RUN_EVENT_TYPES = [
  'run_started',
  'progress',
  'eval',
  'checkpoint',
  'early_stop',
  'baseline_not_beaten',
  'log',
  'run_finished',
  'error',
] as const satisfies readonly RunEventType[];
