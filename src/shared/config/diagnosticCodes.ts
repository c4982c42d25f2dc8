/**
 * Every diagnostic EmbedTune reports has one of these stable codes. Quick fixes, docs/diagnostics.md
 * and users' CI filters key on them, so a code is never renamed or reused.
 */
export const DIAGNOSTIC_CODES = {
  'config-unreadable': { origin: 'syntax', summary: 'The config file itself cannot be read.' },
  'yaml-syntax': { origin: 'syntax', summary: 'The file is not valid YAML or JSON.' },
  'config-encoding': { origin: 'syntax', summary: 'The file is not UTF-8 text: UTF-16, or a byte order mark where none belongs.' },
  'nesting-too-deep': { origin: 'syntax', summary: 'Values nest deeper than EmbedTune reads (256 levels).' },
  'not-a-mapping': { origin: 'schema', summary: 'The top level of the config is not a mapping of keys to values.' },
  'unknown-key': {
    origin: 'schema',
    summary: 'A key the schema does not define: a typo, or a key of another section (then it can be moved there).',
  },
  'too-many-problems': {
    origin: 'schema',
    summary: 'More problems than one document lists (200 of a kind); one diagnostic counts the rest.',
  },
  'missing-key': { origin: 'schema', summary: 'A required key is absent.' },
  'wrong-type': { origin: 'schema', summary: 'A value has the wrong type, such as a string where a number is needed.' },
  'invalid-value': { origin: 'schema', summary: 'A value is not one of the allowed values or does not match the expected form.' },
  'out-of-range': { origin: 'schema', summary: 'A number is outside its allowed range.' },
  'data-file-missing': { origin: 'semantic', summary: 'A data file named in `data` does not exist.' },
  'data-file-unreadable': { origin: 'semantic', summary: 'A data file exists but cannot be read or parsed.' },
  'data-format-unknown': { origin: 'semantic', summary: 'The data format cannot be inferred from the file extension.' },
  'data-missing-column': { origin: 'semantic', summary: 'The data lacks a column that the task and loss need.' },
  'negative-columns-loss': {
    origin: 'semantic',
    summary: '`data.columns.negative` lists several negative columns, but the loss cannot take several negatives per row.',
  },
  'negative-column-not-read': {
    origin: 'semantic',
    summary: '`data.columns.negative` is one column written as a string, which mnrl and cached_mnrl do not read.',
  },
  'image-folder-missing': { origin: 'semantic', summary: 'An image folder named in `data` (task image-classification) does not exist.' },
  'image-folder-unreadable': {
    origin: 'semantic',
    summary: 'An image folder is not a folder, cannot be listed, or has no class folders (`<class>/*.png|jpg`).',
  },
  'image-class-empty': { origin: 'semantic', summary: 'A class folder holds no .png, .jpg or .jpeg image.' },
  'image-unreadable': {
    origin: 'semantic',
    summary: 'Images in a checked sample are empty, truncated, or neither PNG nor JPEG.',
  },
  'image-class-mismatch': { origin: 'semantic', summary: 'A validation class has no training folder, so the model can never predict it.' },
  'data-bad-row': { origin: 'semantic', summary: 'Some data rows are malformed; training stops on them unless `on_bad_row: skip`.' },
  'validation-conflict': { origin: 'semantic', summary: 'Both a validation file and `validation_split` are set; the split is ignored.' },
  'spelling-protect-file-missing': {
    origin: 'semantic',
    summary: '`preprocess.clean.spelling.protect_file` names a file that does not exist.',
  },
  'model-not-found': { origin: 'semantic', summary: '`model.base` looks like a local path, but no Hugging Face model folder is there.' },
  'model-config-invalid': {
    origin: 'semantic',
    summary: "The local model folder's config.json cannot be read, or is not a model EmbedTune can load.",
  },
  'lora-target-not-in-model': {
    origin: 'semantic',
    summary: "A `strategy.lora.targets` name is not a module of the model's family (read from its config.json).",
  },
  'loss-task-mismatch': { origin: 'semantic', summary: 'The loss does not fit the task.' },
  'metric-task-mismatch': { origin: 'semantic', summary: 'An evaluation metric cannot be computed for this task and data.' },
  'mnrl-gradient-accumulation': {
    origin: 'semantic',
    summary: 'Gradient accumulation with MNRL adds no in-batch negatives; `cached_mnrl` does.',
  },
  'small-batch-in-batch-negatives': {
    origin: 'semantic',
    summary: 'A batch smaller than 32 gives an in-batch-negatives loss too few negatives.',
  },
  'primary-metric-not-computed': { origin: 'semantic', summary: '`evaluation.primary` is not in `evaluation.metrics`.' },
  'early-stopping-without-evaluation': { origin: 'semantic', summary: 'Early stopping is on, but nothing is evaluated.' },
  'checkpoint-interval-mismatch': {
    origin: 'semantic',
    summary: 'With `keep_best`, checkpoints must fall on evaluation steps, or the best one cannot be known.',
  },
  'small-dataset-full-finetune': {
    origin: 'semantic',
    summary: 'Under 10k rows, full fine-tuning tends to overfit; prefer freeze, adapter or LoRA.',
  },
  'large-dataset-parameter-efficient': {
    origin: 'semantic',
    summary: 'Over 100k rows, full fine-tuning is affordable and usually better.',
  },
  'mixed-precision-unsupported': { origin: 'semantic', summary: 'The chosen engine or backend cannot run this mixed precision mode.' },
  'engine-option-ignored': { origin: 'semantic', summary: 'An engine option that the chosen engine does not use.' },
  'engine-python-executable': { origin: 'semantic', summary: '`engine.python` names a program that `embedtune train` will run.' },
  'accelerate-rendezvous-missing': { origin: 'semantic', summary: 'A multi-machine accelerate run names no main process address.' },
  'accelerate-option-unsupported': {
    origin: 'semantic',
    summary: 'A setting the accelerate engine has no counterpart for, so it would not be applied.',
  },
  'accelerate-processes-exceed-gpus': {
    origin: 'semantic',
    summary: 'Several accelerate processes without engine.cpu on a machine with fewer GPUs than processes.',
  },
  'strategy-option-ignored': { origin: 'semantic', summary: 'A strategy option that the chosen strategy does not use.' },
  'head-learning-rate-unused': {
    origin: 'semantic',
    summary: '`training.head_learning_rate` is set, but the task and loss have no task head for it to apply to.',
  },
  'freeze-nothing': { origin: 'semantic', summary: '`strategy.type: freeze` freezes no layer and no embedding.' },
  'prompt-unknown': {
    origin: 'semantic',
    summary: '`model.column_prompts` or `model.default_prompt_name` names a prompt that `model.prompts` does not define.',
  },
  'prompts-unused': { origin: 'semantic', summary: '`model.prompts` is set for a task whose inputs get no prompts.' },
  'matryoshka-task-mismatch': { origin: 'semantic', summary: '`loss.matryoshka` is set for a task that trains no embedding loss.' },
  'matryoshka-weights-length': {
    origin: 'semantic',
    summary: '`loss.matryoshka.weights` does not have one weight per entry of `dims`.',
  },
  'image-key-on-text-task': { origin: 'semantic', summary: 'A key only image-classification reads, on a text task.' },
  'text-key-on-image-task': {
    origin: 'semantic',
    summary: 'A key of text models or text data (pooling, prompts, text columns, LoRA, adapters) on an image-classification task.',
  },
  'image-crop-larger-than-size': { origin: 'semantic', summary: '`preprocess.image.crop` is larger than `preprocess.image.size`.' },
  'image-crop-box-empty': { origin: 'semantic', summary: '`preprocess.image.crop_box` has right <= left or bottom <= top.' },
  'image-augment-range': { origin: 'semantic', summary: 'A `random_resized_crop` range is written [max, min].' },
  'image-freeze-layers-range': {
    origin: 'semantic',
    summary: '`strategy.freeze_layers` is more than the 4 stages of a ResNet (image-classification).',
  },
} as const satisfies Record<string, { origin: DiagnosticOrigin; summary: string }>;

export type DiagnosticOrigin = 'syntax' | 'schema' | 'semantic';
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export function originOf(code: DiagnosticCode): DiagnosticOrigin {
  return DIAGNOSTIC_CODES[code].origin;
}
