import { defaultLossFor, defaultMetricsFor } from './taskRequirements';
import { resolveColumnPrompts, resolveMatryoshka } from './promptSettings';

/**
 * Types for an EmbedTune config (`*.embedtune.yaml`), as written by the user and
 * after defaults are filled in. They mirror `schemas/embedtune.schema.json`; the
 * schema unit test checks that `resolveConfig` uses the schema's default values.
 */

export type TaskType = 'embedding' | 'classification' | 'token-classification';
export type Pooling = 'mean' | 'cls' | 'max';
export type DataFormat = 'auto' | 'jsonl' | 'csv' | 'tsv';
export type BadRowPolicy = 'error' | 'skip';
export type UnicodeNormalization = 'none' | 'NFC' | 'NFKC';
export type StrategyType = 'full' | 'freeze' | 'adapter' | 'lora';
export type LoraTarget = 'query' | 'key' | 'value' | 'dense';
export type LossType = 'mnrl' | 'cached_mnrl' | 'cosent' | 'cosine' | 'contrastive' | 'triplet' | 'softmax' | 'focal' | 'crf';
export type ClassWeighting = 'none' | 'balanced';
export type SchedulerType = 'linear' | 'cosine' | 'constant';
export type MixedPrecision = 'no' | 'fp16' | 'bf16';
export type EngineType = 'tfjs' | 'accelerate';
export type TfjsBackend = 'auto' | 'node-gpu' | 'node' | 'wasm' | 'cpu';
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
  negative?: string;
  text?: string;
  label?: string;
  score?: string;
  tokens?: string;
  tags?: string;
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
}

export interface PreprocessConfig {
  clean?: CleanConfig;
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
export type ResolvedConfig = Omit<DeepRequired<EmbedTuneConfig>, '$schema' | 'data' | 'engine' | 'model' | 'loss'> & {
  $schema?: string;
  model: ResolvedModelConfig;
  data: ResolvedDataConfig;
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

/** `matryoshka` is set only when written, with its weights filled in. */
export type ResolvedLossConfig = Omit<DeepRequired<LossConfig>, 'matryoshka'> & { matryoshka?: Required<MatryoshkaConfig> };

/** An operation the user did not write is off (count 0); one they wrote makes one copy unless told otherwise. */
function resolveAugmentOperation(op: AugmentOperation | undefined): Required<AugmentOperation> {
  return { count: op ? (op.count ?? 1) : 0, probability: op?.probability ?? 0.1 };
}

/**
 * Returns a new config with the default value of every key that is not set, using
 * the same defaults as `schemas/embedtune.schema.json`. The defaults that depend on the task (`loss.type`,
 * `evaluation.metrics` and so `evaluation.primary`) come from `taskRequirements`, as the schema's descriptions
 * say; a JSON Schema `default` cannot depend on another key. It does not validate: run
 * schema validation first. The input is not modified and arrays are copied.
 */
export function resolveConfig(config: EmbedTuneConfig): ResolvedConfig {
  const { model, data } = config;
  const columns = data.columns ?? {};
  const clean = config.preprocess?.clean ?? {};
  const augment = config.preprocess?.augment ?? {};
  const strategy = config.strategy ?? {};
  const loss = config.loss ?? {};
  const training = config.training ?? {};
  const evaluation = config.evaluation ?? {};
  const earlyStopping = config.early_stopping ?? {};
  const checkpoints = config.checkpoints ?? {};
  const engine = config.engine ?? {};
  const task = config.task ?? 'embedding';
  const lossType = loss.type ?? (defaultLossFor(task) as LossType);
  const metrics = evaluation.metrics ? [...evaluation.metrics] : defaultMetricsFor(task, lossType);

  const resolved: ResolvedConfig = {
    name: config.name ?? 'embedtune-run',
    task,
    model: {
      base: model.base,
      pooling: model.pooling ?? 'mean',
      normalize: model.normalize ?? true,
      max_seq_length: model.max_seq_length ?? 256,
      prompts: { ...model.prompts },
      column_prompts: resolveColumnPrompts(model.prompts ?? {}, model.column_prompts),
    },
    data: {
      train: data.train,
      validation_split: data.validation_split ?? 0.1,
      format: data.format ?? 'auto',
      columns: {
        anchor: columns.anchor ?? 'anchor',
        positive: columns.positive ?? 'positive',
        negative: columns.negative ?? 'negative',
        text: columns.text ?? 'text',
        label: columns.label ?? 'label',
        score: columns.score ?? 'score',
        tokens: columns.tokens ?? 'tokens',
        tags: columns.tags ?? 'tags',
      },
      on_bad_row: data.on_bad_row ?? 'error',
    },
    preprocess: {
      clean: {
        strip_html: clean.strip_html ?? false,
        lowercase: clean.lowercase ?? false,
        unicode_normalization: clean.unicode_normalization ?? 'NFC',
        remove_special_characters: clean.remove_special_characters ?? false,
        collapse_whitespace: clean.collapse_whitespace ?? true,
      },
      dedupe: config.preprocess?.dedupe ?? true,
      augment: {
        seed: augment.seed ?? 42,
        synonym_replacement: resolveAugmentOperation(augment.synonym_replacement),
        random_swap: resolveAugmentOperation(augment.random_swap),
        random_deletion: resolveAugmentOperation(augment.random_deletion),
      },
    },
    strategy: {
      type: strategy.type ?? 'full',
      freeze_layers: strategy.freeze_layers ?? 0,
      freeze_embeddings: strategy.freeze_embeddings ?? false,
      adapter: { size: strategy.adapter?.size ?? 64 },
      lora: {
        r: strategy.lora?.r ?? 8,
        alpha: strategy.lora?.alpha ?? 16,
        dropout: strategy.lora?.dropout ?? 0.05,
        targets: strategy.lora?.targets ? [...strategy.lora.targets] : ['query', 'value'],
      },
    },
    loss: {
      type: lossType,
      scale: loss.scale ?? 20,
      margin: loss.margin ?? 0.5,
      gamma: loss.gamma ?? 2,
      alpha: Array.isArray(loss.alpha) ? [...loss.alpha] : (loss.alpha ?? 0.25),
      class_weights: loss.class_weights ?? 'none',
      mini_batch_size: loss.mini_batch_size ?? 32,
    },
    training: {
      epochs: training.epochs ?? 1,
      batch_size: training.batch_size ?? 32,
      gradient_accumulation_steps: training.gradient_accumulation_steps ?? 1,
      learning_rate: training.learning_rate ?? 2e-5,
      head_learning_rate: training.head_learning_rate ?? training.learning_rate ?? 2e-5,
      warmup: training.warmup ?? 0.1,
      scheduler: training.scheduler ?? 'linear',
      weight_decay: training.weight_decay ?? 0.01,
      dropout: training.dropout ?? 0.1,
      max_grad_norm: training.max_grad_norm ?? 1,
      gradient_checkpointing: training.gradient_checkpointing ?? 'auto',
      mixed_precision: training.mixed_precision ?? 'no',
      seed: training.seed ?? 42,
    },
    evaluation: {
      enabled: evaluation.enabled ?? true,
      every: evaluation.every ?? 'epoch',
      metrics,
      primary: evaluation.primary ?? metrics[0]!,
    },
    early_stopping: {
      enabled: earlyStopping.enabled ?? true,
      patience: earlyStopping.patience ?? 3,
      min_delta: earlyStopping.min_delta ?? 0,
      mode: earlyStopping.mode ?? 'max',
    },
    checkpoints: {
      every: checkpoints.every ?? 'epoch',
      keep: checkpoints.keep ?? 3,
      keep_best: checkpoints.keep_best ?? true,
    },
    engine: {
      type: engine.type ?? 'tfjs',
      backend: engine.backend ?? 'auto',
      num_processes: engine.num_processes ?? 1,
      num_machines: engine.num_machines ?? 1,
      machine_rank: engine.machine_rank ?? 0,
      main_process_ip: engine.main_process_ip ?? '127.0.0.1',
      main_process_port: engine.main_process_port ?? 29500,
      cpu: engine.cpu ?? false,
      python: engine.python ?? 'python3',
    },
    output_dir: config.output_dir ?? 'runs',
  };

  if (config.$schema !== undefined) resolved.$schema = config.$schema;
  if (data.validation !== undefined) resolved.data.validation = data.validation;
  if (engine.config_file !== undefined) resolved.engine.config_file = engine.config_file;
  if (model.default_prompt_name !== undefined) resolved.model.default_prompt_name = model.default_prompt_name;
  if (loss.matryoshka) resolved.loss.matryoshka = resolveMatryoshka(loss.matryoshka);
  return resolved;
}
