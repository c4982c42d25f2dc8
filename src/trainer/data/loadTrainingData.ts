import { isAbsolute, resolve } from 'node:path';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { resolveDataFormat } from '../../shared/data/dataFormat';
import type { DatasetCounts, PreprocessReport } from '../../shared/events/runEvents';
import type { SpellingCorrector } from '../preprocess/spellingCorrector';
import { withSpellingCorrection } from '../preprocess/spellingExampleCleaner';
import { spellingCorrectorFor, spellingReport, textsOfExample } from '../preprocess/spellingSetup';
import { SynonymFinder } from '../preprocess/synonymFinder';
import { WordNetDatabase } from '../preprocess/wordnet/wordNetDatabase';
import { locateWordNet } from '../preprocess/wordnet/wordNetLocation';
import { augmentExamples, augmentsAnything, type AugmentedCopy } from './augmentExamples';
import { exampleCleaner, type ExampleCleaner } from './cleanExample';
import { loadImageData, type ImageTrainingData } from './imageData';
import { DataFileError } from './dataErrors';
import { deduplicate } from './deduplicate';
import { readExamples, type FileReadSummary, type RowOutcome } from './readExamples';
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
  /** The preprocessing settings and counts that `run_started` reports. */
  readonly preprocess: PreprocessReport;
  /** Each distinct word spelling correction replaced, with its replacement and count; only when it ran. */
  readonly spellingCorrections?: SpellingCorrector['corrections'];
}

/**
 * The examples of one run; `kind` tells which example type both lists hold. Text kinds load here, 'image-label'
 * with loadImageData (imageData.ts); prepareRun loads either.
 */
export type TrainingData = TextTrainingData | ImageTrainingData;

/** The examples of a text task. */
export type TextTrainingData = {
  [K in ExampleKind]: {
    kind: K;
    train: ExampleByKind[K][];
    validation: ExampleByKind[K][];
    /** The augmented copies in `train`, each with the row it was made from. */
    augmentedCopies: readonly AugmentedCopy<K>[];
    summary: TrainingDataSummary;
  };
}[ExampleKind];

export interface LoadTrainingDataOptions {
  /** Add `preprocess.augment`'s copies to the training split (default true); evaluation-only callers skip it. */
  readonly augment?: boolean;
  /** Told what became of every row of the training file, in file order. */
  readonly onTrainRow?: (outcome: RowOutcome<ExampleKind>) => void;
}

/**
 * Loads the training and validation examples of a config, prepared as `preprocess` says. Paths are relative to
 * `configDir`. Each row is cleaned as it is read (a row that cleaning empties is a bad row). With
 * `preprocess.dedupe`, duplicates of the cleaned rows are dropped before the validation split, so that one pair
 * cannot land on both sides of it. Without a validation file, `data.validation_split` of the training rows is
 * held out with `training.seed`. Augmentation comes last and adds copies to the training split only; WordNet is
 * opened only when synonym replacement is on.
 */
export async function loadTrainingData(
  config: ResolvedConfig,
  configDir: string,
  options: LoadTrainingDataOptions = {},
): Promise<TextTrainingData> {
  if (config.task === 'image-classification')
    throw new Error('loadTrainingData reads the text rows of text tasks; image-classification data loads with loadTrainingDataOfTask.');
  return load(exampleKindFor(config.task, config.loss.type, config.data.columns), config, configDir, options) as Promise<TextTrainingData>;
}

/**
 * The data of any task: images (an ImageFolder or rows of image paths, each image decoded to find bad ones) through
 * imageData.ts, text through loadTrainingData. What prepareRun loads for both engines.
 */
export async function loadTrainingDataOfTask(
  config: ResolvedConfig,
  configDir: string,
  options: LoadTrainingDataOptions = {},
): Promise<TrainingData> {
  return config.task === 'image-classification' ? loadImageData(config, configDir) : loadTrainingData(config, configDir, options);
}

async function load<K extends ExampleKind>(
  kind: K,
  config: ResolvedConfig,
  configDir: string,
  options: LoadTrainingDataOptions,
): Promise<{
  kind: K;
  train: ExampleByKind[K][];
  validation: ExampleByKind[K][];
  augmentedCopies: readonly AugmentedCopy<K>[];
  summary: TrainingDataSummary;
}> {
  const { data, preprocess, training } = config;
  const read = (written: string, onRow?: (outcome: RowOutcome<K>) => void, pass: ReadingPass<K> = { clean }) => {
    const file = isAbsolute(written) ? written : resolve(configDir, written);
    const format = resolveDataFormat(written, data.format);
    if (!format)
      throw new DataFileError(file, 'has no .jsonl, .csv or .tsv extension; set data.format to say which it is', undefined, 'data.format');
    return readExamples({
      file,
      format,
      kind,
      columns: data.columns,
      onBadRow: pass.onBadRow ?? data.on_bad_row,
      ...(pass.clean ? { clean: pass.clean } : {}),
      ...(onRow ? { onRow } : {}),
    });
  };
  const cleanBeforeSpelling = exampleCleaner(kind, preprocess.clean, data.columns);
  // Spelling correction must know the training file's vocabulary before it corrects any row, so the file is read
  // once more, cleaned by the other steps; bad rows are left to the real reading to report.
  const spelling = preprocess.clean.spelling.enabled
    ? spellingCorrectorFor(
        (await read(data.train, undefined, { clean: cleanBeforeSpelling, onBadRow: 'skip' })).examples.flatMap(textsOfExample),
        preprocess.clean.spelling,
        configDir,
      )
    : undefined;
  const clean = spelling ? withSpellingCorrection(cleanBeforeSpelling, spelling.corrector) : cleanBeforeSpelling;
  const dedupe = (examples: ExampleByKind[K][]) => (preprocess.dedupe ? deduplicate(kind, examples) : { kept: examples, removed: 0 });

  const trainFile = await read(data.train, options.onTrainRow as ((outcome: RowOutcome<K>) => void) | undefined);
  const validationFile = data.validation === undefined ? undefined : await read(data.validation);
  const trainRows = dedupe(trainFile.examples);
  const validationRows = validationFile ? dedupe(validationFile.examples) : { kept: [], removed: 0 };
  const split = validationFile
    ? { train: trainRows.kept, validation: validationRows.kept }
    : splitForValidation(trainRows.kept, data.validation_split, training.seed);

  if (split.train.length === 0) {
    const skipped = trainFile.summary.skipped;
    const why = skipped > 0 ? `all ${skipped} rows are bad, e.g. ${trainFile.summary.firstSkipped[0]!.message}` : 'it has no data rows';
    throw new DataFileError(trainFile.summary.file, `nothing to train on: ${why}`, undefined, 'data.train');
  }

  const augmentation = options.augment !== false && augmentsAnything(preprocess.augment) ? augment(kind, split.train, config) : undefined;
  const train = augmentation ? augmentation.result.examples : split.train;
  const validation = split.validation;

  const files = validationFile ? [trainFile.summary, validationFile.summary] : [trainFile.summary];
  const total = (count: (summary: FileReadSummary) => number) => files.reduce((sum, summary) => sum + count(summary), 0);
  const added = augmentation?.result.added ?? { synonym_replacement: 0, random_swap: 0, random_deletion: 0 };
  const summary: TrainingDataSummary = {
    train: trainFile.summary,
    ...(validationFile ? { validation: validationFile.summary } : {}),
    heldOut: validationFile ? 0 : validation.length,
    ...(spelling ? { spellingCorrections: spelling.corrector.corrections } : {}),
    duplicatesRemoved: { train: trainRows.removed, validation: validationRows.removed },
    dataset: {
      train_rows: train.length,
      validation_rows: validation.length,
      skipped_rows: total((file) => file.skipped),
    },
    preprocess: {
      clean: cleanReport(preprocess.clean),
      dedupe: preprocess.dedupe,
      augment: {
        seed: preprocess.augment.seed,
        synonym_replacement: { ...preprocess.augment.synonym_replacement },
        random_swap: { ...preprocess.augment.random_swap },
        random_deletion: { ...preprocess.augment.random_deletion },
      },
      rows_read: total((file) => file.rows + file.skipped),
      rows_skipped: total((file) => file.skipped),
      rows_cleaned: total((file) => file.changedByCleaning),
      rows_emptied_by_cleaning: total((file) => file.emptiedByCleaning),
      rows_deduplicated: trainRows.removed + validationRows.removed,
      rows_augmented: added.synonym_replacement + added.random_swap + added.random_deletion,
      augmented_by_operation: { ...added },
      ...(augmentation?.wordNetLoadMs !== undefined ? { wordnet_load_ms: augmentation.wordNetLoadMs } : {}),
      ...(spelling ? { spelling: spellingReport(spelling.corrector, spelling.vocabularyWords) } : {}),
    },
  };
  return { kind, train, validation, augmentedCopies: augmentation?.result.copies ?? [], summary };
}

/** How one reading of a data file cleans rows and treats bad ones; the spelling vocabulary pass differs from the real one. */
interface ReadingPass<K extends ExampleKind> {
  readonly clean: ExampleCleaner<K> | undefined;
  readonly onBadRow?: 'skip';
}

/** The cleaning settings for `run_started`; spelling's only when it is on, so that a run without it reports as before. */
function cleanReport(clean: ResolvedConfig['preprocess']['clean']): PreprocessReport['clean'] {
  const { spelling, ...steps } = clean;
  return spelling.enabled ? { ...steps, spelling: { ...spelling, protect: [...spelling.protect] } } : steps;
}

/** Augments the training split, opening WordNet for the time it takes when synonym replacement is on. */
function augment<K extends ExampleKind>(kind: K, train: readonly ExampleByKind[K][], config: ResolvedConfig) {
  const options = config.preprocess.augment;
  if (options.synonym_replacement.count === 0)
    return { result: augmentExamples(kind, train, options, { dedupe: config.preprocess.dedupe }) };
  const started = performance.now();
  const wordnet = new WordNetDatabase(locateWordNet());
  const wordNetLoadMs = Math.round((performance.now() - started) * 10) / 10;
  try {
    return {
      result: augmentExamples(kind, train, options, { dedupe: config.preprocess.dedupe, synonyms: new SynonymFinder(wordnet) }),
      wordNetLoadMs,
    };
  } finally {
    wordnet.close();
  }
}
