import type { ConfigDiagnostic } from '../configDiagnostic';
import type { ImageFolderSummary, ImageRowsSummary } from '../../data/imageFolderProbe';
import type { DataFileFacts } from '../datasetFacts';
import { valueRangeOf } from '../parsedConfig';
import type { CheckContext, ConfigCheck } from './checkContext';

type FolderOk = Extract<ImageFolderSummary, { ok: true }>;

const UNREADABLE_NAMED = 3;
const EMPTY_CLASSES_NAMED = 5;
const SKIP_FIX = { title: 'Skip unreadable images (data.on_bad_row: skip)', set: [{ path: ['data', 'on_bad_row'], value: 'skip' }] };

/**
 * ImageFolder data of task image-classification: a missing or unlistable folder, a folder without class folders,
 * classes with no images, unreadable images in the probe's sample, and validation classes training lacks.
 */
export const checkImageFolders: ConfigCheck = (context) => {
  const diagnostics: ConfigDiagnostic[] = [];
  const { train, validation } = context.dataset;
  for (const [key, facts] of [
    ['train', train],
    ['validation', validation],
  ] as const) {
    if (facts?.imageFolder) diagnostics.push(...checkFolder(context, key, facts, facts.imageFolder));
    if (facts?.imageRows) diagnostics.push(...checkRowImages(context, key, facts, facts.imageRows));
  }
  if (train?.imageFolder?.ok && validation?.imageFolder?.ok)
    diagnostics.push(...checkClassMismatch(context, train.imageFolder, validation));
  return diagnostics;
};

/** Where a folder's problems land: on its own key, or on data.train for the implicit `validation/` beside it. */
function placeOf(context: CheckContext, key: 'train' | 'validation', facts: DataFileFacts) {
  const path = facts.implicit ? ['data', 'train'] : ['data', key];
  const label = facts.implicit ? `the validation folder "${facts.written}" beside data.train` : `data.${key} "${facts.written}"`;
  return { path, label, range: valueRangeOf(context.parsed, path) };
}

function checkFolder(
  context: CheckContext,
  key: 'train' | 'validation',
  facts: DataFileFacts,
  summary: ImageFolderSummary,
): ConfigDiagnostic[] {
  const { path, label, range } = placeOf(context, key, facts);
  if (!summary.ok) {
    const missing = summary.reason === 'missing';
    // A file with another extension is neither layout; data.format says when it is a row file after all.
    const message =
      summary.message === 'is not a folder'
        ? `${label} is a file, but neither an image folder (<class>/*.png|jpg|jpeg) nor a .jsonl, .csv or .tsv file; set data.format if it holds rows (resolved to ${facts.absolute}).`
        : `${label}: the image folder ${summary.message} (resolved to ${facts.absolute}).`;
    return [{ range, severity: 'error', code: missing ? 'image-folder-missing' : 'image-folder-unreadable', message, data: { path } }];
  }
  if (summary.classes.length === 0) {
    const loose = summary.looseImages > 0 ? ` It holds ${summary.looseImages} image(s) directly, which belong to no class.` : '';
    return [
      {
        range,
        severity: 'error',
        code: 'image-folder-unreadable',
        message: `${label} has no class folders: task image-classification reads ${facts.written}/<class>/*.png|jpg|jpeg.${loose}`,
        data: { path },
      },
    ];
  }
  return [
    ...unlistedClasses(summary, label, range, path),
    ...emptyClasses(summary, key, label, range, path),
    ...unreadableImages(context, summary, label, range, path),
  ];
}

function unlistedClasses(summary: FolderOk, label: string, range: ConfigDiagnostic['range'], path: string[]): ConfigDiagnostic[] {
  return summary.classes
    .filter((entry) => entry.problem)
    .map((entry) => ({
      range,
      severity: 'error' as const,
      code: 'image-folder-unreadable' as const,
      message: `${label}: the class folder "${entry.name}" ${entry.problem}.`,
      data: { path },
    }));
}

function emptyClasses(
  summary: FolderOk,
  key: 'train' | 'validation',
  label: string,
  range: ConfigDiagnostic['range'],
  path: string[],
): ConfigDiagnostic[] {
  const empty = summary.classes.filter((entry) => entry.images === 0 && !entry.problem).map((entry) => `"${entry.name}"`);
  if (empty.length === 0) return [];
  const named =
    empty.slice(0, EMPTY_CLASSES_NAMED).join(', ') +
    (empty.length > EMPTY_CLASSES_NAMED ? ` and ${empty.length - EMPTY_CLASSES_NAMED} more` : '');
  const others = summary.otherFiles > 0 ? ` (${summary.otherFiles} file(s) with other extensions are not read)` : '';
  return [
    {
      range,
      // A class without validation images only leaves its scores unmeasured; without training images it cannot be learned.
      severity: key === 'train' ? 'error' : 'warning',
      code: 'image-class-empty',
      message:
        `${label}: ${empty.length === 1 ? 'class' : 'classes'} ${named} ${empty.length === 1 ? 'has' : 'have'} no .png, .jpg or .jpeg images${others}.` +
        (key === 'train' ? ' Add images, or remove the folder.' : ''),
      data: { path },
    },
  ];
}

function unreadableImages(
  { view }: CheckContext,
  summary: FolderOk,
  label: string,
  range: ConfigDiagnostic['range'],
  path: string[],
): ConfigDiagnostic[] {
  if (summary.unreadable.length === 0) return [];
  const skipping = view.string(['data', 'on_bad_row']) === 'skip';
  const named = summary.unreadable
    .slice(0, UNREADABLE_NAMED)
    .map(({ file, problem }) => `${file} ${problem}`)
    .join('; ');
  const scope =
    summary.sampled < summary.images
      ? `${summary.unreadable.length} of ${summary.sampled} images checked (a sample spread over the ${summary.classes.length} classes, of ${summary.images.toLocaleString('en-US')} images)`
      : `${summary.unreadable.length} of its ${summary.sampled} images`;
  return [
    {
      range,
      severity: skipping ? 'information' : 'error',
      code: 'image-unreadable',
      message:
        `${label}: ${scope} cannot be read: ${named}.` +
        (skipping ? ' They will be skipped (data.on_bad_row: skip).' : ' Training stops on them unless data.on_bad_row is skip.'),
      data: { path, fixes: skipping ? [] : [SKIP_FIX] },
    },
  ];
}

/** A row file's sampled images that cannot be read, named by line and path as the row writes it. */
function checkRowImages(
  context: CheckContext,
  key: 'train' | 'validation',
  facts: DataFileFacts,
  summary: ImageRowsSummary,
): ConfigDiagnostic[] {
  if (!summary.ok || summary.unreadable.length === 0) return [];
  const { path, label, range } = placeOf(context, key, facts);
  const skipping = context.view.string(['data', 'on_bad_row']) === 'skip';
  const named = summary.unreadable
    .slice(0, UNREADABLE_NAMED)
    .map(({ file, line, problem }) => `line ${line} ${file} ${problem}`)
    .join('; ');
  const of = summary.wholeFile ? `${summary.rows.toLocaleString('en-US')} rows` : `the first ${summary.rows.toLocaleString('en-US')} rows`;
  const scope =
    summary.sampled < summary.rows
      ? `${summary.unreadable.length} of ${summary.sampled} images checked (a sample spread over ${of})`
      : `${summary.unreadable.length} of the ${summary.sampled} images it names`;
  return [
    {
      range,
      severity: skipping ? 'information' : 'error',
      code: 'image-unreadable',
      message:
        `${label}: ${scope} cannot be read: ${named}.` +
        (skipping ? ' Their rows will be skipped (data.on_bad_row: skip).' : ' Training stops on them unless data.on_bad_row is skip.'),
      data: { path, fixes: skipping ? [] : [SKIP_FIX] },
    },
  ];
}

function checkClassMismatch(context: CheckContext, train: FolderOk, validation: DataFileFacts): ConfigDiagnostic[] {
  if (!validation.imageFolder?.ok) return [];
  const known = new Set(train.classes.map((entry) => entry.name));
  const unknown = validation.imageFolder.classes.filter((entry) => !known.has(entry.name)).map((entry) => `"${entry.name}"`);
  if (unknown.length === 0) return [];
  const { path, label, range } = placeOf(context, 'validation', validation);
  return [
    {
      range,
      severity: 'warning',
      code: 'image-class-mismatch',
      message: `${label}: ${unknown.length === 1 ? 'class' : 'classes'} ${unknown.join(', ')} ${unknown.length === 1 ? 'has' : 'have'} no training folder, so the model can never predict ${unknown.length === 1 ? 'it' : 'them'}. Training classes: ${train.classes.map((entry) => entry.name).join(', ')}.`,
      data: { path },
    },
  ];
}
