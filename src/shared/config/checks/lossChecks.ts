import type { ConfigDiagnostic } from '../configDiagnostic';
import { keyRangeOf, valueRangeOf } from '../parsedConfig';
import { IN_BATCH_NEGATIVE_LOSSES, lossesForTask, trainsTaskHead } from '../taskRequirements';
import type { ConfigCheck } from './checkContext';

export const checkLossFitsTask: ConfigCheck = ({ parsed, view }) => {
  const task = view.task();
  // A loss left out defaults to one that fits the task (defaultLossFor), so only a written one can mismatch.
  const loss = view.string(['loss', 'type']);
  const allowed = lossesForTask(task);
  if (loss === undefined || allowed.length === 0 || allowed.includes(loss)) return [];
  return [
    {
      range: valueRangeOf(parsed, ['loss', 'type']),
      severity: 'error',
      code: 'loss-task-mismatch',
      message: `Loss "${loss}" does not fit the ${task} task. Use one of: ${allowed.join(', ')}.`,
      data: {
        path: ['loss', 'type'],
        fixes: allowed.map((candidate, index) => ({
          title: `Use loss ${candidate}`,
          set: [{ path: ['loss', 'type'], value: candidate }],
          preferred: index === 0,
        })),
      },
    },
  ];
};

/** MNRL scores each anchor against the other positives in its batch; accumulation adds steps, not negatives. */
export const checkMnrlAccumulation: ConfigCheck = ({ parsed, view }) => {
  const accumulation = view.numberOrDefault(['training', 'gradient_accumulation_steps']);
  const loss = view.lossType();
  if (accumulation <= 1 || loss !== 'mnrl' || view.task() !== 'embedding') return [];
  const batch = view.numberOrDefault(['training', 'batch_size']);
  return [
    {
      range: valueRangeOf(parsed, ['training', 'gradient_accumulation_steps']),
      severity: 'warning',
      code: 'mnrl-gradient-accumulation',
      message:
        `gradient_accumulation_steps: ${accumulation} with mnrl still gives each anchor only ${batch - 1} in-batch negatives. ` +
        `cached_mnrl with batch_size ${batch * accumulation} gives ${batch * accumulation - 1} at the same memory.`,
      data: {
        path: ['training', 'gradient_accumulation_steps'],
        fixes: [
          {
            title: `Switch to cached_mnrl with batch_size ${batch * accumulation}`,
            preferred: true,
            set: [
              { path: ['loss', 'type'], value: 'cached_mnrl' },
              { path: ['training', 'batch_size'], value: batch * accumulation },
              { path: ['training', 'gradient_accumulation_steps'], value: 1 },
            ],
          },
        ],
      },
    },
  ];
};

export const checkInBatchNegativesBatchSize: ConfigCheck = ({ parsed, view }) => {
  const loss = view.lossType();
  const batch = view.numberOrDefault(['training', 'batch_size']);
  if (!IN_BATCH_NEGATIVE_LOSSES.includes(loss) || batch >= 32 || view.task() !== 'embedding') return [];
  const diagnostics: ConfigDiagnostic[] = [
    {
      range: view.isSet(['training', 'batch_size']) ? valueRangeOf(parsed, ['training', 'batch_size']) : keyRangeOf(parsed, ['training']),
      severity: 'warning',
      code: 'small-batch-in-batch-negatives',
      message: `batch_size ${batch} gives ${loss} only ${batch - 1} negatives per anchor; 32 or more usually trains a better model.${loss === 'mnrl' ? ' If memory is the limit, cached_mnrl keeps a large batch in small chunks.' : ''}`,
      data: {
        path: ['training', 'batch_size'],
        fixes: [
          { title: 'Set batch_size to 32', preferred: true, set: [{ path: ['training', 'batch_size'], value: 32 }] },
          ...(loss === 'mnrl'
            ? [
                {
                  title: 'Use cached_mnrl with batch_size 32',
                  set: [
                    { path: ['loss', 'type'], value: 'cached_mnrl' },
                    { path: ['training', 'batch_size'], value: 32 },
                  ],
                },
              ]
            : []),
        ],
      },
    },
  ];
  return diagnostics;
};

export const checkHeadLearningRate: ConfigCheck = ({ parsed, view }) => {
  if (!view.isSet(['training', 'head_learning_rate'])) return [];
  const task = view.task();
  const loss = view.lossType();
  if (trainsTaskHead(task, loss)) return [];
  return [
    {
      range: keyRangeOf(parsed, ['training', 'head_learning_rate']),
      severity: 'warning',
      code: 'head-learning-rate-unused',
      message: `training.head_learning_rate applies to a task head: a classification or token-classification task, or loss softmax. An embedding task with loss ${loss} has none, so it is ignored.`,
    },
  ];
};
