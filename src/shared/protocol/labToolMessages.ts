import { isLabWinsResult, type LabWinsResult } from '../lab/labWinsResult';
import { MAX_LAB_K } from '../lab/labSearchResult';
import { isMinedPreview, type MinedPreview } from '../lab/minedPreview';
import { isFiniteNumber, isRecord, isString } from './messageGuards';

/**
 * The Lab's evaluation tools, beside its search: wins and losses, and hard-negative mining with a preview.
 * Part of ToLab / FromLab (labMessages.ts), kept here so each tool's messages are declared in one place.
 */
export type ToLabTools =
  | { readonly command: 'wins'; readonly result: LabWinsResult }
  | { readonly command: 'mined'; readonly preview: MinedPreview }
  /** The mined file was written and the config points at it (or the preview was discarded: file null). */
  | { readonly command: 'minedWritten'; readonly file: string | null }
  /** A tool is running (its name), or none; the webview disables its buttons meanwhile. */
  | { readonly command: 'toolBusy'; readonly tool: 'wins' | 'mine' | null }
  /** A long task's progress (fraction 0–1 when the line gives a count); message null when it ended. */
  | { readonly command: 'progress'; readonly title: string; readonly message: string | null; readonly fraction: number | null };

export type FromLabTools =
  | { readonly command: 'wins'; readonly k: number }
  | { readonly command: 'mine' }
  | { readonly command: 'writeMined' }
  | { readonly command: 'discardMined' }
  /** The page's Cancel: stops the running searches and tools. */
  | { readonly command: 'cancel' };

const FROM_LAB_TOOLS: readonly string[] = ['wins', 'mine', 'writeMined', 'discardMined', 'cancel'] satisfies FromLabTools['command'][];
const TO_LAB_TOOLS: readonly string[] = ['wins', 'mined', 'minedWritten', 'toolBusy', 'progress'] satisfies ToLabTools['command'][];

/** Whether an (already validated) message from the Lab is for its tools, so that the session routes it to them. */
export function isFromLabTools(message: { readonly command: string }): message is FromLabTools {
  return FROM_LAB_TOOLS.includes(message.command);
}

/** Whether an (already validated) message to the Lab is for its tools. */
export function isToLabTools(message: { readonly command: string }): message is ToLabTools {
  return TO_LAB_TOOLS.includes(message.command);
}

export function parseToLabTools(value: Record<string, unknown>): ToLabTools | undefined {
  switch (value.command) {
    case 'wins':
      return isLabWinsResult(value.result) ? { command: 'wins', result: value.result } : undefined;
    case 'mined':
      return isMinedPreview(value.preview) ? { command: 'mined', preview: value.preview } : undefined;
    case 'minedWritten':
      return value.file === null || isString(value.file) ? { command: 'minedWritten', file: value.file } : undefined;
    case 'toolBusy':
      return value.tool === null || value.tool === 'wins' || value.tool === 'mine' ? { command: 'toolBusy', tool: value.tool } : undefined;
    case 'progress':
      return isString(value.title) &&
        (value.message === null || isString(value.message)) &&
        (value.fraction === null || (isFiniteNumber(value.fraction) && value.fraction >= 0 && value.fraction <= 1))
        ? { command: 'progress', title: value.title, message: value.message, fraction: value.fraction }
        : undefined;
    default:
      return undefined;
  }
}

export function parseFromLabTools(value: unknown): FromLabTools | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.command) {
    case 'wins': {
      const k = value.k;
      return Number.isInteger(k) && (k as number) >= 1 && (k as number) <= MAX_LAB_K ? { command: 'wins', k: k as number } : undefined;
    }
    case 'mine':
    case 'writeMined':
    case 'discardMined':
    case 'cancel':
      return { command: value.command };
    default:
      return undefined;
  }
}
