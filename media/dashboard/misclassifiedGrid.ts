import { decodeThumbnail, type ThumbnailPixels } from '../../src/shared/monitor/thumbnailPixels';
import { h } from '../common/dom';

/**
 * The misclassified validation images of an image run: each thumbnail drawn on a canvas from its raw RGB bytes
 * (putImageData, so no URL of any kind and the CSP stays as it is), with its file, gold label, predicted label and
 * confidence as text. An entry whose thumbnail or fields are bad is left out, and a note says which and why.
 */
export function misclassifiedGrid(items: unknown): HTMLElement | null {
  if (!Array.isArray(items)) return null;
  const cards: HTMLElement[] = [];
  const skipped: string[] = [];
  items.forEach((item: unknown, index) => {
    const card = misclassifiedCard(item);
    if (typeof card === 'string') skipped.push(`#${index + 1}: ${card}`);
    else cards.push(card);
  });
  return h(
    'div',
    { id: 'misclassified' },
    h('h3', {}, `Misclassified validation images (${items.length})`),
    items.length === 0 ? h('p', { class: 'muted' }, 'None: every validation image was classified correctly.') : null,
    cards.length > 0 ? h('div', { class: 'thumb-grid' }, ...cards) : null,
    skipped.length > 0
      ? h('p', { class: 'muted', id: 'misclassified-skipped' }, `Not shown, their thumbnails are bad: ${skipped.join('; ')}`)
      : null,
  );
}

/** One image's card, or why it cannot be shown. */
function misclassifiedCard(item: unknown): HTMLElement | string {
  if (typeof item !== 'object' || item === null) return 'not an object';
  const { file, label, predicted, confidence, thumbnail } = item as Record<string, unknown>;
  const name = typeof file === 'string' ? file : '?';
  if (typeof file !== 'string' || typeof label !== 'string' || typeof predicted !== 'string')
    return `${name}: file, label or predicted missing`;
  if (typeof confidence !== 'number' || !Number.isFinite(confidence)) return `${name}: confidence is not a number`;
  const pixels = decodeThumbnail(thumbnail);
  if (typeof pixels === 'string') return `${name}: ${pixels}`;
  const percent = `${(confidence * 100).toFixed(1)}%`;
  return h(
    'figure',
    { class: 'thumb-card', title: file },
    drawThumbnail(pixels, `${file}: gold ${label}, predicted ${predicted} (${percent})`),
    h(
      'figcaption',
      {},
      h('div', { class: 'thumb-file' }, file),
      h('div', { class: 'thumb-gold' }, `gold: ${label}`),
      h('div', { class: 'thumb-predicted' }, `predicted: ${predicted} · ${percent}`),
    ),
  );
}

/** A canvas of the thumbnail's own size (scaled up by CSS, pixelated), holding exactly its bytes, opaque. */
function drawThumbnail(pixels: ThumbnailPixels, label: string): HTMLCanvasElement {
  const canvas = h('canvas', { class: 'thumb', width: pixels.width, height: pixels.height, role: 'img', 'aria-label': label });
  const image = new ImageData(pixels.width, pixels.height);
  for (let pixel = 0, count = pixels.width * pixels.height; pixel < count; pixel++) {
    image.data[pixel * 4] = pixels.rgb[pixel * 3]!;
    image.data[pixel * 4 + 1] = pixels.rgb[pixel * 3 + 1]!;
    image.data[pixel * 4 + 2] = pixels.rgb[pixel * 3 + 2]!;
    image.data[pixel * 4 + 3] = 255;
  }
  canvas.getContext('2d')?.putImageData(image, 0, 0);
  return canvas;
}
