import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { LabSetup } from '../../shared/protocol/labMessages';
import { hasFields, isNonEmptyString, nullable, type Guard } from '../../shared/protocol/messageGuards';
import type { RunListEntry } from '../../shared/protocol/runListEntry';
import type { LabDefaults } from './labDefaults';
import { isLabHubId } from './labModelChooser';

/**
 * What the Lab keeps so that a window reload reopens it on the same models, corpus and run.
 *
 * It lives in the workspace's storage (VS Code's `workspaceState`), under one key, not in the page's state: the Lab is
 * one panel at a time (opening another replaces it), so one entry is enough, and the paths it names were settled by the
 * extension itself and never travel back from the webview, whose saved state (`getState`, the serializer's `state`)
 * is only the page's own query, k, wins and map choice. What is read back is still checked here, since the run or a
 * model may be gone and the storage may hold anything an older version wrote.
 */
export interface SavedLab {
  /** The run folder's key the Lab opened on, or null when the models and corpus were picked. */
  readonly run: string | null;
  readonly first: string;
  readonly second: string;
  readonly corpus: string;
}

/** The workspace storage's key for the open Lab. */
export const SAVED_LAB_KEY = 'embedtune.lab.open';

/** Where the open Lab is kept: `workspaceState` in VS Code, a variable in tests. */
export interface LabMemory {
  load(): unknown;
  /** Undefined forgets it: a Lab opened on nothing (the picks dismissed) comes back empty. */
  save(saved: SavedLab | undefined): void;
}

/** Paths and run keys are file system paths: longer ones, or ones with a NUL, were not written by the Lab. */
const MAX_PATH_LENGTH = 4096;
const isPathLike: Guard<string> = (value): value is string =>
  isNonEmptyString(value) && value.length <= MAX_PATH_LENGTH && !value.includes('\0');

/** The saved Lab, with only its own fields, or undefined when anything is missing or of the wrong kind. */
export function parseSavedLab(value: unknown): SavedLab | undefined {
  if (!hasFields<SavedLab>(value, { run: nullable(isPathLike), first: isPathLike, second: isPathLike, corpus: isPathLike }))
    return undefined;
  return { run: value.run, first: value.first, second: value.second, corpus: value.corpus };
}

/** The run a saved Lab names, as the run library lists it now, with the Lab's defaults for it. */
export interface RunNow {
  readonly entry: RunListEntry;
  readonly defaults: LabDefaults;
}

export type RestoredLab =
  | { readonly ok: true; readonly setup: LabSetup; readonly column: string | undefined; readonly config: string | undefined }
  | { readonly ok: false; readonly message: string };

export const REOPEN_HINT = 'Run EmbedTune: Open Embedding Lab to open it again.';

/**
 * Checks a saved Lab against what is on disk now. The run must still be in the run library (`run` is what it
 * resolved to, undefined when it is not there); each model must be an existing absolute path, or a hub id: the run's
 * own `model.base`, or any id of the `owner/name` shape the model chooser accepts (whether it is still in the cache
 * is lab-search's to say); the corpus must be an existing file. The validation column and the config come from the
 * run again, as opening the Lab on it does.
 */
export function checkSavedLab(value: unknown, run: RunNow | undefined): RestoredLab {
  const saved = parseSavedLab(value);
  if (!saved) return { ok: false, message: `This Embedding Lab did not keep its models and corpus across the reload. ${REOPEN_HINT}` };
  if (saved.run !== null && !run)
    return { ok: false, message: `The run this Embedding Lab compared (${saved.run}) is no longer in the workspace. ${REOPEN_HINT}` };
  for (const [role, model] of [
    ['first model', saved.first],
    ['second model', saved.second],
  ] as const) {
    // The run's own base as its config wrote it (a bare name is one), or a hub id typed in the chooser, by its shape.
    const hubId = !isAbsolute(model) && ((run !== undefined && model === run.defaults.first) || isLabHubId(model));
    if (!hubId && !(isAbsolute(model) && existsSync(model)))
      return { ok: false, message: `The Embedding Lab's ${role} is gone: ${model}. ${REOPEN_HINT}` };
  }
  if (!isAbsolute(saved.corpus) || !isFile(saved.corpus))
    return { ok: false, message: `The Embedding Lab's corpus is gone: ${saved.corpus}. ${REOPEN_HINT}` };
  const configPath = run?.entry.configPath;
  return {
    ok: true,
    setup: { first: saved.first, second: saved.second, corpus: saved.corpus, runId: run?.entry.runId ?? null },
    column: run && saved.corpus === run.defaults.corpus ? run.defaults.column : undefined,
    config: configPath && existsSync(configPath) ? configPath : undefined,
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
