import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { SpellingReport } from '../../shared/events/runEvents';
import type { AugmentedCopy } from '../data/augmentExamples';
import { DataFileError, DataRowError } from '../data/dataErrors';
import { loadTrainingData } from '../data/loadTrainingData';
import type { RowOutcome } from '../data/readExamples';
import type { Example, ExampleKind } from '../data/trainingExamples';
import { requireRegularFile, UsageError, type CliIo } from './cliIo';
import { DEFAULT_AUGMENTED_COLUMNS, previewImageData } from './previewImagesCommand';
import { readConfigOrReport } from './configErrorReport';

export const PREVIEW_DATA_USAGE = `embedtune preview-data CONFIG [--rows N] [--sheet FILE.png]

Prepares the config's data as training would (preprocess.clean with spelling, dedupe, the validation split and
preprocess.augment) and prints the first N rows of the training file (default 5) before and after cleaning,
what became of each, and its augmented copies, then the counts: rows read, skipped, deduplicated and augmented.

For task image-classification it writes a contact sheet PNG instead and prints its path: one row per image for N
training images spread over the classes (default 8), showing the original, the cleaned (resized and cropped) image
and ${DEFAULT_AUGMENTED_COLUMNS} augmented versions as training epochs 1-${DEFAULT_AUGMENTED_COLUMNS} draw them. --sheet says where (default: a file under the
system's temp folder named after the config).`;

const DEFAULT_ROWS = 5;
const DEFAULT_IMAGE_ROWS = 8;
/** Long texts are cut in the listing so that one row stays readable; the counts always cover every row. */
const SHOWN_CHARACTERS = 160;
/** The distinct spelling corrections listed, in the order first made; the counts cover all of them. */
const SPELLING_CORRECTIONS_SHOWN = 20;

export async function runPreviewData(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { rows: { type: 'string' }, sheet: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('preview-data needs exactly one config file.', PREVIEW_DATA_USAGE);
  const rows = values.rows === undefined ? DEFAULT_ROWS : Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1)
    throw new UsageError(`--rows must be a whole number of at least 1, not "${values.rows}".`, PREVIEW_DATA_USAGE);
  const configPath = positionals[0]!;
  requireRegularFile(configPath, 'The config');

  const runConfig = readConfigOrReport(configPath, io, 'preview-data');
  if (!runConfig) return 1;
  const { config, configDir } = runConfig;
  if (config.task === 'image-classification')
    return previewImageData(config, configDir, configPath, io, {
      rows: values.rows === undefined ? DEFAULT_IMAGE_ROWS : rows,
      augmented: DEFAULT_AUGMENTED_COLUMNS,
      ...(values.sheet !== undefined ? { sheet: values.sheet } : {}),
    });
  if (values.sheet !== undefined) throw new UsageError('--sheet applies to task image-classification only.', PREVIEW_DATA_USAGE);

  const shown: RowOutcome<ExampleKind>[] = [];
  let data;
  try {
    data = await loadTrainingData(config, configDir, {
      onTrainRow: (outcome) => {
        if (shown.length < rows) shown.push(outcome);
      },
    });
  } catch (error) {
    if (error instanceof DataFileError || error instanceof DataRowError) {
      io.err(`embedtune preview-data: ${error.message}`);
      return 1;
    }
    throw error;
  }

  const training = new Set<Example>(data.train);
  const heldOut = new Set<Example>(data.validation);
  const copiesOf = new Map<Example, AugmentedCopy<ExampleKind>[]>();
  for (const copy of data.augmentedCopies as readonly AugmentedCopy<ExampleKind>[])
    copiesOf.set(copy.source, [...(copiesOf.get(copy.source) ?? []), copy]);

  const fromHere = relative(process.cwd(), data.summary.train.file);
  const trainFile = fromHere === '' || fromHere.startsWith('..') ? data.summary.train.file : fromHere;
  io.out(`First ${shown.length} row(s) of ${trainFile}:`);
  for (const outcome of shown) {
    io.out('');
    io.out(`line ${outcome.line}`);
    if (outcome.original) io.out(`  before    ${show(outcome.original)}`);
    if (outcome.status === 'skipped') {
      io.out(`  skipped   ${outcome.message}`);
      continue;
    }
    io.out(`  cleaned   ${show(outcome.example) === show(outcome.original) ? '(unchanged)' : show(outcome.example)}`);
    const fate = training.has(outcome.example)
      ? 'training'
      : heldOut.has(outcome.example)
        ? 'held out for validation'
        : 'dropped: duplicate of an earlier row after cleaning';
    io.out(`  used for  ${fate}`);
    for (const copy of copiesOf.get(outcome.example) ?? []) io.out(`  + ${copy.operation.padEnd(20)} ${show(copy.example)}`);
  }

  const { preprocess, dataset, heldOut: heldOutRows } = data.summary;
  const byOperation = Object.entries(preprocess.augmented_by_operation)
    .filter(([, count]) => count > 0)
    .map(([operation, count]) => `${operation} ${count}`);
  io.out('');
  io.out(`rows read:     ${preprocess.rows_read}`);
  io.out(
    `skipped:       ${preprocess.rows_skipped}${preprocess.rows_emptied_by_cleaning > 0 ? ` (${preprocess.rows_emptied_by_cleaning} emptied by cleaning)` : ''}`,
  );
  io.out(`cleaned:       ${preprocess.rows_cleaned} changed`);
  io.out(`deduplicated:  ${preprocess.rows_deduplicated}${preprocess.dedupe ? '' : ' (preprocess.dedupe is off)'}`);
  io.out(`augmented:     ${preprocess.rows_augmented}${byOperation.length > 0 ? ` (${byOperation.join(', ')})` : ''}`);
  io.out(
    `training rows: ${dataset.train_rows}; validation rows: ${dataset.validation_rows}${heldOutRows > 0 ? ` (held out from the training file)` : ''}`,
  );
  if (preprocess.spelling) io.out(spellingLine(preprocess.spelling));
  for (const [from, { to, count }] of [...(data.summary.spellingCorrections ?? [])].slice(0, SPELLING_CORRECTIONS_SHOWN))
    io.out(`  ${from} -> ${to}${count > 1 ? ` (x${count})` : ''}`);
  if (preprocess.wordnet_load_ms !== undefined) io.out(`WordNet opened in ${preprocess.wordnet_load_ms} ms`);
  return 0;
}

/** What preprocess.clean.spelling did, in the words of its run_started counts. */
function spellingLine(spelling: SpellingReport): string {
  return (
    `spelling:      ${spelling.words_corrected} word(s) corrected (${spelling.distinct_words_corrected} distinct), ` +
    `${spelling.words_kept_as_vocabulary} unknown kept as vocabulary (${spelling.vocabulary_words} vocabulary words), ` +
    `${spelling.words_left_ambiguous} left with no single close suggestion`
  );
}

/** One example as JSON on one line, each text cut to SHOWN_CHARACTERS. */
function show(example: Example): string {
  return JSON.stringify(example, (_, value: unknown) =>
    typeof value === 'string' && value.length > SHOWN_CHARACTERS ? `${value.slice(0, SHOWN_CHARACTERS)}…` : value,
  );
}
