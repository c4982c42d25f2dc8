import { statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { DataFileProbe, DataFileSummary, RowAcceptance } from '../data/dataFileProbe';
import type { ImageFolderSummary, ImageRowsSummary } from '../data/imageFolderProbe';
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
  /** For task image-classification, a path that is no row file: an ImageFolder layout (`<class>/*.png|jpg`). */
  readonly imageFolder?: ImageFolderSummary;
  /** For task image-classification, a row file's images: labels counted, a sample of the images checked. */
  readonly imageRows?: ImageRowsSummary;
  /** The `validation/` folder beside an image training folder, used when data.validation is not written. */
  readonly implicit?: boolean;
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
    if (!fileFormat && view.task() === 'image-classification')
      return { written, absolute, format: undefined, summary: undefined, imageFolder: probe.images.summarize(absolute) };
    const summary = fileFormat ? probe.summarize(absolute, fileFormat, acceptance) : undefined;
    if (fileFormat && summary?.ok && view.task() === 'image-classification') {
      const columns = {
        image: view.string(['data', 'columns', 'image']) ?? 'image',
        label: view.string(['data', 'columns', 'label']) ?? 'label',
      };
      return { written, absolute, format: fileFormat, summary, imageRows: probe.images.summarizeRows(absolute, fileFormat, columns) };
    }
    return { written, absolute, format: fileFormat, summary };
  };
  const train = facts('train');
  return { train, validation: facts('validation') ?? siblingImageValidation(train, probe) };
}

/** An ImageFolder training folder takes its validation images from a `validation/` folder beside it, when there is one. */
function siblingImageValidation(train: DataFileFacts | undefined, probe: DataFileProbe): DataFileFacts | undefined {
  if (!train?.imageFolder?.ok) return undefined;
  const absolute = join(dirname(train.absolute), 'validation');
  if (absolute === train.absolute || !probe.mayRead(absolute) || !isFolder(absolute)) return undefined;
  const written = join(dirname(train.written), 'validation');
  return { written, absolute, format: undefined, summary: undefined, imageFolder: probe.images.summarize(absolute), implicit: true };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The rows a data file holds, or the images of an image folder; undefined when it could not be read. */
export function fileRowCount(facts: DataFileFacts | undefined): number | undefined {
  if (facts?.imageFolder) return facts.imageFolder.ok ? facts.imageFolder.images : undefined;
  return facts?.summary?.ok ? facts.summary.rows : undefined;
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
  const rows = fileRowCount(dataset.train);
  if (rows === undefined) return undefined;
  const split = dataset.validation ? 0 : view.numberOrDefault(['data', 'validation_split']);
  return rows - Math.round(rows * split);
}

/** `data.columns.negative` when written as a list of column names (an n-tuple), else undefined. */
export function writtenNegativeColumns(view: ConfigView): readonly string[] | undefined {
  const written = view.raw(['data', 'columns', 'negative']);
  if (!Array.isArray(written) || !written.every((column): column is string => typeof column === 'string')) return undefined;
  return written;
}
