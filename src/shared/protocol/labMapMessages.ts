import {
  isLabMapResult,
  isLabNeighboursResult,
  LAB_PROJECTION_METHODS,
  MAX_MAP_POINTS,
  type LabMapResult,
  type LabNeighboursResult,
  type LabProjectionMethod,
} from '../lab/labMapResult';
import { MAX_LAB_K } from '../lab/labSearchResult';
import { isRecord, isString } from './messageGuards';

/**
 * The Lab's map: the corpus projected in 2D under both models, and a point's neighbours. Part of ToLab / FromLab
 * (labMessages.ts), kept here so the map's messages are declared in one place.
 */
export type ToLabMap =
  | { readonly command: 'map'; readonly result: LabMapResult }
  | { readonly command: 'neighbours'; readonly result: LabNeighboursResult }
  /** A projection is being computed (its method), or none; or the neighbours of a point are being found. */
  | { readonly command: 'mapBusy'; readonly busy: LabProjectionMethod | 'neighbours' | null };

export type FromLabMap =
  | { readonly command: 'map'; readonly method: LabProjectionMethod }
  | { readonly command: 'neighbours'; readonly index: number; readonly k: number };

const MAP_COMMANDS: readonly string[] = ['map', 'neighbours', 'mapBusy'];

/** Whether a message (already checked) is the map's, so that the page and the session can hand it on. */
export function isMapMessage<T extends { readonly command: string }>(message: T): message is Extract<T, ToLabMap | FromLabMap> {
  return MAP_COMMANDS.includes(message.command);
}

export function parseToLabMap(value: Record<string, unknown>): ToLabMap | undefined {
  switch (value.command) {
    case 'map':
      return isLabMapResult(value.result) ? { command: 'map', result: value.result } : undefined;
    case 'neighbours':
      return isLabNeighboursResult(value.result) ? { command: 'neighbours', result: value.result } : undefined;
    case 'mapBusy':
      return value.busy === null ||
        value.busy === 'neighbours' ||
        (isString(value.busy) && LAB_PROJECTION_METHODS.includes(value.busy as LabProjectionMethod))
        ? { command: 'mapBusy', busy: value.busy as LabProjectionMethod | 'neighbours' | null }
        : undefined;
    default:
      return undefined;
  }
}

export function parseFromLabMap(value: unknown): FromLabMap | undefined {
  if (!isRecord(value)) return undefined;
  if (value.command === 'map') {
    return LAB_PROJECTION_METHODS.includes(value.method as LabProjectionMethod)
      ? { command: 'map', method: value.method as LabProjectionMethod }
      : undefined;
  }
  if (value.command !== 'neighbours') return undefined;
  const { index, k } = value;
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= MAX_MAP_POINTS) return undefined;
  if (!Number.isInteger(k) || (k as number) < 1 || (k as number) > MAX_LAB_K) return undefined;
  return { command: 'neighbours', index: index as number, k: k as number };
}
