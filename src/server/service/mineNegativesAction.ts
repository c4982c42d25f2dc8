import { CodeActionKind, type CodeAction, type Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { locatePath } from '../../shared/config/parsedConfig';
import { hasErrors, type ValidationResult } from '../../shared/config/validateConfig';
import { IN_BATCH_NEGATIVE_LOSSES } from '../../shared/config/taskRequirements';
import { MINE_HARD_NEGATIVES_COMMAND, MINE_HARD_NEGATIVES_TITLE } from '../../shared/protocol/mineHardNegatives';

/**
 * The "mine hard negatives" quick fix, offered where mining would help and could run: an in-batch-negatives loss
 * (mnrl, cached_mnrl) training an embedding on pairs only, in a config without errors (the miner reads it), in a
 * trusted workspace (mining runs the engine). It is offered on the lines it is about, `data.train` and `loss.type`,
 * not on every line of the file. It carries a command, not an edit: the extension mines, then edits.
 */
export function mineHardNegativesActions(
  document: TextDocument,
  range: Range,
  result: ValidationResult,
  restricted: boolean,
): CodeAction[] {
  if (restricted || !onLineAbout(document, range, result) || !trainsOnPairsOnly(result)) return [];
  const uri = document.uri;
  return [
    {
      title: MINE_HARD_NEGATIVES_TITLE,
      kind: CodeActionKind.QuickFix,
      command: { title: MINE_HARD_NEGATIVES_TITLE, command: MINE_HARD_NEGATIVES_COMMAND, arguments: [uri] },
    },
  ];
}

function trainsOnPairsOnly({ view, dataset, diagnostics }: ValidationResult): boolean {
  if (hasErrors(diagnostics) || view.task() !== 'embedding' || !IN_BATCH_NEGATIVE_LOSSES.includes(view.lossType())) return false;
  // A negative column written in the config means the rows already have negatives (or are meant to).
  if (view.raw(['data', 'columns', 'negative']) !== undefined) return false;
  const summary = dataset.train?.summary;
  if (!summary?.ok || summary.rows === 0) return false;
  const column = (role: string) => view.string(['data', 'columns', role]) ?? role;
  return (
    summary.columns.includes(column('anchor')) && summary.columns.includes(column('positive')) && !summary.columns.includes('negative')
  );
}

/** Whether the requested lines touch the `data.train` or `loss.type` entry. */
function onLineAbout(document: TextDocument, range: Range, { parsed }: ValidationResult): boolean {
  return [
    ['data', 'train'],
    ['loss', 'type'],
  ].some((path) => {
    const entry = locatePath(parsed, path)?.range;
    if (!entry) return false;
    const first = document.positionAt(entry.start).line;
    const last = document.positionAt(entry.end).line;
    return range.start.line <= last && range.end.line >= first;
  });
}
