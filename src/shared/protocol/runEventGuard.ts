import type { RunEvent } from '../events/runEvents';
import { RUN_EVENT_TYPES } from '../events/runEventTypes';
import { hasFields, isFiniteNumber, isNonEmptyString, isRecord, oneOf, type Guard } from './messageGuards';

/**
 * A light check of an event relayed to a webview: the envelope and the fields the dashboard reads for its type.
 * The extension has already validated every event against the JSON Schema when it read events.jsonl; this guards
 * the webview against a malformed message, not against a malformed log.
 */
export const isRelayedRunEvent: Guard<RunEvent> = (value): value is RunEvent => {
  if (
    !hasFields<{ type: string; time: string; run_id: string; seq: number }>(value, {
      type: oneOf(RUN_EVENT_TYPES),
      time: isNonEmptyString,
      run_id: isNonEmptyString,
      seq: isFiniteNumber,
    })
  ) {
    return false;
  }
  const event = value as unknown as Record<string, unknown>;
  switch (event.type) {
    case 'progress':
      return (
        isFiniteNumber(event.step) &&
        isFiniteNumber(event.epoch) &&
        (event.loss === null || isFiniteNumber(event.loss)) &&
        isFiniteNumber(event.lr)
      );
    case 'eval':
      return isFiniteNumber(event.step) && isRecord(event.metrics) && isRecord(event.primary);
    case 'checkpoint':
      return isFiniteNumber(event.step) && typeof event.path === 'string' && Array.isArray(event.deleted);
    case 'run_started':
      return isFiniteNumber(event.total_steps) && isFiniteNumber(event.epochs) && isRecord(event.dataset);
    case 'baseline_not_beaten':
      return typeof event.metric === 'string' && isFiniteNumber(event.baseline) && isFiniteNumber(event.best);
    case 'log':
    case 'error':
      return typeof event.message === 'string';
    default:
      return true;
  }
};
