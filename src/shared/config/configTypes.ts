import { defaultLossFor, defaultMetricsFor } from './taskRequirements';
import { embedtuneSchemaNavigator } from './embedtuneSchema';
import { resolveColumnPrompts, resolveMatryoshka } from './promptSettings';
import { withSchemaDefaults } from './schemaDefaults';

/**
 * Types for an EmbedTune config (`*.embedtune.yaml`), as written by the user and
 * after defaults are filled in. They mirror `schemas/embedtune.schema.json`, whose defaults `resolveConfig` applies.
 */

export type TaskType = 'embedding' | 'classification' | 'token-classification' | 'image-classification';
export type Pooling = 'mean' | 'cls' | 'max';
export type DataFormat = 'auto' | 'jsonl' | 'csv' | 'tsv';
export type BadRowPolicy = 'error' | 'skip';
export type UnicodeNormalization = 'none' | 'NFC' | 'NFKC';
export type StrategyType = 'full' | 'freeze' | 'adapter' | 'lora';
/** Each family's module names (src/shared/config/loraTargets.ts): BERT/RoBERTa, MPNet, DistilBERT. */
export type LoraTarget =
  | 'query'
  | 'key'
  | 'value'
  | 'dense'
  | 'q'
  | 'k'
  | 'v'
  | 'o'
  | 'q_lin'
  | 'k_lin'
  | 'v_lin'
  | 'out_lin'
  | 'lin1'
  | 'lin2';
/** The losses the tfjs engine computes on embeddings alone; softmax, focal and crf train a head. */
export const EMBEDDING_LOSS_TYPES = ['mnrl', 'cached_mnrl', 'cosent', 'cosine', 'contrastive', 'triplet'] as const;
export type EmbeddingLossType = (typeof EMBEDDING_LOSS_TYPES)[number];
export type LossType = EmbeddingLossType | 'softmax' | 'focal' | 'crf';
export type ClassWeighting = 'none' | 'balanced';
export type SchedulerType = 'linear' | 'cosine' | 'constant';
export type MixedPrecision = 'no' | 'fp16' | 'bf16';
export type EngineType = 'tfjs' | 'accelerate';
/** `engine.backend`, and the trainer's `--backend` flag. */
export const TFJS_BACKENDS = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'] as const;
export type TfjsBackend = (typeof TFJS_BACKENDS)[number];
export type EarlyStoppingMode = 'max' | 'min';

/**
 * An evaluation metric: `accuracy`, `f1`, `precision`, `recall`, `spearman`, `pearson`,
 * or a ranking metric with a cutoff such as `ndcg@10`, `mrr@10`, `recall@5`, `map@100`.
 */
export type Metric = string;

/** `'epoch'` for the end of every epoch, or a number N for every N optimizer steps. */
export type Interval = number | 'epoch';

export interface ModelConfig {
  base: string;
  pooling?: Pooling;
  normalize?: boolean;
  max_seq_length?: number;
  /** Named prompts (`query: `…) put in front of texts before tokenizing, as sentence-transformers' `prompts`. */
  prompts?: Record<string, string>;
  /** Which prompt each data role gets; resolved from `prompts` when left out (see promptSettings.ts). */
  column_prompts?: ColumnPrompts;
  default_prompt_name?: string;
}

/** A prompt name for each text role of an embedding example. */
export interface ColumnPrompts {
  anchor?: string;
  positive?: string;
  negative?: string;
}

/** sentence-transformers' MatryoshkaLoss settings: the loss again at each truncated size, weighted. */
export interface MatryoshkaConfig {
  dims: number[];
  weights?: number[];
}

/** Column names (CSV/TSV header) or JSONL keys for each role; each defaults to the role name. */
export interface ColumnMapping {
  anchor?: string;
  positive?: string;
  /** One column, or a list of them (`negative_1` … `negative_n`): several hard negatives per row for mnrl and cached_mnrl. */
  negative?: string | string[];
  text?: string;
  label?: string;
  score?: string;
  tokens?: string;
  tags?: string;
  /** image-classification: the image file's path, relative to the data file. */
  image?: string;
}

export interface DataConfig {
  train: string;
  validation?: string;
  validation_split?: number;
  format?: DataFormat;
  columns?: ColumnMapping;
  on_bad_row?: BadRowPolicy;
}

export interface CleanConfig {
  strip_html?: boolean;
  lowercase?: boolean;
  unicode_normalization?: UnicodeNormalization;
  remove_special_characters?: boolean;
  collapse_whitespace?: boolean;
  spelling?: SpellingConfig;
}

/** `preprocess.clean.spelling`: dictionary-based correction of misspelled words that the data itself does not use often. */
export interface SpellingConfig {
  enabled?: boolean;
  /** A word occurring at least this often in the training file is vocabulary and never corrected. */
  min_frequency?: number;
  /** Words never corrected. */
  protect?: string[];
  /** A file (relative to the config) of more words never corrected, one per line; only set when the user names one. */
  protect_file?: string;
}

export interface AugmentOperation {
  /** Augmented copies made of each training row; 0 turns the operation off. */
  count?: number;
  /** Per-word chance of being changed. */
  probability?: number;
}

export interface AugmentConfig {
  seed?: number;
  synonym_replacement?: AugmentOperation;
  random_swap?: AugmentOperation;
  random_deletion?: AugmentOperation;
  /** image-classification: chance of mirroring left to right. */
  horizontal_flip?: number;
  /** image-classification: chance of flipping upside down. */
  vertical_flip?: number;
  /** image-classification: the largest rotation either way, in degrees. */
  rotation?: number;
  /** image-classification: torchvision's RandomResizedCrop in place of resize and center crop; off unless written. */
  random_resized_crop?: RandomResizedCropConfig;
  /** image-classification: torchvision's ColorJitter; off unless written. */
  color_jitter?: ColorJitterConfig;
}

export interface RandomResizedCropConfig {
  /** [min, max] of the region's area as a fraction of the image. */
  scale?: [number, number];
  /** [min, max] of the region's width / height, drawn log-uniformly. */
  ratio?: [number, number];
}

export interface ColorJitterConfig {
  brightness?: number;
  contrast?: number;
  saturation?: number;
}

/** A square side, or an exact size. */
export type ImageSize = number | { height: number; width: number };

/** `preprocess.image`: each key left out comes from the model's preprocessor_config.json. */
export interface ImagePreprocessConfig {
  size?: ImageSize | { shortest_edge: number };
  /** Center crop; false for none. */
  crop?: ImageSize | false;
  /** [left, top, right, bottom] in pixels of the original, as PIL's Image.crop; applied first. */
  crop_box?: [number, number, number, number];
  mean?: [number, number, number];
  std?: [number, number, number];
}

export interface PreprocessConfig {
  clean?: CleanConfig;
  image?: ImagePreprocessConfig;
  dedupe?: boolean;
  augment?: AugmentConfig;
}

export interface AdapterConfig {
  size?: number;
}

export interface LoraConfig {
  r?: number;
  alpha?: number;
  dropout?: number;
  targets?: LoraTarget[];
}

export interface StrategyConfig {
  type?: StrategyType;
  freeze_layers?: number;
  freeze_embeddings?: boolean;
  /** image-classification: BatchNorm keeps and uses its running statistics while training (eval mode). */
  freeze_batch_norm?: boolean;
  adapter?: AdapterConfig;
  lora?: LoraConfig;
}

export interface LossConfig {
  type?: LossType;
  scale?: number;
  margin?: number;
  gamma?: number;
  /** Focal loss class weighting: one weight for all classes, or one per class in sorted label order. */
  alpha?: number | number[];
  /** `balanced` weights each class (or tag) by n_rows / (n_classes · n_rows_of_class), from the training data. */
  class_weights?: ClassWeighting;
  mini_batch_size?: number;
  matryoshka?: MatryoshkaConfig;
}

export interface TrainingConfig {
  epochs?: number;
  batch_size?: number;
  gradient_accumulation_steps?: number;
  learning_rate?: number;
  /** The task head's peak learning rate; `learning_rate` where unset. */
  head_learning_rate?: number;
  /** Below 1: a fraction of all optimizer steps; an integer of 1 or more: a number of steps. */
  warmup?: number;
  scheduler?: SchedulerType;
  weight_decay?: number;
  dropout?: number;
  max_grad_norm?: number;
  /** auto: on in the tfjs engine (tfjs keeps all activations until the backward pass ends), off in accelerate. */
  gradient_checkpointing?: 'auto' | boolean;
  mixed_precision?: MixedPrecision;
  seed?: number;
}

export interface EvaluationConfig {
  /** On by default: a run evaluates whenever it has validation rows; false turns evaluation (and early stopping) off. */
  enabled?: boolean;
  every?: Interval;
  metrics?: Metric[];
  /** Picks the best checkpoint and drives early stopping; defaults to the first of `metrics`. */
  primary?: Metric;
}

export interface EarlyStoppingConfig {
  /** On by default, wherever evaluation runs. */
  enabled?: boolean;
  patience?: number;
  min_delta?: number;
  mode?: EarlyStoppingMode;
}

export interface CheckpointConfig {
  every?: Interval;
  keep?: number;
  keep_best?: boolean;
}

/** `backend` applies to the tfjs engine only; the process and machine keys, `config_file` and `python` to accelerate only. */
export interface EngineConfig {
  type?: EngineType;
  backend?: TfjsBackend;
  num_processes?: number;
  num_machines?: number;
  machine_rank?: number;
  main_process_ip?: string;
  main_process_port?: number;
  config_file?: string;
  /** Train on the CPU even where GPUs are present (`accelerate launch --cpu`). */
  cpu?: boolean;
  python?: string;
}

/** A config as written in a `*.embedtune.yaml` file. Relative paths are relative to that file. */
export interface EmbedTuneConfig {
  $schema?: string;
  name?: string;
  task?: TaskType;
  model: ModelConfig;
  data: DataConfig;
  preprocess?: PreprocessConfig;
  strategy?: StrategyConfig;
  loss?: LossConfig;
  training?: TrainingConfig;
  evaluation?: EvaluationConfig;
  early_stopping?: EarlyStoppingConfig;
  checkpoints?: CheckpointConfig;
  engine?: EngineConfig;
  output_dir?: string;
}

export function isEmbeddingLoss(loss: string): loss is EmbeddingLossType {
  return (EMBEDDING_LOSS_TYPES as readonly string[]).includes(loss);
}

export function isTfjsBackend(value: string): value is TfjsBackend {
  return (TFJS_BACKENDS as readonly string[]).includes(value);
}

/** Makes every key required, recursively; arrays are kept as they are. */
export type DeepRequired<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<NonNullable<T[K]>> }
    : T;

export type ResolvedDataConfig = Omit<DeepRequired<DataConfig>, 'validation'> & {
  /** Only set when the config names a validation file; otherwise `validation_split` is held out. */
  validation?: string;
};

export type ResolvedEngineConfig = Omit<DeepRequired<EngineConfig>, 'config_file'> & {
  /** Only set when the config names an accelerate config file. */
  config_file?: string;
};

/**
 * A config with every default filled in. `data.validation` and `engine.config_file`
 * stay optional because they name files that exist only when the user gives them;
 * `$schema` is kept only when written, as it plays no part in training.
 */
export type ResolvedConfig = Omit<DeepRequired<EmbedTuneConfig>, '$schema' | 'data' | 'engine' | 'model' | 'loss' | 'preprocess'> & {
  $schema?: string;
  model: ResolvedModelConfig;
  data: ResolvedDataConfig;
  preprocess: ResolvedPreprocessConfig;
  loss: ResolvedLossConfig;
  engine: ResolvedEngineConfig;
};

/**
 * resolveConfig always fills `prompts` and `column_prompts`; they stay optional in the type because the
 * config.resolved.yaml of a run from before prompts existed has neither.
 */
export type ResolvedModelConfig = Omit<DeepRequired<ModelConfig>, 'prompts' | 'column_prompts' | 'default_prompt_name'> & {
  prompts?: Record<string, string>;
  column_prompts?: ColumnPrompts;
  default_prompt_name?: string;
};

/**
 * `preprocess.image` keeps only the keys written (the rest come from the model's preprocessor_config.json), and the
 * image augmentations random_resized_crop and color_jitter are set only when written, with their keys filled in.
 */
export type ResolvedPreprocessConfig = Omit<DeepRequired<PreprocessConfig>, 'image' | 'augment'> & {
  image: ImagePreprocessConfig;
  augment: ResolvedAugmentConfig;
};

export type ResolvedAugmentConfig = Omit<DeepRequired<AugmentConfig>, 'random_resized_crop' | 'color_jitter'> & {
  random_resized_crop?: Required<RandomResizedCropConfig>;
  color_jitter?: Required<ColorJitterConfig>;
};

/** `matryoshka` is set only when written, with its weights filled in. */
export type ResolvedLossConfig = Omit<DeepRequired<LossConfig>, 'matryoshka'> & { matryoshka?: Required<MatryoshkaConfig> };

/**
 * What the schema's defaults leave open: the keys whose default follows another key (the task's loss and metrics, the
 * head's learning rate, the prompt roles), and `matryoshka`, whose weights follow its dims.
 */
type SchemaDefaulted = Omit<ResolvedConfig, 'model' | 'loss' | 'training' | 'evaluation'> & {
  model: Omit<ResolvedModelConfig, 'prompts' | 'column_prompts'> & { prompts: Record<string, string>; column_prompts?: ColumnPrompts };
  loss: Omit<ResolvedLossConfig, 'type' | 'matryoshka'> & { type?: LossType; matryoshka?: MatryoshkaConfig };
  training: Omit<ResolvedConfig['training'], 'head_learning_rate'> & { head_learning_rate?: number };
  evaluation: Omit<ResolvedConfig['evaluation'], 'metrics' | 'primary'> & { metrics?: Metric[]; primary?: Metric };
};

/**
 * Returns a new config with the default value of every key that is not set. The defaults are the schema's own
 * (`schemas/embedtune.schema.json`, the one place they are written, which hover and completion show); those that
 * depend on another key (`loss.type`, `evaluation.metrics` and so `evaluation.primary` on the task,
 * `training.head_learning_rate` on `learning_rate`) come from `taskRequirements`, as the schema's descriptions say.
 * It does not validate: run schema validation first. The input is not modified.
 */
export function resolveConfig(config: EmbedTuneConfig): ResolvedConfig {
  // The one step from the untyped schema to the typed config: test/unit/configDefaults.test.ts checks every key.
  const filled = withSchemaDefaults(config, embedtuneSchemaNavigator) as SchemaDefaulted;
  const { model, loss, training, evaluation } = filled;
  const lossType = loss.type ?? defaultLossFor(filled.task);
  const metrics = evaluation.metrics ?? defaultMetricsFor(filled.task, lossType);
  const { matryoshka, ...lossSettings } = loss;
  return {
    ...filled,
    model: { ...model, column_prompts: resolveColumnPrompts(model.prompts, model.column_prompts) },
    loss: { ...lossSettings, type: lossType, ...(matryoshka ? { matryoshka: resolveMatryoshka(matryoshka) } : {}) },
    training: { ...training, head_learning_rate: training.head_learning_rate ?? training.learning_rate },
    evaluation: { ...evaluation, metrics, primary: evaluation.primary ?? metrics[0]! },
  };
}
