import type { ClassScores } from '../../src/shared/events/runEvents';
import { formatMetric } from '../../src/shared/monitor/formatting';
import { h } from '../common/dom';

/**
 * Per-class precision, recall, F1 and support, with average precision where the run computed it (image runs).
 * Classes follow `order` (the confusion matrix's labels) and then any others; a row whose scores are not numbers
 * is left out.
 */
export function perClassTable(perClass: unknown, order: readonly string[]): HTMLElement | null {
  if (typeof perClass !== 'object' || perClass === null) return null;
  const scores = perClass as Record<string, unknown>;
  const names = [...order.filter((name) => name in scores), ...Object.keys(scores).filter((name) => !order.includes(name))];
  const rows = names.flatMap((name) => {
    const value = scores[name];
    return isClassScores(value) ? [[name, value] as const] : [];
  });
  if (rows.length === 0) return null;
  const withAp = rows.some(([, value]) => value.average_precision !== undefined);
  const header = ['Class', 'Precision', 'Recall', 'F1', ...(withAp ? ['AP'] : []), 'Support'];
  return h(
    'table',
    { id: 'per-class', class: 'per-class' },
    h('thead', {}, h('tr', {}, ...header.map((title) => h('th', { scope: 'col' }, title)))),
    h(
      'tbody',
      {},
      ...rows.map(([name, value]) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, name),
          h('td', { class: 'number' }, formatMetric(value.precision)),
          h('td', { class: 'number' }, formatMetric(value.recall)),
          h('td', { class: 'number' }, formatMetric(value.f1)),
          withAp ? h('td', { class: 'number' }, formatMetric(value.average_precision ?? null)) : null,
          h('td', { class: 'number' }, value.support),
        ),
      ),
    ),
  );
}

function isClassScores(value: unknown): value is ClassScores {
  if (typeof value !== 'object' || value === null) return false;
  const scores = value as Record<string, unknown>;
  const ap = scores.average_precision;
  return (
    ['precision', 'recall', 'f1', 'support'].every((key) => typeof scores[key] === 'number') &&
    (ap === undefined || ap === null || typeof ap === 'number')
  );
}
