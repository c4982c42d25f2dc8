import type { ConfigDiagnostic } from '../configDiagnostic';
import { trainingRowCount } from '../datasetFacts';
import { keyRangeOf, valueRangeOf } from '../parsedConfig';
import { metricFamiliesFor, metricFamily } from '../taskRequirements';
import type { ConfigCheck } from './checkContext';
import { optimizerStepsPerEpoch, plannedTrainingRows } from '../runPlan';
import { evaluationSwitchesOf } from '../evaluationSchedule';

export const checkPrimaryMetric: ConfigCheck = ({ parsed, view }) => {
  if (!view.isSet(['evaluation', 'primary'])) return [];
  const primary = view.string(['evaluation', 'primary']);
  const metrics = view.evaluationMetrics();
  if (!primary || metrics.includes(primary)) return [];
  return [
    {
      range: valueRangeOf(parsed, ['evaluation', 'primary']),
      severity: 'error',
      code: 'primary-metric-not-computed',
      message: `evaluation.primary is "${primary}", but evaluation.metrics${view.isSet(['evaluation', 'metrics']) ? '' : ` (the ${view.task()} task's default)`} computes only ${metrics.join(', ')}.`,
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

/** Early stopping is on by default wherever evaluation runs; a section that asks for it while evaluation is off cannot run. */
export const checkEarlyStoppingHasEvaluation: ConfigCheck = ({ parsed, view }) => {
  if (!view.isSet(['early_stopping']) || view.boolean(['early_stopping', 'enabled']) === false) return [];
  if (evaluationSwitchesOf(view).evaluation.enabled) return [];
  return [
    {
      range: keyRangeOf(parsed, ['early_stopping']),
      severity: 'error',
      code: 'early-stopping-without-evaluation',
      message: 'early_stopping needs evaluation, but evaluation.enabled is false: without evaluations there is nothing to stop on.',
      data: {
        path: ['early_stopping'],
        fixes: [
          { title: 'Disable early stopping', preferred: true, set: [{ path: ['early_stopping', 'enabled'], value: false }] },
          { title: 'Turn evaluation on', set: [{ path: ['evaluation', 'enabled'], value: true }] },
        ],
      },
    },
  ];
};

/** With keep_best, a checkpoint is only rankable when an evaluation ran at the same step. */
export const checkCheckpointInterval: ConfigCheck = ({ parsed, view, dataset }) => {
  if (!evaluationSwitchesOf(view).evaluation.enabled || view.boolean(['checkpoints', 'keep_best']) === false) return [];
  const checkpointEvery = view.intervalOrDefault(['checkpoints', 'every']);
  const evaluationEvery = view.intervalOrDefault(['evaluation', 'every']);
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

/** Metrics the task and loss cannot compute; the defaults (defaultMetricsFor) always fit, so only written ones are checked. */
export const checkMetricsFitTask: ConfigCheck = ({ parsed, view }) => {
  const metrics = view.raw(['evaluation', 'metrics']);
  const task = view.task();
  const loss = view.lossType();
  const families = metricFamiliesFor(task, loss);
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
