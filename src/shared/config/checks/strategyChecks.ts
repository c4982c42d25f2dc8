import type { ConfigDiagnostic } from '../configDiagnostic';
import { trainingRowCount } from '../datasetFacts';
import { keyRangeOf, valueRangeOf } from '../parsedConfig';
import type { CheckContext, ConfigCheck } from './checkContext';

const SMALL_DATASET_ROWS = 10_000;
const LARGE_DATASET_ROWS = 100_000;
const PARAMETER_EFFICIENT = ['freeze', 'adapter', 'lora'] as const;

/** The seed's advice: small data overfits a fully trained model; large data pays for full fine-tuning. */
export const checkStrategyForDatasetSize: ConfigCheck = (context) => {
  const { view, dataset } = context;
  const rows = trainingRowCount(view, dataset);
  if (rows === undefined || rows === 0) return [];
  const strategy = view.stringOrDefault(['strategy', 'type']);
  const range = strategyRange(context);
  // A ResNet has no adapter or LoRA here; freezing its stem and first 3 of 4 stages trains the last stage and the new head.
  const images = view.task() === 'image-classification';
  const unit = images ? 'training images' : 'training rows';
  if (strategy === 'full' && rows < SMALL_DATASET_ROWS) {
    return [
      {
        range,
        severity: 'information',
        code: 'small-dataset-full-finetune',
        message: images
          ? `${rows.toLocaleString('en-US')} ${unit} is under 10k: fine-tuning the whole backbone tends to overfit. Prefer freeze (freeze_embeddings with freeze_layers: 3 trains only the last stage and the new head).`
          : `${rows.toLocaleString('en-US')} ${unit} is under 10k: full fine-tuning tends to overfit. Prefer freeze, adapter or lora.`,
        data: {
          path: ['strategy', 'type'],
          fixes: (images ? (['freeze'] as const) : PARAMETER_EFFICIENT).map((type) => ({
            title: `Switch to strategy ${type}`,
            preferred: type === (images ? 'freeze' : 'lora'),
            set: [
              { path: ['strategy', 'type'], value: type },
              ...(type === 'freeze' && !view.isSet(['strategy', 'freeze_layers'])
                ? [{ path: ['strategy', 'freeze_layers'], value: images ? 3 : 4 }]
                : []),
              ...(images && !view.isSet(['strategy', 'freeze_embeddings'])
                ? [{ path: ['strategy', 'freeze_embeddings'], value: true }]
                : []),
            ],
          })),
        },
      },
    ];
  }
  if ((PARAMETER_EFFICIENT as readonly string[]).includes(strategy) && rows > LARGE_DATASET_ROWS) {
    return [
      {
        range,
        severity: 'information',
        code: 'large-dataset-parameter-efficient',
        message: `${rows.toLocaleString('en-US')} ${unit} is over 100k: full fine-tuning is affordable here and usually scores higher than ${strategy}.`,
        data: {
          path: ['strategy', 'type'],
          fixes: [{ title: 'Switch to strategy full', preferred: true, set: [{ path: ['strategy', 'type'], value: 'full' }] }],
        },
      },
    ];
  }
  return [];
};

function strategyRange({ parsed, view }: CheckContext) {
  if (view.isSet(['strategy', 'type'])) return valueRangeOf(parsed, ['strategy', 'type']);
  if (view.isSet(['strategy'])) return keyRangeOf(parsed, ['strategy']);
  return keyRangeOf(parsed, ['data', 'train']);
}

const STRATEGY_OPTIONS: Record<string, string> = {
  freeze_layers: 'freeze',
  freeze_embeddings: 'freeze',
  adapter: 'adapter',
  lora: 'lora',
};

export const checkStrategyOptions: ConfigCheck = ({ parsed, view }) => {
  const strategy = view.stringOrDefault(['strategy', 'type']);
  const diagnostics: ConfigDiagnostic[] = [];
  for (const [option, owner] of Object.entries(STRATEGY_OPTIONS)) {
    if (!view.isSet(['strategy', option]) || owner === strategy) continue;
    diagnostics.push({
      range: keyRangeOf(parsed, ['strategy', option]),
      severity: 'warning',
      code: 'strategy-option-ignored',
      message: `strategy.${option} applies only to strategy.type ${owner}; with ${strategy} it is ignored.`,
      data: {
        path: ['strategy', option],
        fixes: [{ title: `Switch to strategy ${owner}`, set: [{ path: ['strategy', 'type'], value: owner }] }],
      },
    });
  }
  if (
    strategy === 'freeze' &&
    view.numberOrDefault(['strategy', 'freeze_layers']) === 0 &&
    view.boolean(['strategy', 'freeze_embeddings']) !== true
  ) {
    diagnostics.push({
      range: valueRangeOf(parsed, ['strategy', 'type']),
      severity: 'warning',
      code: 'freeze-nothing',
      message: 'strategy.type is freeze, but freeze_layers is 0 and freeze_embeddings is off, so every parameter trains.',
      data: {
        path: ['strategy', 'freeze_layers'],
        fixes: [{ title: 'Freeze the bottom 4 layers', preferred: true, set: [{ path: ['strategy', 'freeze_layers'], value: 4 }] }],
      },
    });
  }
  return diagnostics;
};
