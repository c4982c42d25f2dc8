import type { CleanedRow, ExampleCleaner } from '../data/cleanExample';
import type { ExampleByKind, ExampleKind } from '../data/trainingExamples';
import type { SpellingCorrector } from './spellingCorrector';
import { TEXT_FIELDS } from './spellingSetup';

/**
 * Runs `before` (the other cleaning steps), then spelling correction on the example's free texts: anchor, positive,
 * each negative, text, or each token. Labels, tags and scores are left as written. Correction replaces words with
 * words, so it never empties a text that `before` left.
 */
export function withSpellingCorrection<K extends ExampleKind>(
  before: ExampleCleaner<K> | undefined,
  corrector: SpellingCorrector,
): ExampleCleaner<K> {
  return (example) => {
    const cleaned: CleanedRow<K> = before ? before(example) : { example, changed: false };
    if ('problem' in cleaned) return cleaned;
    const corrected: Record<string, unknown> = { ...cleaned.example };
    let changed = cleaned.changed;
    for (const field of TEXT_FIELDS) {
      const value = corrected[field];
      if (typeof value === 'string') corrected[field] = corrector.correct(value);
      else if (Array.isArray(value)) corrected[field] = value.map((item) => (typeof item === 'string' ? corrector.correct(item) : item));
      else continue;
      if (JSON.stringify(corrected[field]) !== JSON.stringify(value)) changed = true;
    }
    return { example: corrected as unknown as ExampleByKind[K], changed };
  };
}
