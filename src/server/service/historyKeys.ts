/** The keys whose history a lens shows: what one changes between runs of the same config to train a better model. */
export const HISTORY_KEYS: readonly (readonly string[])[] = [
  ['model', 'base'],
  ['model', 'max_seq_length'],
  ['strategy', 'type'],
  ['loss', 'type'],
  ['training', 'epochs'],
  ['training', 'batch_size'],
  ['training', 'gradient_accumulation_steps'],
  ['training', 'learning_rate'],
  ['training', 'head_learning_rate'],
  ['training', 'warmup'],
  ['training', 'scheduler'],
  ['training', 'weight_decay'],
  ['training', 'dropout'],
  ['training', 'max_grad_norm'],
];

/** Which way a run's primary metric is better: read beside the history keys from each past run. */
export const MODE_KEY: readonly string[] = ['early_stopping', 'mode'];
