import { CodeActionKind, type CodeAction } from 'vscode-languageserver';
import { hasErrors, type ValidationResult } from '../../shared/config/validateConfig';
import { IN_BATCH_NEGATIVE_LOSSES } from '../../shared/config/taskRequirements';
import { MINE_HARD_NEGATIVES_COMMAND, MINE_HARD_NEGATIVES_TITLE } from '../../shared/protocol/mineHardNegatives';

/**
 * The "mine hard negatives" quick fix, offered where mining would help and could run: an in-batch-negatives loss
 * (mnrl, cached_mnrl) training an embedding on pairs only, in a config without errors (the miner reads it), in a
 * trusted workspace (mining runs the engine). It carries a command, not an edit: the extension mines, then edits.
 */
export function mineHardNegativesActions(uri: string, result: ValidationResult, restricted: boolean): CodeAction[] {
  if (restricted || !trainsOnPairsOnly(result)) return [];
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
