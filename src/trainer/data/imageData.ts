import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { resolveDataFormat } from '../../shared/data/dataFormat';
import type { PreprocessReport } from '../../shared/events/runEvents';
import { DataFileError, DataRowError, describeRowProblem, type BadRowReason, type RowProblem } from './dataErrors';
import type { ImageExample } from './imageDataExample';
import type { TrainingDataSummary } from './loadTrainingData';
import { imageProblem } from './imageDataDecodable';
import { isDirectory, listImageFolder } from './imageDataFolder';
import { readImageRows } from './imageDataRows';
import type { FileReadSummary, SkippedRow } from './readExamples';
import { splitForValidation } from './validationSplit';

export type { ImageExample } from './imageDataExample';

/**
 * The data of an image-classification run: an ImageFolder (`train/<class>/*.png|jpg|jpeg`) or a CSV/TSV/JSONL file of
 * image paths and labels. Validation comes from `data.validation`, else (for an ImageFolder) a `validation/` folder
 * beside the training folder, else `data.validation_split` of the training images held out with `training.seed`.
 *
 * Every image is decoded once here, so that a missing, empty, truncated or non-PNG/JPEG file is a bad row under
 * `data.on_bad_row`: `error` stops naming the image (and the data file's line), `skip` drops it and counts it in
 * the summary. Augmentation is not applied here: the ImagePipeline draws it afresh each epoch.
 */

export interface ImageTrainingData {
  readonly kind: 'image-label';
  readonly train: ImageExample[];
  readonly validation: ImageExample[];
  /** The class names, sorted: every label of the training and validation images. */
  readonly labels: string[];
  /** Always empty: images are augmented per epoch by the pipeline, not copied. */
  readonly augmentedCopies: readonly never[];
  readonly summary: ImageDataSummary;
}

/** The text summary's counts (no cleaning, dedupe or copies apply to images), and where validation came from. */
export interface ImageDataSummary extends TrainingDataSummary {
  /** Where validation came from: the config, the sibling folder, or the split. */
  readonly validationSource: 'data.validation' | 'sibling folder' | 'validation_split';
}

type Unindexed = Omit<ImageExample, 'index'>;

export async function loadImageData(config: ResolvedConfig, configDir: string): Promise<ImageTrainingData> {
  const { data, training } = config;
  const trainPath = absolute(configDir, data.train);
  const sibling = join(dirname(trainPath), 'validation');
  const validationPath =
    data.validation !== undefined
      ? absolute(configDir, data.validation)
      : isDirectory(trainPath) && isDirectory(sibling) && sibling !== trainPath
        ? sibling
        : undefined;
  const trainSource = await readImageSource(trainPath, data.train, 'data.train', config);
  const validationSource = validationPath
    ? await readImageSource(validationPath, data.validation ?? sibling, 'data.validation', config)
    : undefined;
  const split = validationSource
    ? { train: trainSource.examples, validation: validationSource.examples }
    : splitForValidation(trainSource.examples, data.validation_split, training.seed);
  if (split.train.length === 0) {
    const skipped = trainSource.summary.skipped;
    const why = skipped > 0 ? `all ${skipped} images are bad, e.g. ${trainSource.summary.firstSkipped[0]!.message}` : 'it has no images';
    throw new DataFileError(trainPath, `nothing to train on: ${why}`, undefined, 'data.train');
  }
  const train = indexed(split.train);
  const validation = indexed(split.validation);
  const summaries = validationSource ? [trainSource.summary, validationSource.summary] : [trainSource.summary];
  return {
    kind: 'image-label',
    train,
    validation,
    labels: [...new Set([...train, ...validation].map((example) => example.label))].sort(byCodePoint),
    augmentedCopies: [],
    summary: {
      train: trainSource.summary,
      ...(validationSource ? { validation: validationSource.summary } : {}),
      heldOut: validationSource ? 0 : validation.length,
      duplicatesRemoved: { train: 0, validation: 0 },
      dataset: {
        train_rows: train.length,
        validation_rows: validation.length,
        skipped_rows: summaries.reduce((sum, summary) => sum + summary.skipped, 0),
      },
      preprocess: preprocessReport(config, summaries),
      validationSource: data.validation !== undefined ? 'data.validation' : validationSource ? 'sibling folder' : 'validation_split',
    },
  };
}

function absolute(configDir: string, written: string): string {
  return isAbsolute(written) ? written : resolve(configDir, written);
}

function indexed(examples: readonly Unindexed[]): ImageExample[] {
  return examples.map((example, index) => ({ ...example, index }));
}

/** Reads one ImageFolder or row file, decoding each image and treating a bad one as the policy says. */
async function readImageSource(
  path: string,
  written: string,
  key: 'data.train' | 'data.validation',
  config: ResolvedConfig,
): Promise<{ examples: Unindexed[]; summary: FileReadSummary }> {
  const bad = new BadImages(path, config.data.on_bad_row);
  const examples: Unindexed[] = [];
  if (isDirectory(path)) {
    for (const { path: image, label } of listImageFolder(path, key)) {
      const problem = imageProblem(image);
      if (problem === undefined) examples.push({ image, label, source: image });
      else bad.folderImage(image, problem);
    }
  } else {
    const format = resolveDataFormat(written, config.data.format);
    if (!format)
      throw new DataFileError(
        path,
        'is neither an image folder nor a .jsonl, .csv or .tsv file; set data.format to say which it is',
        undefined,
        'data.format',
      );
    const columns = { image: config.data.columns.image, label: config.data.columns.label };
    for await (const outcome of readImageRows(path, format, columns)) {
      if ('problem' in outcome) {
        bad.row(outcome.line, outcome.problem);
        continue;
      }
      const { line, image, label } = outcome.row;
      const problem = imageProblem(image);
      if (problem === undefined) examples.push({ image, label, source: `${path}:${line}` });
      else
        bad.row(line, {
          reason: 'unreadable_image',
          detail: `names an image that cannot be used: ${image} ${problem}`,
          role: 'image',
          column: columns.image,
        });
    }
  }
  return { examples, summary: bad.summary(examples.length) };
}

const SKIPPED_LISTED = 10;

/** The bad images of one source: thrown under `error`, counted (with the first few listed) under `skip`. */
class BadImages {
  private skipped = 0;
  private readonly byReason: Partial<Record<BadRowReason, number>> = {};
  private readonly first: SkippedRow[] = [];

  constructor(
    private readonly file: string,
    private readonly policy: 'error' | 'skip',
  ) {}

  row(line: number, problem: RowProblem): void {
    if (this.policy === 'error') throw new DataRowError(this.file, line, problem);
    this.count(line, problem.reason, describeRowProblem(this.file, line, problem));
  }

  /** An ImageFolder image has no line: it is named by its path, and listed with line 0. */
  folderImage(image: string, problem: string): void {
    if (this.policy === 'error')
      throw new DataFileError(image, `${problem}. Remove or replace the image, or set data.on_bad_row: skip to drop bad images`);
    this.count(0, 'unreadable_image', `${image}: ${problem}`);
  }

  summary(rows: number): FileReadSummary {
    return {
      file: this.file,
      rows,
      skipped: this.skipped,
      skippedByReason: { ...this.byReason },
      firstSkipped: [...this.first],
      changedByCleaning: 0,
      emptiedByCleaning: 0,
    };
  }

  private count(line: number, reason: BadRowReason, message: string): void {
    this.skipped++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    if (this.first.length < SKIPPED_LISTED) this.first.push({ line, reason, message });
  }
}

/** The run_started preprocessing report: no text cleaning or copies apply to images, so only the counts are real. */
function preprocessReport(config: ResolvedConfig, summaries: readonly FileReadSummary[]): PreprocessReport {
  const { clean, augment, dedupe } = config.preprocess;
  const skipped = summaries.reduce((sum, summary) => sum + summary.skipped, 0);
  const { spelling: _spelling, ...steps } = clean;
  return {
    clean: steps,
    dedupe,
    augment: {
      seed: augment.seed,
      synonym_replacement: { ...augment.synonym_replacement },
      random_swap: { ...augment.random_swap },
      random_deletion: { ...augment.random_deletion },
    },
    rows_read: summaries.reduce((sum, summary) => sum + summary.rows + summary.skipped, 0),
    rows_skipped: skipped,
    rows_cleaned: 0,
    rows_emptied_by_cleaning: 0,
    rows_deduplicated: 0,
    rows_augmented: 0,
    augmented_by_operation: { synonym_replacement: 0, random_swap: 0, random_deletion: 0 },
  };
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
