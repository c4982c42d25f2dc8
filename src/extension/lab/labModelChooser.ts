import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, isAbsolute } from 'node:path';
import { findCachedModel, HUB_ID, type CacheEnvironment } from '../../shared/model/hubCache';
import type { EditorHost, PickItem } from '../host/editorHost';
import type { RunModels } from './labDefaults';

/**
 * The Embedding Lab's model chooser: a quick pick of the workspace runs' models (exported folders, best checkpoints,
 * base models), then "Browse for a folder…" and "Enter a hub id…". A typed hub id must have the `owner/name` shape
 * and be in the local cache that lab-search's model loader reads (`findCachedModel`, the trainer's own lookup).
 */

export const BROWSE_FOR_FOLDER = { action: 'browse' } as const;
export const ENTER_HUB_ID = { action: 'hub-id' } as const;
/** A model (a folder's absolute path or a hub id), or one of the two ways to give another. */
export type ModelChoice = string | typeof BROWSE_FOR_FOLDER | typeof ENTER_HUB_ID;

/** Which of the two compared models is being asked for: the list puts base models first for the first. */
export type LabModelRole = 'first' | 'second';

export interface RunWithModels {
  readonly runId: string;
  readonly models: RunModels;
}

const TITLES: Record<LabModelRole, string> = {
  first: 'Embedding Lab: the first model (e.g. the base model)',
  second: 'Embedding Lab: the model to compare (e.g. a checkpoint)',
};

/**
 * The chooser's items. Each run gives its exported `model/` folder and its best checkpoint; its base model is listed
 * once for all the runs that share it, when it is an existing folder or reads as a hub id (a base whose relative
 * folder is gone is left out). For the first model the base models come first, for the second the trained ones.
 */
export function labModelChoices(runs: readonly RunWithModels[], role: LabModelRole): PickItem<ModelChoice>[] {
  const trained: PickItem<ModelChoice>[] = [];
  const bases = new Map<string, string[]>();
  for (const { runId, models } of runs) {
    if (models.exported)
      trained.push({ label: `${runId}: exported model`, description: 'model/', detail: models.exported, value: models.exported });
    if (models.best)
      trained.push({ label: `${runId}: best checkpoint`, description: basename(models.best), detail: models.best, value: models.best });
    const base = models.base;
    if (base && (isAbsolute(base) ? existsSync(base) : HUB_ID.test(base))) bases.set(base, [...(bases.get(base) ?? []), runId]);
  }
  const baseItems = [...bases].map(
    ([base, runIds]): PickItem<ModelChoice> => ({
      label: `Base model: ${isAbsolute(base) ? basename(base) : base}`,
      description: `of ${runIds.join(', ')}`,
      detail: isAbsolute(base) ? base : 'hub id',
      value: base,
    }),
  );
  const listed = role === 'first' ? [...baseItems, ...trained] : [...trained, ...baseItems];
  // A run's exported folder can be another's base model: each is listed once, where it comes first.
  const unique = listed.filter((item, index) => listed.findIndex((other) => other.value === item.value) === index);
  return [
    ...unique,
    { label: 'Browse for a folder…', description: 'a checkpoint, an exported model or any model folder', value: BROWSE_FOR_FOLDER },
    { label: 'Enter a hub id…', description: 'a model in the local Hugging Face cache', value: ENTER_HUB_ID },
  ];
}

/**
 * Asks for one model: the list, then a folder dialog or a hub id box when one of those is picked. Undefined when any
 * of them is dismissed, which cancels opening the Lab. `env` is the environment lab-search will run with, whose
 * HF_HUB_CACHE, HF_HOME and friends say where the cache is.
 */
export async function chooseLabModel(
  host: EditorHost,
  runs: readonly RunWithModels[],
  role: LabModelRole,
  env: CacheEnvironment,
): Promise<string | undefined> {
  const title = TITLES[role];
  const choice = await host.pick(labModelChoices(runs, role), { title, placeholder: 'A run’s model, a folder, or a hub id' });
  if (choice === undefined || typeof choice === 'string') return choice;
  if (choice === BROWSE_FOR_FOLDER) return host.pickFile({ title, folders: true });
  const validate = (text: string): string | undefined => (text === '' ? undefined : labHubIdProblem(text, env));
  const id = await host.askText({
    title,
    placeholder: 'owner/name, e.g. sentence-transformers/all-MiniLM-L6-v2',
    prompt: 'A model in the local Hugging Face cache; the Lab does not download it.',
    validate,
  });
  // An empty box accepted is a dismissal; the id is checked again whatever the box did.
  return id && validate(id) === undefined ? id : undefined;
}

/** Why `text` is not a hub id of the `owner/name` shape the Lab accepts, or undefined when it is one. */
export function hubIdShapeProblem(text: string): string | undefined {
  if (text.startsWith('-')) return `A hub id does not start with "-": ${text}`;
  if (text.includes('\\') || text.startsWith('/') || text.startsWith('.') || text.startsWith('~'))
    return `${text} is not a hub id but a path: give owner/name, or pick "Browse for a folder…" for a folder.`;
  const parts = text.split('/');
  if (parts.length !== 2)
    return `A hub id is owner/name with exactly one "/", e.g. sentence-transformers/all-MiniLM-L6-v2; ${text} has ${parts.length - 1}.`;
  if (!parts.every((part) => /^[A-Za-z0-9][\w.-]{0,95}$/.test(part) && !part.includes('--') && !part.includes('..')))
    return `${text} is not a hub id: owner and name are letters, digits, "-", "_" and "." (no "--" or ".."), each starting with a letter or digit.`;
  return undefined;
}

export function isLabHubId(text: string): boolean {
  return hubIdShapeProblem(text) === undefined;
}

/**
 * Why the Lab cannot take `text` as a hub id: its shape, or that lab-search would not find it in the local cache
 * (the Hugging Face cache, then the sentence-transformers one, where `env` says they are). Undefined when it can.
 */
export function labHubIdProblem(text: string, env: CacheEnvironment): string | undefined {
  const shape = hubIdShapeProblem(text);
  if (shape) return shape;
  try {
    const home = env['HOME'] ?? env['USERPROFILE'] ?? homedir();
    const { found, hubCaches } = findCachedModel(text, env, home);
    if (found) return undefined;
    return `${text} is not in the local Hugging Face cache (${hubCaches[hubCaches.length - 1]}), or only in part. Download it first (huggingface-cli download ${text}), or pick its folder with "Browse for a folder…".`;
  } catch (error) {
    return `${text} is in the local cache, but it cannot be read: ${error instanceof Error ? error.message : String(error)}`;
  }
}
