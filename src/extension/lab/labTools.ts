import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { assignValues } from '../../shared/config/configEdits';
import { parseConfigText } from '../../shared/config/parsedConfig';
import { resolveDataFormat, type DataFormat } from '../../shared/data/dataFormat';
import { isLabWinsResult } from '../../shared/lab/labWinsResult';
import { groupMinedRows, type MinedRow } from '../../shared/lab/minedPreview';
import { MINED_NEGATIVE_COLUMN } from '../../shared/protocol/mineHardNegatives';
import type { FromLabTools } from '../../shared/protocol/labToolMessages';
import type { LabSetup, ToLab } from '../../shared/protocol/labMessages';
import { progressWithoutCancel } from '../backend/cancellableProgress';
import { minedFileFor, minerArguments } from '../mining/mineHardNegativesCommand';
import { listCheckpoints } from '../runs/checkpointListing';
import { CHECKPOINTS_DIR } from '../../shared/run/runFolder';
import { lastLines, runEngineCommand } from '../runs/engineProcess';
import { encodingProgress } from './encodingProgress';
import type { LabProgressRelay } from './labProgressRelay';
import { readMinedRows, writeMinedRows, type MinedColumns } from './minedFile';
import { LAB_UNTRUSTED_MESSAGE, type LabSessionServices } from './labSession';

/** What the tools need from the Lab's session: the two models, and the run's config (none for two picked models). */
export interface LabToolContext {
  readonly setup: LabSetup | undefined;
  readonly config: string | undefined;
  /** The run's folder, whose checkpoints a classifier can be compared with. */
  readonly run?: string | undefined;
}

interface MinedDraft {
  readonly folder: string;
  readonly rows: readonly MinedRow[];
  readonly columns: MinedColumns;
  readonly format: DataFormat;
  readonly target: { readonly written: string; readonly absolute: string };
  readonly config: string;
}

/**
 * Wins and losses (`embedtune lab-wins`) and hard-negative mining (`embedtune mine-negatives`) for the Lab. Each runs
 * as a child process under a progress notification whose Cancel kills it; one tool runs at a time. Mined triplets
 * are previewed first and written (and the config pointed at them) only when the user asks.
 */
export class LabTools {
  private busy = false;
  private draft: MinedDraft | undefined;

  constructor(
    private readonly services: LabSessionServices,
    private readonly post: (message: ToLab) => void,
    private readonly context: () => LabToolContext,
    /** Progress in the page, with its Cancel, shared with the session's searches and its map. */
    private readonly relay: LabProgressRelay,
  ) {}

  async handle(message: FromLabTools): Promise<void> {
    // The page's Cancel stops whatever runs under the relay: a search, a tool or the map.
    if (message.command === 'cancel') return this.relay.cancel();
    if (!this.services.host.isWorkspaceTrusted()) return this.post({ command: 'error', message: LAB_UNTRUSTED_MESSAGE });
    if (message.command === 'writeMined') return this.writeMined();
    if (message.command === 'discardMined') {
      this.discard();
      return this.post({ command: 'minedWritten', file: null });
    }
    if (this.busy) return this.post({ command: 'error', message: 'Another Lab task is running; wait for it or cancel it.' });
    this.busy = true;
    this.post({ command: 'toolBusy', tool: message.command });
    try {
      if (message.command === 'wins') await this.wins(message.k);
      else await this.mine();
    } catch (error) {
      // A damaged file or an unexpected output is shown in the Lab; it never escapes into the extension host.
      this.post({ command: 'error', message: error instanceof Error ? error.message : String(error) });
    } finally {
      this.busy = false;
      this.post({ command: 'toolBusy', tool: null });
    }
  }

  dispose(): void {
    this.discard();
  }

  private async wins(k: number): Promise<void> {
    const { setup, config, run } = this.context();
    if (!setup || !config) {
      this.post({
        command: 'error',
        message: 'Wins and losses replay a run’s evaluation: open the Lab on a run (its config must still exist).',
      });
      return;
    }
    const first = (run && classifierBaseline(config, run, setup)) ?? setup.first;
    const args = ['lab-wins', `--model=${first}`, `--compare=${setup.second}`, `--config=${config}`, `--top-k=${k}`, '--json'];
    const outcome = await this.run('EmbedTune: wins and losses in the Embedding Lab', args, dirname(config), (line) =>
      encodingProgress(line),
    );
    if (!outcome) return;
    const parsed = parseJson(outcome.stdout);
    if (isLabWinsResult(parsed)) this.post({ command: 'wins', result: parsed });
    else this.post({ command: 'error', message: failure(outcome, 'lab-wins') });
  }

  private async mine(): Promise<void> {
    const { config } = this.context();
    if (!config) {
      this.post({ command: 'error', message: 'Mining hard negatives needs a run’s config (its data.train): open the Lab on a run.' });
      return;
    }
    const target = minedFileFor(config);
    const format = target && resolveDataFormat(target.absolute, undefined);
    if (!target || !format) {
      this.post({ command: 'error', message: `${config} has no data.train with a .jsonl, .csv or .tsv file to mine.` });
      return;
    }
    this.discard();
    const folder = mkdtempSync(join(tmpdir(), 'embedtune-lab-mined-'));
    const out = join(folder, `mined.${format}`);
    const outcome = await this.run(
      'EmbedTune: mining hard negatives',
      [...minerArguments(config, out), '--output-scores'],
      dirname(config),
      (line) => (line.trim() === '' ? undefined : line.trim()),
    );
    if (!outcome || !existsSync(out)) {
      if (outcome) this.post({ command: 'error', message: failure(outcome, 'mine-negatives') });
      rmSync(folder, { recursive: true, force: true });
      return;
    }
    const columns = { ...configColumns(config), negative: MINED_NEGATIVE_COLUMN };
    const rows = readMinedRows(out, format, columns);
    this.draft = { folder, rows, columns, format, target, config };
    const grouped = groupMinedRows(rows);
    this.post({ command: 'mined', preview: { target: target.written, rows: rows.length, ...grouped } });
  }

  private async writeMined(): Promise<void> {
    const draft = this.draft;
    if (!draft) return this.post({ command: 'error', message: 'Nothing is mined yet: mine hard negatives first.' });
    const editor = this.services.editor;
    if (!editor) return this.post({ command: 'error', message: 'This editor cannot edit the config from the Lab.' });
    if (existsSync(draft.target.absolute)) {
      const answer = await this.services.host.showMessage(
        'warning',
        `${draft.target.written} exists. Replace it?`,
        { modal: true },
        'Replace',
      );
      if (answer !== 'Replace') return;
    }
    writeMinedRows(draft.target.absolute, draft.format, draft.columns, draft.rows);
    const format = draft.config.endsWith('.json') ? 'json' : 'yaml';
    const edited = await editor.edit(draft.config, (text) =>
      assignValues(
        text,
        [
          { path: ['data', 'train'], value: draft.target.written },
          { path: ['data', 'columns', 'negative'], value: [MINED_NEGATIVE_COLUMN] },
        ],
        format,
      ),
    );
    if (!edited) {
      this.post({ command: 'error', message: `Wrote ${draft.target.absolute}, but could not point data.train at it; set it by hand.` });
      return;
    }
    this.discard();
    this.post({ command: 'minedWritten', file: draft.target.written });
  }

  /** Runs an engine command with a cancellable progress notification; undefined when cancelled (and said so). */
  private async run(title: string, args: string[], cwd: string, progressLine: (line: string) => string | undefined) {
    const { host, engine } = this.services;
    const progress = this.relay.wrap(this.services.progress ?? progressWithoutCancel(host));
    const outcome = await progress(title, (report, signal) =>
      runEngineCommand(engine, args, cwd, {
        signal,
        onStderrLine: (line) => {
          const message = progressLine(line);
          if (message) report(message);
        },
      }),
    );
    if (outcome.cancelled) {
      this.post({ command: 'error', message: `${title.replace(/^EmbedTune: /, '')} was cancelled.` });
      return undefined;
    }
    return outcome;
  }

  private discard(): void {
    if (this.draft) rmSync(this.draft.folder, { recursive: true, force: true });
    this.draft = undefined;
  }
}

/**
 * A classifier's predictions need its head, which the base model lacks: for a classification run whose first model
 * is not one of its own, the run's earliest checkpoint (other than the second model) stands in for it. The result
 * names the models compared, so the substitution is visible.
 */
function classifierBaseline(config: string, runDir: string, setup: LabSetup): string | undefined {
  const value = parseConfigText(readFileSync(config, 'utf8')).value as { task?: unknown } | null;
  if (value?.task !== 'classification' || resolve(setup.first).startsWith(resolve(runDir) + sep)) return undefined;
  return listCheckpoints(runDir)
    .sort((a, b) => a.step - b.step)
    .map((row) => join(runDir, CHECKPOINTS_DIR, row.name))
    .find((folder) => resolve(folder) !== resolve(setup.second));
}

/** The config's anchor and positive column names, which the miner keeps in what it writes. */
function configColumns(config: string): { anchor: string; positive: string } {
  const value = parseConfigText(readFileSync(config, 'utf8')).value as {
    data?: { columns?: { anchor?: unknown; positive?: unknown } };
  } | null;
  const columns = value?.data?.columns;
  return {
    anchor: typeof columns?.anchor === 'string' ? columns.anchor : 'anchor',
    positive: typeof columns?.positive === 'string' ? columns.positive : 'positive',
  };
}

function failure(outcome: { code: number | null; stdout: string; stderr: string }, command: string): string {
  return lastLines(outcome.stderr || outcome.stdout, 6).join('\n') || `${command} exited with ${outcome.code}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
