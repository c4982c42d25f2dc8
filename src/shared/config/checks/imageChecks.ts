import type { ConfigDiagnostic, ConfigPath } from '../configDiagnostic';
import type { ConfigView } from '../configView';
import { keyRangeOf, valueRangeOf, type ParsedConfig } from '../parsedConfig';
import type { ConfigCheck } from './checkContext';

/**
 * Checks of the image-classification keys that the schema cannot express: keys written for the other kind of task
 * (image keys on a text task, text-only keys on an image task), a center crop larger than the resize, an empty
 * crop box, and reversed augmentation ranges. Each diagnostic sits on the key at fault.
 */

const IMAGE_TASK = 'image-classification';

/** Keys that only image-classification reads. */
const IMAGE_KEYS: readonly ConfigPath[] = [
  ['data', 'columns', 'image'],
  ['preprocess', 'image'],
  ['preprocess', 'augment', 'horizontal_flip'],
  ['preprocess', 'augment', 'vertical_flip'],
  ['preprocess', 'augment', 'rotation'],
  ['preprocess', 'augment', 'random_resized_crop'],
  ['preprocess', 'augment', 'color_jitter'],
  ['strategy', 'freeze_batch_norm'],
];

/** Keys of text models and text data, which an image run never reads. */
const TEXT_KEYS: readonly ConfigPath[] = [
  ['model', 'pooling'],
  ['model', 'normalize'],
  ['model', 'max_seq_length'],
  ['model', 'prompts'],
  ['model', 'column_prompts'],
  ['model', 'default_prompt_name'],
  ['data', 'columns', 'anchor'],
  ['data', 'columns', 'positive'],
  ['data', 'columns', 'negative'],
  ['data', 'columns', 'text'],
  ['data', 'columns', 'score'],
  ['data', 'columns', 'tokens'],
  ['data', 'columns', 'tags'],
  ['preprocess', 'clean'],
  ['preprocess', 'augment', 'synonym_replacement'],
  ['preprocess', 'augment', 'random_swap'],
  ['preprocess', 'augment', 'random_deletion'],
  ['strategy', 'adapter'],
  ['strategy', 'lora'],
  ['loss', 'matryoshka'],
];

/** Strategies that insert modules into a transformer encoder; a ResNet has none of those modules. */
const TEXT_STRATEGIES = ['adapter', 'lora'];

const dotted = (path: ConfigPath) => path.join('.');

export const checkImageKeysFitTask: ConfigCheck = ({ parsed, view }) => {
  const task = view.task();
  if (task === IMAGE_TASK) return textKeysOnImageTask(parsed, view);
  return IMAGE_KEYS.filter((path) => view.isSet(path)).map((path) => ({
    range: keyRangeOf(parsed, path),
    severity: 'warning',
    code: 'image-key-on-text-task',
    message: `${dotted(path)} applies to task image-classification only; task ${task} ignores it. Remove it, or set task: image-classification.`,
    data: { path },
  }));
};

function textKeysOnImageTask(parsed: ParsedConfig, view: ConfigView): ConfigDiagnostic[] {
  const diagnostics: ConfigDiagnostic[] = TEXT_KEYS.filter((path) => view.isSet(path)).map((path) => ({
    range: keyRangeOf(parsed, path),
    severity: 'warning',
    code: 'text-key-on-image-task',
    message: `${dotted(path)} applies to text tasks only; task image-classification ignores it. Remove it.`,
    data: { path },
  }));
  const strategy = view.string(['strategy', 'type']);
  if (strategy !== undefined && TEXT_STRATEGIES.includes(strategy))
    diagnostics.push({
      range: valueRangeOf(parsed, ['strategy', 'type']),
      severity: 'error',
      code: 'text-key-on-image-task',
      message: `strategy.type ${strategy} adds modules to a transformer encoder, which a ResNet does not have; image-classification trains with full or freeze.`,
      data: {
        path: ['strategy', 'type'],
        fixes: ['full', 'freeze'].map((type, index) => ({
          title: `Use strategy ${type}`,
          set: [{ path: ['strategy', 'type'], value: type }],
          preferred: index === 0,
        })),
      },
    });
  return diagnostics;
}

/** `map` without a cutoff is the image classifier's mAP; text classification computes accuracy, F1, precision and recall. */
export const checkClassificationMapMetric: ConfigCheck = ({ parsed, view }) => {
  const task = view.task();
  const metrics = view.raw(['evaluation', 'metrics']);
  if (task === IMAGE_TASK || !Array.isArray(metrics)) return [];
  return metrics.flatMap((metric, index): ConfigDiagnostic[] =>
    metric === 'map'
      ? [
          {
            range: valueRangeOf(parsed, ['evaluation', 'metrics', index]),
            severity: 'warning',
            code: 'metric-task-mismatch',
            message: `map (classification mAP, without a cutoff) is computed for task image-classification only; task ${task} would skip it.${task === 'embedding' ? ' For ranking, write map@k, e.g. map@100.' : ''}`,
            data: { path: ['evaluation', 'metrics', index] },
          },
        ]
      : [],
  );
};

interface Box {
  readonly height: number;
  readonly width: number;
}

/** A size or crop as written: a square side, {height, width}, or (size only) {shortest_edge}; undefined otherwise. */
function writtenBox(value: unknown): Box | { readonly shortestEdge: number } | undefined {
  if (typeof value === 'number') return { height: value, width: value };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record['shortest_edge'] === 'number') return { shortestEdge: record['shortest_edge'] };
  if (typeof record['height'] === 'number' && typeof record['width'] === 'number')
    return { height: record['height'], width: record['width'] };
  return undefined;
}

/**
 * A center crop larger than the resized image would pad it with black (transformers' center_crop does), which is
 * never what a written crop means. Only written values are compared: the model's own may fill in the other.
 */
export const checkImageCropFitsSize: ConfigCheck = ({ parsed, view }) => {
  if (view.task() !== IMAGE_TASK) return [];
  const size = writtenBox(view.raw(['preprocess', 'image', 'size']));
  const crop = writtenBox(view.raw(['preprocess', 'image', 'crop']));
  if (!size || !crop || 'shortestEdge' in crop) return [];
  const smallest = 'shortestEdge' in size ? { height: size.shortestEdge, width: size.shortestEdge } : size;
  if (crop.height <= smallest.height && crop.width <= smallest.width) return [];
  const sizeText = 'shortestEdge' in size ? `a shortest edge of ${size.shortestEdge}` : `${size.width}×${size.height}`;
  return [
    {
      range: valueRangeOf(parsed, ['preprocess', 'image', 'crop']),
      severity: 'error',
      code: 'image-crop-larger-than-size',
      message: `preprocess.image.crop (${crop.width}×${crop.height}) is larger than preprocess.image.size (${sizeText}); the crop would be padded with black. Make crop at most the size, or false for none.`,
      data: { path: ['preprocess', 'image', 'crop'] },
    },
  ];
};

/** crop_box is [left, top, right, bottom] with right and bottom exclusive, as PIL's Image.crop takes it. */
export const checkImageCropBox: ConfigCheck = ({ parsed, view }) => {
  const box = view.raw(['preprocess', 'image', 'crop_box']);
  if (!Array.isArray(box) || box.length !== 4 || !box.every((value) => typeof value === 'number')) return [];
  const [left, top, right, bottom] = box as number[];
  const problems: string[] = [];
  if (right! <= left!) problems.push(`right (${right}) must be greater than left (${left})`);
  if (bottom! <= top!) problems.push(`bottom (${bottom}) must be greater than top (${top})`);
  if (problems.length === 0) return [];
  return [
    {
      range: valueRangeOf(parsed, ['preprocess', 'image', 'crop_box']),
      severity: 'error',
      code: 'image-crop-box-empty',
      message: `preprocess.image.crop_box [left, top, right, bottom] cuts out nothing: ${problems.join(', and ')}.`,
      data: { path: ['preprocess', 'image', 'crop_box'] },
    },
  ];
};

/** random_resized_crop's scale and ratio are [min, max] ranges; torchvision warns on a reversed one and draws nonsense. */
export const checkRandomResizedCropRanges: ConfigCheck = ({ parsed, view }) =>
  (['scale', 'ratio'] as const).flatMap((key): ConfigDiagnostic[] => {
    const path = ['preprocess', 'augment', 'random_resized_crop', key];
    const range = view.raw(path);
    if (!Array.isArray(range) || range.length !== 2 || typeof range[0] !== 'number' || typeof range[1] !== 'number') return [];
    if (range[0] <= range[1]) return [];
    return [
      {
        range: valueRangeOf(parsed, path),
        severity: 'error',
        code: 'image-augment-range',
        message: `preprocess.augment.random_resized_crop.${key} is [min, max], but ${range[0]} > ${range[1]}; write [${range[1]}, ${range[0]}].`,
        data: { path, fixes: [{ title: `Use [${range[1]}, ${range[0]}]`, preferred: true, set: [{ path, value: [range[1], range[0]] }] }] },
      },
    ];
  });

/** A ResNet has 4 stages, which freeze_layers counts for images; more would freeze the new head's input too. */
const RESNET_STAGES = 4;

export const checkImageFreezeLayers: ConfigCheck = ({ parsed, view }) => {
  const layers = view.number(['strategy', 'freeze_layers']);
  if (view.task() !== IMAGE_TASK || layers === undefined || layers <= RESNET_STAGES) return [];
  return [
    {
      range: valueRangeOf(parsed, ['strategy', 'freeze_layers']),
      severity: 'error',
      code: 'image-freeze-layers-range',
      message: `strategy.freeze_layers counts ResNet stages for image-classification, and a ResNet has ${RESNET_STAGES}; ${layers} would leave only the new head to train. Use 0 to ${RESNET_STAGES} (${RESNET_STAGES} trains the head alone).`,
      data: {
        path: ['strategy', 'freeze_layers'],
        fixes: [
          {
            title: `Freeze all ${RESNET_STAGES} stages`,
            preferred: true,
            set: [{ path: ['strategy', 'freeze_layers'], value: RESNET_STAGES }],
          },
        ],
      },
    },
  ];
};
