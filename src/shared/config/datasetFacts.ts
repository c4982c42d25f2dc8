import { isAbsolute, resolve } from 'node:path';
import type { DataFileProbe, DataFileSummary } from '../data/dataFileProbe';
import { resolveDataFormat, type DataFormat } from '../data/dataFormat';
import type { ConfigView } from './configView';

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
  const facts = (key: 'train' | 'validation'): DataFileFacts | undefined => {
    const written = view.raw(['data', key]);
    if (typeof written !== 'string' || written.trim() === '') return undefined;
    const absolute = isAbsolute(written) ? written : resolve(configDir, written);
    const fileFormat = resolveDataFormat(written, format);
    return { written, absolute, format: fileFormat, summary: fileFormat ? probe.summarize(absolute, fileFormat) : undefined };
  };
  return { train: facts('train'), validation: facts('validation') };
}

/** Rows that train after the validation split (which applies whenever no validation file is named), when the training file could be read. */
export function trainingRowCount(view: ConfigView, dataset: DatasetFacts): number | undefined {
  const summary = dataset.train?.summary;
  if (!summary?.ok) return undefined;
  const split = dataset.validation ? 0 : (view.number(['data', 'validation_split']) ?? 0);
  return summary.rows - Math.round(summary.rows * split);
}
