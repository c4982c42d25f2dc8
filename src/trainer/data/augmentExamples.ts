import type { ResolvedConfig } from '../../shared/config/configTypes';
import type { SynonymFinder } from '../preprocess/synonymFinder';
import { AUGMENT_OPERATIONS, deleteRandomly, replaceSynonyms, swapRandomly, type AugmentOperationName } from '../preprocess/wordOperations';
import { duplicateKey } from './deduplicate';
import { createRandom, deriveSeed } from './seededRandom';
import type { ExampleByKind, ExampleKind } from './trainingExamples';

export type AugmentOptions = ResolvedConfig['preprocess']['augment'];

/** One augmented copy and the row it was made from. */
export interface AugmentedCopy<K extends ExampleKind> {
  readonly source: ExampleByKind[K];
  readonly operation: AugmentOperationName;
  readonly example: ExampleByKind[K];
}

export interface AugmentationResult<K extends ExampleKind> {
  /** Every row followed by its copies. */
  readonly examples: ExampleByKind[K][];
  readonly copies: readonly AugmentedCopy<K>[];
  readonly added: Readonly<Record<AugmentOperationName, number>>;
}

/** Whether any operation makes copies, so that callers load nothing (WordNet above all) when none does. */
export function augmentsAnything(options: AugmentOptions): boolean {
  return AUGMENT_OPERATIONS.some((operation) => options[operation].count > 0);
}

/** Copies at most per row and operation (the schema's maximum count), to give every copy its own random stream. */
const STREAMS_PER_OPERATION = 32;

/**
 * EDA augmentation of training rows: for each row, `count` copies per operation, each changing words with the
 * operation's per-word probability. What changes is the row's query side: the anchor of a pair (its positive,
 * negative, score or label stay as the row's truth), the text of a classification row, and for token
 * classification only the tokens tagged `O`, so that entities stay whole and tags stay aligned.
 *
 * Every copy draws from a generator seeded by `augment.seed` and the row's own content, so a row gets the same
 * copies whatever its position, the validation split or the other rows. A copy equal to its row is dropped, and
 * with `dedupe` so is a copy equal to any row or earlier copy.
 */
export function augmentExamples<K extends ExampleKind>(
  kind: K,
  examples: readonly ExampleByKind[K][],
  options: AugmentOptions,
  context: { readonly dedupe: boolean; readonly synonyms?: SynonymFinder },
): AugmentationResult<K> {
  if (options.synonym_replacement.count > 0 && !context.synonyms) throw new Error('synonym_replacement needs a SynonymFinder.');
  const seen = new Set(context.dedupe ? examples.map((example) => duplicateKey(kind, example)) : []);
  const added: Record<AugmentOperationName, number> = { synonym_replacement: 0, random_swap: 0, random_deletion: 0 };
  const copies: AugmentedCopy<K>[] = [];
  const result: ExampleByKind[K][] = [];
  for (const source of examples) {
    result.push(source);
    const sourceKey = duplicateKey(kind, source);
    const rowSeed = (options.seed ^ stringHash(sourceKey)) >>> 0;
    AUGMENT_OPERATIONS.forEach((operation, operationIndex) => {
      const { count, probability } = options[operation];
      for (let copy = 0; copy < count; copy++) {
        const random = createRandom(deriveSeed(rowSeed, operationIndex * STREAMS_PER_OPERATION + copy));
        const example = augmentOne(kind, source, operation, probability, random, context.synonyms);
        if (!example) continue;
        const key = duplicateKey(kind, example);
        if (key === sourceKey || seen.has(key)) continue;
        if (context.dedupe) seen.add(key);
        result.push(example);
        copies.push({ source, operation, example });
        added[operation]++;
      }
    });
  }
  return { examples: result, copies, added };
}

function augmentOne<K extends ExampleKind>(
  kind: K,
  source: ExampleByKind[K],
  operation: AugmentOperationName,
  probability: number,
  random: () => number,
  synonyms: SynonymFinder | undefined,
): ExampleByKind[K] | undefined {
  if (kind === 'token-tags') {
    const { tokens, tags } = source as ExampleByKind['token-tags'];
    const outside = tags.flatMap((tag, index) => (tag === 'O' ? [index] : []));
    if (operation === 'synonym_replacement') {
      const replaced = replaceSynonyms(
        tokens,
        { synonyms: synonyms!, probability, replaceable: (index) => tags[index] === 'O', singleWordOnly: true },
        random,
      );
      return replaced && ({ tokens: replaced, tags: [...tags] } as ExampleByKind[K]);
    }
    const pairs = tokens.map((token, index) => [token, tags[index]!] as const);
    const changed =
      operation === 'random_swap' ? swapRandomly(pairs, outside, probability, random) : deleteRandomly(pairs, outside, probability, random);
    return changed && ({ tokens: changed.map(([token]) => token), tags: changed.map(([, tag]) => tag) } as ExampleByKind[K]);
  }
  const field = kind === 'text-label' ? 'text' : 'anchor';
  const words = ((source as unknown as Record<string, unknown>)[field] as string).split(/\s+/).filter((word) => word !== '');
  const all = words.map((_, index) => index);
  const changed =
    operation === 'synonym_replacement'
      ? replaceSynonyms(words, { synonyms: synonyms!, probability }, random)
      : operation === 'random_swap'
        ? swapRandomly(words, all, probability, random)
        : deleteRandomly(words, all, probability, random);
  return changed && ({ ...source, [field]: changed.join(' ') } as ExampleByKind[K]);
}

/** FNV-1a over UTF-16 code units: a stable 32-bit hash, enough to give each distinct row its own seed. */
function stringHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
