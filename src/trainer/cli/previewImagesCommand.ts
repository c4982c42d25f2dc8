import { createHash } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { DataFileError, DataRowError } from '../data/dataErrors';
import { loadImageData, type ImageExample, type ImageTrainingData } from '../data/imageData';
import { encodeContactSheet } from '../images/contactSheet';
import { ImageDecodeError } from '../images/decodeImage';
import { ImagePipeline } from '../images/imagePipeline';
import type { RgbImage } from '../images/rgbImage';
import { locateModel } from '../model/modelLocator';
import type { CliIo } from './cliIo';

/**
 * `embedtune preview-data` for task image-classification: a contact sheet PNG with one row per sampled training image
 * (spread over the classes): the original (after crop_box), the cleaned image the model sees at validation (resize
 * and center crop), then the augmented images training draws for it in its first epochs, with the same seed. It
 * prints the sheet's path, a legend of its rows and columns, and the data counts.
 */

export interface ImagePreviewOptions {
  /** Images shown, one row each. */
  readonly rows: number;
  /** Augmented columns: epochs 1..N of training. */
  readonly augmented: number;
  /** Where to write the sheet; a fixed file under the system's temp folder by default. */
  readonly sheet?: string;
}

export const DEFAULT_AUGMENTED_COLUMNS = 4;

export async function previewImageData(
  config: ResolvedConfig,
  configDir: string,
  configPath: string,
  io: CliIo,
  options: ImagePreviewOptions,
): Promise<number> {
  let data: ImageTrainingData;
  let pipeline: ImagePipeline;
  try {
    data = await loadImageData(config, configDir);
  } catch (error) {
    if (!(error instanceof DataFileError || error instanceof DataRowError || error instanceof ImageDecodeError)) throw error;
    io.err(`embedtune preview-data: ${error.message}`);
    return 1;
  }
  try {
    pipeline = ImagePipeline.fromConfig(config, await modelFolderFor(config, configDir));
  } catch (error) {
    // The pipeline refuses settings it cannot use (no preprocessor_config.json and too few written keys, a size no
    // batch can hold, a bad value in the model's file), each naming the key or file.
    io.err(`embedtune preview-data: ${(error as Error).message}`);
    return 1;
  }
  const picked = spreadOverLabels(data.train, options.rows);
  const epochs = pipeline.augments ? Array.from({ length: options.augmented }, (_, epoch) => epoch) : [];
  const seed = config.preprocess.augment.seed;
  const problems: string[] = [];
  const rows = picked.map((example) => {
    try {
      const original = pipeline.original(example);
      return [original, pipeline.cleaned(example), ...epochs.map((epoch) => pipeline.modelImage(example, { augment: true, epoch, seed }))];
    } catch (error) {
      problems.push((error as Error).message);
      return [undefined];
    }
  });
  const { width, height } = pipeline.outputSize;
  const columnTitles = ['original', `cleaned ${width}x${height}`, ...epochs.map((epoch) => `epoch ${epoch + 1}`)];
  const { png, layout } = encodeContactSheet(
    rows.map((row) =>
      row.length < columnTitles.length ? [...row, ...Array<RgbImage | undefined>(columnTitles.length - row.length)] : row,
    ),
    { columnTitles, rowTitles: picked.map((example, i) => `${i + 1} ${example.label}  ${shownPath(example, configDir)}`) },
  );
  const path = options.sheet ? resolve(options.sheet) : defaultSheetPath(configPath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, png);

  io.out(`Contact sheet: ${path}`);
  io.out(`  ${layout.rows} row(s) × ${layout.columns} column(s) of ${layout.tile}×${layout.tile} tiles`);
  io.out(`  columns: ${columnLegend(pipeline, epochs, seed)}`);
  io.out('  rows:');
  picked.forEach((example, i) => {
    const original = rows[i]![0];
    const size = original ? ` (${original.width}×${original.height}${config.preprocess.image.crop_box ? ' after crop_box' : ''})` : '';
    io.out(`    ${String(i + 1).padStart(2)}  ${example.label.padEnd(12)} ${shownPath(example, configDir)}${size}`);
  });
  for (const problem of problems) io.out(`  not shown: ${problem}`);
  io.out('');
  printCounts(data, io);
  return 0;
}

function columnLegend(pipeline: ImagePipeline, epochs: readonly number[], seed: number): string {
  const { width, height } = pipeline.outputSize;
  const parts = [
    'original (the file, after crop_box if set)',
    `cleaned (resized and cropped to ${width}×${height}, as validation sees it)`,
  ];
  if (epochs.length > 0)
    parts.push(`augmented as training epochs 1–${epochs.length} draw it (preprocess.augment, seed ${seed}; the training split only)`);
  else parts.push('no augmented columns: preprocess.augment sets no image augmentation');
  return parts.join(' | ');
}

function printCounts(data: ImageTrainingData, io: CliIo): void {
  const perLabel = new Map<string, number>();
  for (const example of data.train) perLabel.set(example.label, (perLabel.get(example.label) ?? 0) + 1);
  const { dataset, validationSource } = data.summary;
  io.out(`classes:         ${data.labels.length} (${data.labels.map((label) => `${label} ${perLabel.get(label) ?? 0}`).join(', ')})`);
  io.out(`training images: ${dataset.train_rows}; validation images: ${dataset.validation_rows} (from ${validationSource})`);
  io.out(`skipped:         ${dataset.skipped_rows} unreadable image(s) or bad row(s)`);
  for (const skipped of [...data.summary.train.firstSkipped, ...(data.summary.validation?.firstSkipped ?? [])].slice(0, 5))
    io.out(`  ${skipped.message}`);
}

/** Up to `count` training images, taking each class's next image in turn, so a sorted folder does not show one class only. */
export function spreadOverLabels(examples: readonly ImageExample[], count: number): ImageExample[] {
  const byLabel = new Map<string, ImageExample[]>();
  for (const example of examples) byLabel.set(example.label, [...(byLabel.get(example.label) ?? []), example]);
  const queues = [...byLabel.values()];
  const picked: ImageExample[] = [];
  for (let round = 0; picked.length < count && queues.some((queue) => queue.length > round); round++)
    for (const queue of queues) if (picked.length < count && queue[round]) picked.push(queue[round]!);
  return picked;
}

/** The model folder whose preprocessor_config.json gives the unset preprocess.image keys; never downloads. */
async function modelFolderFor(config: ResolvedConfig, configDir: string): Promise<string> {
  const local = resolve(configDir, config.model.base);
  if (isFolder(local)) return local;
  try {
    return (await locateModel(config.model.base, { allowRemote: false }, { baseDir: configDir, env: process.env })).folder;
  } catch {
    // Without the model, the written preprocess.image keys must say everything; ImagePipeline says which are missing.
    return local;
  }
}

function defaultSheetPath(configPath: string): string {
  const absolute = resolve(configPath);
  const tag = createHash('sha256').update(absolute).digest('hex').slice(0, 8);
  const name = basename(absolute).replace(/\.embedtune\.(ya?ml|json)$|\.(ya?ml|json)$/, '');
  return join(tmpdir(), 'embedtune-preview', `${name}-${tag}.contact-sheet.png`);
}

function shownPath(example: ImageExample, configDir: string): string {
  const path = relative(configDir, example.image);
  return path.startsWith('..') ? example.image : path;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
