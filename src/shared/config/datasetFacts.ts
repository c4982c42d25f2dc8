import { isAbsolute, resolve } from 'node:path';
import type { DataFileProbe, DataFileSummary, RowAcceptance } from '../data/dataFileProbe';
import { resolveDataFormat, type DataFormat } from '../data/dataFormat';
import type { ColumnNames } from '../data/exampleMapping';
import { exampleKindFor } from '../data/trainingExamples';
import type { ConfigView } from './configView';
import { DATA_ROLES, requiredRoles } from './taskRequirements';

export interface DataFileFacts {
  /** The path as written in the config. */
  readonly written: string;
  readonly absolute: string;
  readonly format: DataFormat | undefined;
  /** Undefined when the format is unknown, so the file was not read. */
  readonly summary: DataFileSummary | undefined;
}

/** What the config's data files hold, read once per validation and shared by the checks and the dry run. */
export interface DatasetFacts {
  readonly train?: DataFileFacts;
  readonly validation?: DataFileFacts;
}

/** Data paths resolve against the config's folder; without one (an unsaved editor) nothing is read. */
export function readDatasetFacts(view: ConfigView, configDir: string | undefined, probe: DataFileProbe): DatasetFacts {
  if (!configDir) return {};
  const format = view.string(['data', 'format']);
  const acceptance = rowAcceptance(view);
  const facts = (key: 'train' | 'validation'): DataFileFacts | undefined => {
    const written = view.raw(['data', key]);
    if (typeof written !== 'string' || written.trim() === '') return undefined;
    const absolute = isAbsolute(written) ? written : resolve(configDir, written);
    const fileFormat = resolveDataFormat(written, format);
    return { written, absolute, format: fileFormat, summary: fileFormat ? probe.summarize(absolute, fileFormat, acceptance) : undefined };
  };
  return { train: facts('train'), validation: facts('validation') };
}

/** The trainer's row rule for the config's task, loss and columns; undefined when the task and loss do not go together. */
function rowAcceptance(view: ConfigView): RowAcceptance | undefined {
  const task = view.task();
  const loss = view.lossType();
  if (!requiredRoles(task, loss)) return undefined;
  const columns = Object.fromEntries(
    DATA_ROLES.map((role) => [role, view.string(['data', 'columns', role]) ?? role]),
  ) as unknown as ColumnNames;
  const negatives = writtenNegativeColumns(view);
  if (negatives) columns.negative = [...negatives];
  return { kind: exampleKindFor(task, loss, columns), columns };
}

/** Rows that train after the validation split (which applies whenever no validation file is named), when the training file could be read. */
export function trainingRowCount(view: ConfigView, dataset: DatasetFacts): number | undefined {
  const summary = dataset.train?.summary;
  if (!summary?.ok) return undefined;
  const split = dataset.validation ? 0 : view.numberOrDefault(['data', 'validation_split']);
  return summary.rows - Math.round(summary.rows * split);
}

/** `data.columns.negative` when written as a list of column names (an n-tuple), else undefined. */
export function writtenNegativeColumns(view: ConfigView): readonly string[] | undefined {
  const written = view.raw(['data', 'columns', 'negative']);
  if (!Array.isArray(written) || !written.every((column): column is string => typeof column === 'string')) return undefined;
  return written;
}
