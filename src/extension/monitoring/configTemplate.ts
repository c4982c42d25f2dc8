/** The kinds of embedding fine-tuning the New Config wizard offers, each with its loss and the data columns it needs. */
export const TASK_TEMPLATES = {
  retrieval: {
    label: 'Retrieval / semantic search',
    detail: 'Pairs of a query and the passage that answers it. Loss: MultipleNegativesRankingLoss (mnrl).',
    loss: 'mnrl',
    roles: ['anchor', 'positive'],
    metrics: ['ndcg@10', 'mrr@10', 'recall@5'],
  },
  similarity: {
    label: 'Sentence similarity',
    detail: 'Pairs of sentences with a similarity score between 0 and 1. Loss: CoSENT.',
    loss: 'cosent',
    roles: ['anchor', 'positive', 'score'],
    metrics: ['spearman', 'pearson'],
  },
  triplets: {
    label: 'Triplets with hard negatives',
    detail: 'An anchor, a positive and a hard negative per row. Loss: triplet.',
    loss: 'triplet',
    roles: ['anchor', 'positive', 'negative'],
    metrics: ['ndcg@10', 'mrr@10', 'recall@5'],
  },
} as const;

export type TaskTemplateName = keyof typeof TASK_TEMPLATES;
export type DataRoleName = 'anchor' | 'positive' | 'negative' | 'score';

export interface NewConfigAnswers {
  readonly name: string;
  readonly task: TaskTemplateName;
  /** A hub id or a local folder (relative to the config, or absolute). */
  readonly model: string;
  /** The training data, relative to the config's folder (forward slashes). */
  readonly trainPath: string;
  /** The data's column for each role the task needs. */
  readonly columns: Partial<Record<DataRoleName, string>>;
  /** Rows in the training file, to pick the strategy; unknown when the file could not be read. */
  readonly rows?: number;
}

const SMALL_DATASET_ROWS = 10_000;

const ROLE_SYNONYMS: Record<DataRoleName, readonly string[]> = {
  anchor: ['anchor', 'query', 'question', 'sentence1', 'sentence_a', 'text1', 'premise', 'source'],
  positive: ['positive', 'passage', 'answer', 'document', 'doc', 'sentence2', 'sentence_b', 'text2', 'hypothesis', 'target', 'pos'],
  negative: ['negative', 'hard_negative', 'negative_passage', 'neg'],
  score: ['score', 'similarity', 'label', 'relatedness_score'],
};

/** The column that most likely holds a role, by name; undefined when none does. */
export function guessColumn(role: DataRoleName, columns: readonly string[]): string | undefined {
  const lower = columns.map((column) => column.toLowerCase());
  for (const synonym of ROLE_SYNONYMS[role]) {
    const index = lower.indexOf(synonym);
    if (index >= 0) return columns[index];
  }
  return undefined;
}

/** A commented config for the answers, in the style of the examples: every choice says why, and how to change it. */
export function newConfigText(answers: NewConfigAnswers): string {
  const template = TASK_TEMPLATES[answers.task];
  const small = answers.rows === undefined || answers.rows < SMALL_DATASET_ROWS;
  const columns = template.roles.filter((role) => answers.columns[role] !== undefined && answers.columns[role] !== role);
  const yamlString = (value: string) =>
    /^[\w./@-]+$/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value) ? value : JSON.stringify(value);
  const lines = [
    `# ${template.label}: written by "EmbedTune: New Config…". Every key is documented on hover;`,
    '# relative paths are relative to this file.',
    `name: ${yamlString(answers.name)}`,
    'task: embedding',
    '',
    'model:',
    '  # A Hugging Face hub id or a local model folder.',
    `  base: ${yamlString(answers.model)}`,
    '  pooling: mean',
    '  normalize: true',
    '  max_seq_length: 256',
    '',
    'data:',
    `  train: ${yamlString(answers.trainPath)}`,
    '  # No separate validation file: hold out 10% of the training rows to evaluate on.',
    '  validation_split: 0.1',
    ...(columns.length > 0
      ? [
          '  # Which column of the data fills each role the loss needs.',
          '  columns:',
          ...columns.map((role) => `    ${role}: ${yamlString(answers.columns[role]!)}`),
        ]
      : []),
    '  on_bad_row: error',
    '',
    'strategy:',
    ...(small
      ? [
          `  # ${answers.rows === undefined ? 'The dataset size is unknown' : `${answers.rows} rows is a small dataset`}: LoRA trains small low-rank updates and forgets less.`,
          '  type: lora',
          '  lora: { r: 8, alpha: 16, dropout: 0.05, targets: [query, value] }',
        ]
      : [`  # ${answers.rows} rows is enough to train every weight.`, '  type: full']),
    '',
    'loss:',
    `  type: ${template.loss}`,
    '',
    'training:',
    '  epochs: 3',
    ...(template.loss === 'mnrl' ? ['  # mnrl uses the rest of the batch as negatives: keep batches at 32 or more.'] : []),
    '  batch_size: 32',
    `  learning_rate: ${small ? '1.0e-4' : '2.0e-5'}`,
    '  warmup: 0.1',
    '  scheduler: linear',
    '  seed: 42',
    '',
    'evaluation:',
    '  every: epoch',
    `  metrics: [${template.metrics.join(', ')}]`,
    `  primary: ${template.metrics[0]}`,
    '',
    `# Stop once ${template.metrics[0]} has not improved for 2 evaluations in a row.`,
    'early_stopping:',
    '  enabled: true',
    '  patience: 2',
    '  mode: max',
    '',
    'checkpoints:',
    '  every: epoch',
    '  keep: 2',
    '  keep_best: true',
    '',
    'engine:',
    '  type: tfjs',
    '  backend: auto',
    '',
    '# Each run gets a folder here: events.jsonl, checkpoints/ and, at the end, model/.',
    'output_dir: runs',
    '',
  ];
  return lines.join('\n');
}
