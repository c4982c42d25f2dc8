import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assignValues, type Assignment } from '../../shared/config/configEdits';
import { parseConfigText } from '../../shared/config/parsedConfig';
import { resolveDataFormat } from '../../shared/data/dataFormat';
import { MINE_HARD_NEGATIVES_COMMAND, MINED_NEGATIVE_COLUMN } from '../../shared/protocol/mineHardNegatives';
import type { CancellableProgress } from '../backend/cancellableProgress';
import type { Disposable } from '../emitter';
import type { EditorHost } from '../host/editorHost';
import { lastLines, runEngineCommand, type EngineCommand } from '../runs/engineProcess';
import type { ConfigTextEditor } from './configTextEditor';

export const MINING_UNTRUSTED_MESSAGE =
  'Mining hard negatives runs the training engine on this workspace’s files; trust the workspace first (Workspaces: Manage Workspace Trust).';

export interface MiningServices {
  readonly host: EditorHost;
  readonly engine: EngineCommand;
  readonly progress: CancellableProgress;
  readonly editor: ConfigTextEditor;
}

export type MiningOutcome = 'mined' | 'untrusted' | 'no-config' | 'cancelled' | 'failed';

export function registerMineHardNegativesCommand(services: MiningServices): Disposable {
  return services.host.registerCommand(MINE_HARD_NEGATIVES_COMMAND, (resource) => mineHardNegatives(services, resource));
}

/**
 * The quick fix's command: mines one negative per pair with `embedtune mine-negatives` (triplets, which the in-batch
 * losses read through a `negative` column), writes them next to the training file as `<train>.hard-negatives.<ext>`,
 * then points `data.train` at them and maps the negative column, editing only those values.
 */
export async function mineHardNegatives(services: MiningServices, resource: unknown): Promise<MiningOutcome> {
  const { host } = services;
  if (!host.isWorkspaceTrusted()) {
    await host.showMessage('error', MINING_UNTRUSTED_MESSAGE);
    return 'untrusted';
  }
  // The language server passes the document's URI; VS Code's menus pass a Uri, which configFor reads itself.
  const configPath = await host.configFor(
    typeof resource === 'string' && resource.startsWith('file:') ? fileURLToPath(resource) : resource,
  );
  if (!configPath) {
    await host.showMessage('error', 'Mine hard negatives: open an *.embedtune.yaml or *.embedtune.json config first.');
    return 'no-config';
  }
  const target = minedFileFor(configPath);
  if (!target) {
    await host.showMessage('error', `Mine hard negatives: ${configPath} has no data.train with a .jsonl, .csv or .tsv file.`);
    return 'no-config';
  }
  if (existsSync(target.absolute)) {
    const answer = await host.showMessage('warning', `${target.written} exists. Mine again and replace it?`, { modal: true }, 'Replace');
    if (answer !== 'Replace') return 'cancelled';
  }
  const outcome = await services.progress('Mining hard negatives', (report, signal) =>
    runEngineCommand(services.engine, minerArguments(configPath, target.absolute), dirname(configPath), {
      signal,
      onStderrLine: (line) => {
        if (line.trim() !== '') report(line.trim());
      },
    }),
  );
  if (outcome.cancelled) {
    await host.showMessage('info', 'Mining hard negatives was cancelled; the config is unchanged.');
    return 'cancelled';
  }
  if (outcome.code !== 0 || !existsSync(target.absolute)) {
    host.appendOutput(['embedtune mine-negatives failed:', ...lastLines(outcome.stderr + '\n' + outcome.stdout, 20)]);
    await host.showMessage('error', `Mining hard negatives failed: ${lastLines(outcome.stderr, 1)[0] ?? `exit code ${outcome.code}`}`);
    return 'failed';
  }
  host.appendOutput(lastLines(outcome.stdout, 20));
  const format = configPath.endsWith('.json') ? 'json' : 'yaml';
  const assignments: Assignment[] = [
    { path: ['data', 'train'], value: target.written },
    { path: ['data', 'columns', 'negative'], value: [MINED_NEGATIVE_COLUMN] },
  ];
  const edited = await services.editor.edit(configPath, (text) => assignValues(text, assignments, format));
  if (!edited) {
    await host.showMessage('error', `Mined ${target.absolute}, but could not point data.train at it; set it by hand.`);
    return 'failed';
  }
  await host.showMessage('info', `Mined hard negatives into ${target.written}; data.train now points at it.`);
  return 'mined';
}

/** One negative per pair as (anchor, positive, negative) rows, the triplets an in-batch loss takes as extra negatives. */
export function minerArguments(configPath: string, out: string): string[] {
  return [
    'mine-negatives',
    configPath,
    '--out',
    out,
    '--num-negatives',
    '1',
    '--output-format',
    'triplet',
    '--negative-column',
    MINED_NEGATIVE_COLUMN,
  ];
}

/** `data/train.jsonl` → `data/train.hard-negatives.jsonl`, as written in the config and resolved against its folder. */
export function minedFileFor(configPath: string): { written: string; absolute: string } | undefined {
  const value = parseConfigText(readFileSync(configPath, 'utf8')).value as { data?: { train?: unknown; format?: unknown } } | null;
  const train = value?.data?.train;
  if (typeof train !== 'string' || train.trim() === '') return undefined;
  const format = resolveDataFormat(train, typeof value?.data?.format === 'string' ? value.data.format : undefined);
  if (!format) return undefined;
  const stem = basename(train, extname(train));
  const written = join(dirname(train), `${stem}.hard-negatives.${format}`).replace(/\\/g, '/');
  return { written, absolute: isAbsolute(written) ? written : resolve(dirname(configPath), written) };
}
