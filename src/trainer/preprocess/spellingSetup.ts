import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { SpellingConfig } from '../../shared/config/configTypes';
import { DataFileError } from '../data/dataErrors';
import type { SpellingReport } from '../../shared/events/runEvents';
import { SpellingCorrector } from './spellingCorrector';
import { readEnglishDictionary } from './spellingDictionary';
import { countWords } from './spellingWords';

/** The example fields holding free text: what correction changes and what the vocabulary is counted over. */
export const TEXT_FIELDS = ['anchor', 'positive', 'negative', 'negatives', 'text', 'tokens'];

/** The free texts of one example (a text, a list of negatives or a token list), never its labels, tags or scores. */
export function textsOfExample(example: object): string[] {
  const record = example as Record<string, unknown>;
  return TEXT_FIELDS.flatMap((field) => {
    const value = record[field];
    if (typeof value === 'string') return [value];
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  });
}

/**
 * The training data's vocabulary: every word occurring at least `min_frequency` times in `texts`, plus the `protect`
 * list and the lines of `protect_file` (resolved against `configDir`), all lowercased.
 */
export function spellingVocabulary(texts: Iterable<string>, options: SpellingConfig, configDir: string): Set<string> {
  const minFrequency = options.min_frequency ?? 1;
  const vocabulary = new Set<string>();
  for (const [word, count] of countWords(texts)) if (count >= minFrequency) vocabulary.add(word);
  for (const word of options.protect ?? []) vocabulary.add(word.trim().toLowerCase());
  if (options.protect_file) for (const word of readProtectFile(options.protect_file, configDir)) vocabulary.add(word);
  return vocabulary;
}

/** The words of a protect file: one per line, blank lines and # comments ignored. */
function readProtectFile(written: string, configDir: string): string[] {
  const file = isAbsolute(written) ? written : resolve(configDir, written);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    // A data-file error, so that train and preview-data report it as they report a missing data file.
    throw new DataFileError(
      file,
      `preprocess.clean.spelling.protect_file "${written}" ${why}`,
      undefined,
      'preprocess.clean.spelling.protect_file',
    );
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim().toLowerCase())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** A corrector for a run: the dictionary, and the vocabulary of the training texts it must not touch. */
export function spellingCorrectorFor(trainingTexts: Iterable<string>, options: SpellingConfig, configDir: string) {
  const vocabulary = spellingVocabulary(trainingTexts, options, configDir);
  return { corrector: new SpellingCorrector(readEnglishDictionary(), { vocabulary }), vocabularyWords: vocabulary.size };
}

/** The counts `run_started` reports for a corrector that has seen every row. */
export function spellingReport(corrector: SpellingCorrector, vocabularyWords: number): SpellingReport {
  return { ...corrector.counts, distinct_words_corrected: corrector.corrections.size, vocabulary_words: vocabularyWords };
}
