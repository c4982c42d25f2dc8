import type { EvalEvent } from '../../src/shared/events/runEvents';
import { formatMetric } from '../../src/shared/monitor/formatting';
import { h, replaceChildren } from '../common/dom';
import { confusionMatrixTable } from './confusionMatrixTable';
import { misclassifiedGrid } from './misclassifiedGrid';
import { perClassTable } from './perClassTable';

/** Which evaluation's details the section shows. */
export type EvaluationChoice = 'latest' | 'best';

/** Whether an eval event carries anything this section draws (classification and image runs do). */
export function hasEvaluationDetails(event: EvalEvent | null): boolean {
  return event !== null && (event.confusion_matrix !== undefined || event.per_class !== undefined || event.misclassified !== undefined);
}

/**
 * The details of one evaluation of a classification or image run: its confusion matrix, per-class scores (with
 * AP for image runs) and misclassified images. It shows the latest or the best evaluation, as picked, and is
 * rebuilt only when that evaluation, the pick or the shading changes, not on every training step.
 */
export class EvaluationSection {
  readonly element: HTMLElement;
  private readonly picker: HTMLSelectElement;
  private readonly body: HTMLElement;
  private shown: { event: EvalEvent | null; shade: unknown } = { event: null, shade: null };

  constructor(
    private choice: EvaluationChoice,
    onChoice: (choice: EvaluationChoice) => void,
  ) {
    this.picker = h(
      'select',
      { id: 'evaluation-choice', 'aria-label': 'Evaluation shown' },
      h('option', { value: 'latest', selected: choice === 'latest' }, 'Latest evaluation'),
      h('option', { value: 'best', selected: choice === 'best' }, 'Best evaluation'),
    );
    this.picker.addEventListener('change', () => {
      this.choice = this.picker.value === 'best' ? 'best' : 'latest';
      onChoice(this.choice);
    });
    this.body = h('div', { id: 'evaluation-body' });
    this.element = h(
      'section',
      { id: 'evaluation', hidden: true },
      h('h2', {}, 'Evaluation'),
      h('div', { class: 'toolbar' }, this.picker),
      this.body,
    );
  }

  update(latest: EvalEvent | null, best: EvalEvent | null, shade: (fraction: number) => string): void {
    this.element.hidden = !hasEvaluationDetails(latest) && !hasEvaluationDetails(best);
    const event = this.choice === 'best' ? (best ?? latest) : latest;
    if (this.element.hidden || (event === this.shown.event && shade === this.shown.shade)) return;
    this.shown = { event, shade };
    if (!event) return replaceChildren(this.body);
    const metrics = Object.entries(event.metrics)
      .map(([name, value]) => `${name} ${formatMetric(value)}`)
      .join(' · ');
    const labels = event.confusion_matrix?.labels;
    replaceChildren(
      this.body,
      h('p', { id: 'evaluation-heading' }, `Step ${event.step}${event === best ? ' (best)' : ''}${metrics ? ` · ${metrics}` : ''}`),
      hasEvaluationDetails(event) ? null : h('p', { class: 'muted' }, 'This evaluation has no per-class results.'),
      event.confusion_matrix !== undefined ? confusionMatrixTable(event.confusion_matrix, shade) : null,
      event.per_class !== undefined ? perClassTable(event.per_class, Array.isArray(labels) ? labels : []) : null,
      event.misclassified !== undefined ? misclassifiedGrid(event.misclassified) : null,
    );
  }
}
