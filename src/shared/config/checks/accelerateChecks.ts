import type { ConfigDiagnostic } from '../configDiagnostic';
import { keyRangeOf, valueRangeOf, type ParsedConfig } from '../parsedConfig';
import type { ConfigCheck } from './checkContext';

/** The losses the accelerate engine maps onto sentence-transformers losses (python/embedtune_accelerate/training_data.py). */
export const ACCELERATE_LOSSES: readonly string[] = ['mnrl', 'cached_mnrl', 'cosent', 'cosine', 'contrastive', 'triplet'];

/**
 * Options the accelerate engine has no counterpart for. Launching anyway would train something other than the
 * config says, so each one is an error before launch rather than a silently dropped setting.
 */
export const checkAccelerateCounterparts: ConfigCheck = ({ parsed, view }) => {
  if (view.string(['engine', 'type']) !== 'accelerate') return [];
  const diagnostics: ConfigDiagnostic[] = [];
  const unsupported = (path: string[], message: string, at: 'key' | 'value' = 'value') =>
    diagnostics.push({
      range: rangeAt(parsed, path, at),
      severity: 'error',
      code: 'accelerate-option-unsupported',
      message,
      data: { path },
    });

  const task = view.string(['task']) ?? 'embedding';
  if (task !== 'embedding') {
    unsupported(
      ['task'],
      `task ${task} has no counterpart in the accelerate engine, which trains sentence embeddings with SentenceTransformerTrainer; train it with engine.type tfjs.`,
    );
  }
  const loss = view.string(['loss', 'type']) ?? 'mnrl';
  if (task === 'embedding' && !ACCELERATE_LOSSES.includes(loss)) {
    unsupported(
      ['loss', 'type'],
      `loss.type ${loss} has no counterpart in the accelerate engine; it trains ${ACCELERATE_LOSSES.join(', ')}.`,
    );
  }
  if (view.string(['strategy', 'type']) === 'adapter') {
    unsupported(
      ['strategy', 'type'],
      'strategy.type adapter has no counterpart in the accelerate engine: PEFT has no Houlsby bottleneck adapter. Use lora, or engine.type tfjs for adapters.',
    );
  }
  if (view.string(['training', 'mixed_precision']) === 'fp16' && view.boolean(['engine', 'cpu']) === true) {
    unsupported(
      ['training', 'mixed_precision'],
      'training.mixed_precision fp16 needs a GPU, but engine.cpu trains on the CPU; use bf16 or no.',
    );
  }
  return diagnostics;
};

function rangeAt(parsed: ParsedConfig, path: string[], at: 'key' | 'value') {
  return at === 'key' ? keyRangeOf(parsed, path) : valueRangeOf(parsed, path);
}
