import type { ConfigDiagnostic } from '../configDiagnostic';
import { writtenNegativeColumns } from '../datasetFacts';
import { valueRangeOf } from '../parsedConfig';
import { IN_BATCH_NEGATIVE_LOSSES } from '../taskRequirements';
import type { CheckContext, ConfigCheck } from './checkContext';

const PATH = ['data', 'columns', 'negative'];

/**
 * A list of negative columns (an n-tuple) trains mnrl and cached_mnrl, which score every negative as
 * sentence-transformers' MNRL does; triplet compares one negative per anchor, and the other losses read none.
 */
export const checkNegativeColumnsFitLoss: ConfigCheck = ({ parsed, view }) => {
  const negatives = writtenNegativeColumns(view);
  if (!negatives || view.task() !== 'embedding') return [];
  const loss = view.lossType();
  if (IN_BATCH_NEGATIVE_LOSSES.includes(loss) || (loss === 'triplet' && negatives.length === 1)) return [];
  const what = loss === 'triplet' ? 'takes one negative column' : 'reads no negative column';
  return [
    {
      range: valueRangeOf(parsed, PATH),
      severity: 'error',
      code: 'negative-columns-loss',
      message:
        `data.columns.negative lists ${negatives.length} negative columns, but loss ${loss} ${what}. ` +
        `Use loss.type: mnrl or cached_mnrl to train on several negatives per row${loss === 'triplet' ? ', or name one column' : ''}.`,
      data: { path: PATH },
    },
  ];
};

/**
 * A single negative column written as a string is triplet's form; mnrl and cached_mnrl read negatives only from a
 * list, so without this warning a mined negative column would silently train as pairs.
 */
export const checkStringNegativeWithMnrl: ConfigCheck = ({ parsed, view }) => {
  const written = view.raw(PATH);
  if (typeof written !== 'string' || view.task() !== 'embedding' || !IN_BATCH_NEGATIVE_LOSSES.includes(view.lossType())) return [];
  return [
    {
      range: valueRangeOf(parsed, PATH),
      severity: 'warning',
      code: 'negative-column-not-read',
      message:
        `loss ${view.lossType()} reads hard negatives only from a list of columns, so "${written}" is not trained on ` +
        `and the rows train as pairs. Write data.columns.negative: [${written}] to use it.`,
      data: { path: PATH },
    },
  ];
};

/** Each listed negative column the data file lacks, named, with the list item as its range. */
export function missingNegativeColumns(context: CheckContext, available: ReadonlySet<string>, file: string): ConfigDiagnostic[] {
  const { parsed, view } = context;
  const negatives = writtenNegativeColumns(view);
  const loss = view.lossType();
  if (!negatives || !(IN_BATCH_NEGATIVE_LOSSES.includes(loss) || loss === 'triplet')) return [];
  return negatives.flatMap((column, index) =>
    available.has(column)
      ? []
      : [
          {
            range: valueRangeOf(parsed, [...PATH, index]),
            severity: 'error' as const,
            code: 'data-missing-column' as const,
            message: `data.columns.negative names "${column}", but "${file}" has no such column (it has: ${[...available].join(', ') || 'no columns'}).`,
            data: { path: PATH },
          },
        ],
  );
}
