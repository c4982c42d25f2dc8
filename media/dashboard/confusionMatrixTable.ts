import type { ConfusionMatrix } from '../../src/shared/events/runEvents';
import { h } from '../common/dom';

/** More classes than this make a table nobody can read (and 1000 classes would be a million cells): not drawn. */
export const MAX_MATRIX_CLASSES = 100;

/**
 * A confusion matrix as a table: a row per gold label, a column per predicted label, each cell its count, shaded
 * with `shade` by its share of the largest count so the diagonal (and any heavy confusion) stands out. Labels come
 * from data and go in as text. A matrix that is not square over its labels, or holds a count that is not a
 * non-negative number, is reported as malformed rather than drawn wrong. The table scrolls sideways in a narrow panel.
 */
export function confusionMatrixTable(matrix: unknown, shade: (fraction: number) => string): HTMLElement {
  if (!isConfusionMatrix(matrix))
    return h('p', { class: 'muted', id: 'confusion-matrix' }, 'This evaluation’s confusion matrix is malformed.');
  const { labels, matrix: rows } = matrix;
  if (labels.length > MAX_MATRIX_CLASSES) {
    return h(
      'p',
      { class: 'muted', id: 'confusion-matrix' },
      `The confusion matrix has ${labels.length} classes, too many to draw (at most ${MAX_MATRIX_CLASSES}); the per-class scores follow.`,
    );
  }
  const largest = Math.max(1, ...rows.flat());
  const table = h(
    'table',
    { id: 'confusion-matrix', class: 'confusion' },
    h('caption', { class: 'muted' }, 'Rows: gold label · columns: predicted label'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'gold \\ predicted'), ...labels.map((label) => h('th', { scope: 'col' }, label)))),
    h(
      'tbody',
      {},
      ...rows.map((row, gold) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, labels[gold]!),
          ...row.map((count, predicted) => {
            const cell = h(
              'td',
              { class: gold === predicted ? 'count diagonal' : 'count', title: `${labels[gold]} → ${labels[predicted]}: ${count}` },
              count,
            );
            if (count > 0) cell.style.backgroundColor = shade(0.12 + 0.68 * (count / largest));
            return cell;
          }),
        ),
      ),
    ),
  );
  return h('div', { class: 'confusion-scroll' }, table);
}

function isConfusionMatrix(value: unknown): value is ConfusionMatrix {
  if (typeof value !== 'object' || value === null) return false;
  const { labels, matrix } = value as Record<string, unknown>;
  return (
    Array.isArray(labels) &&
    labels.every((label) => typeof label === 'string') &&
    Array.isArray(matrix) &&
    matrix.length === labels.length &&
    matrix.every(
      (row) =>
        Array.isArray(row) &&
        row.length === labels.length &&
        row.every((count) => typeof count === 'number' && Number.isFinite(count) && count >= 0),
    )
  );
}
