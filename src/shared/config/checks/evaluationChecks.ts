import type { ConfigDiagnostic } from '../configDiagnostic';
import { trainingRowCount } from '../datasetFacts';
import { keyRangeOf, valueRangeOf } from '../parsedConfig';
import { metricFamiliesFor, metricFamily } from '../taskRequirements';
import type { ConfigCheck } from './checkContext';
import { optimizerStepsPerEpoch, plannedTrainingRows } from '../runPlan';

export const checkPrimaryMetric: ConfigCheck = ({ parsed, view }) => {
  if (!view.isSet(['evaluation', 'primary'])) return [];
  const primary = view.string(['evaluation', 'primary']);
  const metrics = view.strings(['evaluation', 'metrics']) ?? [];
  if (!primary || metrics.includes(primary)) return [];
  return [
    {
      range: valueRangeOf(parsed, ['evaluation', 'primary']),
      severity: 'error',
      code: 'primary-metric-not-computed',
      message: `evaluation.primary is "${primary}", but evaluation.metrics computes only ${metrics.join(', ') || 'nothing'}.`,
      data: {
        path: ['evaluation', 'primary'],
        fixes: [
          { title: `Also compute ${primary}`, preferred: true, set: [{ path: ['evaluation', 'metrics'], value: [...metrics, primary] }] },
          ...metrics.slice(0, 3).map((metric) => ({
            title: `Use ${metric} as the primary metric`,
            set: [{ path: ['evaluation', 'primary'], value: metric }],
          })),
        ],
      },
    },
  ];
};

export const checkEarlyStoppingHasEvaluation: ConfigCheck = ({ parsed, view }) => {
  if (!view.isSet(['early_stopping']) || view.boolean(['early_stopping', 'enabled']) === false) return [];
  if (view.isSet(['evaluation'])) return [];
  return [
    {
      range: keyRangeOf(parsed, ['early_stopping']),
      severity: 'error',
      code: 'early-stopping-without-evaluation',
      message: 'early_stopping needs an evaluation section: without evaluations there is nothing to stop on.',
      data: {
        path: ['early_stopping'],
        fixes: [{ title: 'Disable early stopping', set: [{ path: ['early_stopping', 'enabled'], value: false }] }],
      },
    },
  ];
};

/** With keep_best, a checkpoint is only rankable when an evaluation ran at the same step. */
export const checkCheckpointInterval: ConfigCheck = ({ parsed, view, dataset }) => {
  if (!view.isSet(['evaluation']) || view.boolean(['checkpoints', 'keep_best']) === false) return [];
  const checkpointEvery = view.interval(['checkpoints', 'every']) ?? 'epoch';
  const evaluationEvery = view.interval(['evaluation', 'every']) ?? 'epoch';
  if (checkpointEvery === evaluationEvery) return [];
  let aligned: boolean;
  if (typeof checkpointEvery === 'number' && typeof evaluationEvery === 'number') {
    aligned = checkpointEvery % evaluationEvery === 0;
  } else if (checkpointEvery === 'epoch' && typeof evaluationEvery === 'number') {
    const rows = trainingRowCount(view, dataset);
    if (rows === undefined) return [];
    aligned = optimizerStepsPerEpoch(view, plannedTrainingRows(view, rows)) % evaluationEvery === 0;
  } else {
    aligned = false;
  }
  if (aligned) return [];
  return [
    {
      range: view.isSet(['checkpoints', 'every'])
        ? valueRangeOf(parsed, ['checkpoints', 'every'])
        : keyRangeOf(parsed, view.isSet(['checkpoints']) ? ['checkpoints'] : ['evaluation']),
      severity: 'warning',
      code: 'checkpoint-interval-mismatch',
      message:
        `checkpoints.every (${String(checkpointEvery)}) is not a multiple of evaluation.every (${String(evaluationEvery)}), ` +
        'so with keep_best some checkpoints have no metric and the best one may be missed.',
      data: {
        path: ['checkpoints', 'every'],
        fixes: [
          {
            title: `Checkpoint every ${String(evaluationEvery)}${typeof evaluationEvery === 'number' ? ' steps' : ''}`,
            preferred: true,
            set: [{ path: ['checkpoints', 'every'], value: evaluationEvery }],
          },
        ],
      },
    },
  ];
};

/** Metrics offered when the default (ndcg@10) does not fit: entity F1 first for tagging, accuracy and F1 for classes. */
const METRICS_FOR_TASK: Record<string, readonly string[]> = {
  classification: ['f1', 'accuracy'],
  'token-classification': ['f1', 'precision', 'recall'],
};

export const checkMetricsFitTask: ConfigCheck = ({ parsed, view }) => {
  const metrics = view.raw(['evaluation', 'metrics']);
  const task = view.string(['task']) ?? 'embedding';
  const loss = view.string(['loss', 'type']) ?? 'mnrl';
  const families = metricFamiliesFor(task, loss);
  if (metrics === undefined && view.isSet(['evaluation']) && !families.includes('ranking')) {
    const fitting = METRICS_FOR_TASK[task] ?? [];
    return [
      {
        range: keyRangeOf(parsed, ['evaluation']),
        severity: 'warning',
        code: 'metric-task-mismatch',
        message: `evaluation.metrics defaults to ndcg@10, a ranking metric the ${task} task cannot compute, so no evaluation would score anything. Set evaluation.metrics${fitting.length > 0 ? `, for example [${fitting.join(', ')}]` : ''}.`,
        data: {
          path: ['evaluation', 'metrics'],
          fixes: fitting.length > 0 ? [{ title: `Evaluate ${fitting.join(', ')}`, preferred: true, set: [{ path: ['evaluation', 'metrics'], value: [...fitting] }] }] : [],
        },
      },
    ];
  }
  if (!Array.isArray(metrics)) return [];
  const diagnostics: ConfigDiagnostic[] = [];
  metrics.forEach((metric, index) => {
    if (typeof metric !== 'string') return;
    const family = metricFamily(metric);
    if (!family || families.includes(family)) return;
    diagnostics.push({
      range: valueRangeOf(parsed, ['evaluation', 'metrics', index]),
      severity: 'warning',
      code: 'metric-task-mismatch',
      message: `${metric} is a ${family} metric, which the ${task} task with loss ${loss} cannot compute; it would be skipped.`,
      data: { path: ['evaluation', 'metrics', index] },
    });
  });
  return diagnostics;
};
