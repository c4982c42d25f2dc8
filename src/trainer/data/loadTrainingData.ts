import { isAbsolute, resolve } from 'node:path';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { resolveDataFormat } from '../../shared/data/dataFormat';
import type { DatasetCounts } from '../../shared/events/runEvents';
import { DataFileError } from './dataErrors';
import { deduplicate } from './deduplicate';
import { readExamples, type FileReadSummary } from './readExamples';
import { exampleKindFor, type ExampleByKind, type ExampleKind } from './trainingExamples';
import { splitForValidation } from './validationSplit';

export interface TrainingDataSummary {
  readonly train: FileReadSummary;
  /** Only when `data.validation` names a file. */
  readonly validation?: FileReadSummary;
  /** Training rows held out by `data.validation_split`; 0 when there is a validation file. */
  readonly heldOut: number;
  /** Exact duplicates dropped by `preprocess.dedupe`, per file. */
  readonly duplicatesRemoved: { readonly train: number; readonly validation: number };
  /** The totals that `run_started` reports. */
  readonly dataset: DatasetCounts;
}

/** The examples of one run; `kind` tells which example type both lists hold. */
export type TrainingData = {
  [K in ExampleKind]: { kind: K; train: ExampleByKind[K][]; validation: ExampleByKind[K][]; summary: TrainingDataSummary };
}[ExampleKind];

/**
 * Loads the training and validation examples of a config. Paths are relative to `configDir`.
 * With `preprocess.dedupe`, duplicates are dropped before the validation split, so that one
 * pair cannot land on both sides of it. Without a validation file, `data.validation_split`
 * of the training rows is held out with `training.seed`. Cleaning and augmentation are not
 * done here.
 */
export async function loadTrainingData(config: ResolvedConfig, configDir: string): Promise<TrainingData> {
  return load(exampleKindFor(config.task, config.loss.type), config, configDir) as Promise<TrainingData>;
}

async function load<K extends ExampleKind>(
  kind: K,
  config: ResolvedConfig,
  configDir: string,
): Promise<{ kind: K; train: ExampleByKind[K][]; validation: ExampleByKind[K][]; summary: TrainingDataSummary }> {
  const { data, preprocess, training } = config;
  const read = (written: string) => {
    const file = isAbsolute(written) ? written : resolve(configDir, written);
    const format = resolveDataFormat(written, data.format);
    if (!format)
      throw new DataFileError(file, 'has no .jsonl, .csv or .tsv extension; set data.format to say which it is', undefined, 'data.format');
    return readExamples({ file, format, kind, columns: data.columns, onBadRow: data.on_bad_row });
  };
  const dedupe = (examples: ExampleByKind[K][]) => (preprocess.dedupe ? deduplicate(kind, examples) : { kept: examples, removed: 0 });

  const trainFile = await read(data.train);
  const validationFile = data.validation === undefined ? undefined : await read(data.validation);
  const trainRows = dedupe(trainFile.examples);
  const validationRows = validationFile ? dedupe(validationFile.examples) : { kept: [], removed: 0 };
  const { train, validation } = validationFile
    ? { train: trainRows.kept, validation: validationRows.kept }
    : splitForValidation(trainRows.kept, data.validation_split, training.seed);

  if (train.length === 0) {
    const skipped = trainFile.summary.skipped;
    const why = skipped > 0 ? `all ${skipped} rows are bad, e.g. ${trainFile.summary.firstSkipped[0]!.message}` : 'it has no data rows';
    throw new DataFileError(trainFile.summary.file, `nothing to train on: ${why}`, undefined, 'data.train');
  }

  const summary: TrainingDataSummary = {
    train: trainFile.summary,
    ...(validationFile ? { validation: validationFile.summary } : {}),
    heldOut: validationFile ? 0 : validation.length,
    duplicatesRemoved: { train: trainRows.removed, validation: validationRows.removed },
    dataset: {
      train_rows: train.length,
      validation_rows: validation.length,
      skipped_rows: trainFile.summary.skipped + (validationFile?.summary.skipped ?? 0),
    },
  };
  return { kind, train, validation, summary };
}
