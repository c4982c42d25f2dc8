import type { DataFileFacts } from '../../shared/config/datasetFacts';
import type { ImageRowsSummary, ImageSize } from '../../shared/data/imageFolderProbe';

const CLASSES_LISTED = 30;
const SIZES_LISTED = 4;

/** An image folder's classes with their image counts, and the sizes its sampled headers declare. */
export function imageFolderMarkdown(file: DataFileFacts, escape: (text: string) => string): string {
  const summary = file.imageFolder;
  if (!summary) return '';
  const name = `\`${file.written}\``;
  if (!summary.ok) return `${name} ${summary.message}`;
  const count = (n: number) => `${summary.capped ? 'at least ' : ''}${n.toLocaleString('en-US')}`;
  const lines = [
    `${name}${file.implicit ? ' (the validation folder beside data.train)' : ''} · image folder · ${count(summary.images)} images in ${summary.classes.length} classes`,
  ];
  if (summary.classes.length > 0) {
    lines.push('', '| class | images |', '| --- | ---: |');
    for (const entry of summary.classes.slice(0, CLASSES_LISTED))
      lines.push(`| ${escape(entry.name)} | ${entry.problem ? escape(entry.problem) : count(entry.images)} |`);
    if (summary.classes.length > CLASSES_LISTED) lines.push(`| … ${summary.classes.length - CLASSES_LISTED} more | |`);
  }
  lines.push(...sampleLines(summary));
  const ignored = [
    summary.looseImages > 0 ? `${summary.looseImages} image(s) outside class folders` : '',
    summary.otherFiles > 0 ? `${summary.otherFiles} file(s) that are not .png/.jpg/.jpeg` : '',
  ].filter(Boolean);
  if (ignored.length > 0) lines.push('', `Not read: ${ignored.join(', ')}`);
  return lines.join('\n');
}

/** A row file's images per label, and the sizes its sampled images declare. */
export function imageRowsMarkdown(summary: ImageRowsSummary, escape: (text: string) => string): string {
  if (!summary.ok) return `Images: ${summary.message}`;
  const scope = summary.wholeFile ? '' : ' (in the first rows read)';
  const lines = [`Images per label${scope}: ${summary.labels.length} labels, ${summary.rows.toLocaleString('en-US')} images`];
  if (summary.labels.length > 0) {
    lines.push('', '| label | images |', '| --- | ---: |');
    for (const entry of summary.labels.slice(0, CLASSES_LISTED))
      lines.push(`| ${escape(entry.name)} | ${entry.images.toLocaleString('en-US')} |`);
    if (summary.labels.length > CLASSES_LISTED) lines.push(`| … ${summary.labels.length - CLASSES_LISTED} more | |`);
  }
  lines.push(...sampleLines(summary));
  return lines.join('\n');
}

function sampleLines(summary: { sampled: number; sizes: readonly ImageSize[]; unreadable: readonly unknown[] }): string[] {
  const lines: string[] = [];
  if (summary.sizes.length > 0) {
    const sizes = summary.sizes
      .slice(0, SIZES_LISTED)
      .map((size) => `${size.width}×${size.height} (${size.count})`)
      .join(', ');
    const more = summary.sizes.length > SIZES_LISTED ? `, ${summary.sizes.length - SIZES_LISTED} more` : '';
    lines.push('', `Sizes seen in ${summary.sampled} sampled image headers: ${sizes}${more}`);
  }
  if (summary.unreadable.length > 0) lines.push('', `Unreadable in the sample: ${summary.unreadable.length}`);
  return lines;
}
