import type { ClassScores } from '../../shared/events/runEvents';
import { harmonicMean, ratio } from './classificationMetrics';

/** A tagged span; `start` and `end` (inclusive) are token offsets in the sentences laid end to end, one 'O' between sentences. */
export interface Entity {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

export interface EntityReport {
  /** Micro-averaged over all entities, as seqeval's default. */
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Share of tokens whose tag is right, as seqeval's accuracy_score. */
  readonly accuracy: number;
  readonly perType: Record<string, ClassScores>;
  /** The values by the names used in `evaluation.metrics`. */
  readonly metrics: Record<'accuracy' | 'f1' | 'precision' | 'recall', number>;
}

/**
 * Entity-level scores of predicted tag sequences, as seqeval's default mode computes them: an
 * entity counts as found only when a predicted entity has exactly its span and type. Entities
 * are chunked with seqeval's lenient rules, which accept IOB1, IOB2 and IOBES tags: an I- tag
 * after O or after another type starts a new entity, as if it were a B-. Ratios with a zero
 * denominator are 0 (zero_division=0).
 */
export function entityReport(gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[]): EntityReport {
  if (gold.length !== predicted.length)
    throw new RangeError(`Cannot score ${predicted.length} predicted sentences against ${gold.length} gold ones.`);
  let tokens = 0;
  let correctTokens = 0;
  gold.forEach((tags, s) => {
    const guess = predicted[s]!;
    if (guess.length !== tags.length)
      throw new RangeError(`Sentence ${s + 1} has ${tags.length} gold tags but ${guess.length} predicted ones.`);
    tokens += tags.length;
    tags.forEach((tag, i) => (correctTokens += tag === guess[i] ? 1 : 0));
  });

  const key = (entity: Entity) => `${entity.start}:${entity.end}`;
  const byType = (entities: Entity[]) => {
    const spans = new Map<string, Set<string>>();
    for (const entity of entities) {
      if (!spans.has(entity.type)) spans.set(entity.type, new Set());
      spans.get(entity.type)!.add(key(entity));
    }
    return spans;
  };
  const goldSpans = byType(extractEntities(gold));
  const predictedSpans = byType(extractEntities(predicted));
  const types = [...new Set([...goldSpans.keys(), ...predictedSpans.keys()])].sort();

  const perType: Record<string, ClassScores> = {};
  let found = 0;
  let predictedTotal = 0;
  let goldTotal = 0;
  for (const type of types) {
    const goldOfType = goldSpans.get(type) ?? new Set<string>();
    const predictedOfType = predictedSpans.get(type) ?? new Set<string>();
    const matches = [...predictedOfType].filter((span) => goldOfType.has(span)).length;
    const precision = ratio(matches, predictedOfType.size);
    const recall = ratio(matches, goldOfType.size);
    perType[type] = { precision, recall, f1: harmonicMean(precision, recall), support: goldOfType.size };
    found += matches;
    predictedTotal += predictedOfType.size;
    goldTotal += goldOfType.size;
  }
  const precision = ratio(found, predictedTotal);
  const recall = ratio(found, goldTotal);
  const accuracy = tokens === 0 ? Number.NaN : correctTokens / tokens;
  const scores = { precision, recall, f1: harmonicMean(precision, recall), accuracy };
  return { ...scores, perType, metrics: scores };
}

/**
 * The entities in tagged sentences, following seqeval's `get_entities` (prefix tags such as
 * B-PER): the sentences are laid end to end with an 'O' between them, and an entity ends and
 * starts where seqeval's `end_of_chunk` and `start_of_chunk` say.
 */
export function extractEntities(sentences: readonly (readonly string[])[]): Entity[] {
  const tags = sentences.flatMap((sentence) => [...sentence, 'O']);
  const entities: Entity[] = [];
  let previousTag = 'O';
  let previousType = '';
  let begin = 0;
  [...tags, 'O'].forEach((chunk, i) => {
    const tag = chunk.charAt(0);
    const rest = chunk.slice(1);
    const dash = rest.indexOf('-');
    const type = (dash < 0 ? rest : rest.slice(dash + 1)) || '_';
    if (endsChunk(previousTag, tag, previousType, type)) entities.push({ type: previousType, start: begin, end: i - 1 });
    if (startsChunk(previousTag, tag, previousType, type)) begin = i;
    previousTag = tag;
    previousType = type;
  });
  return entities;
}

function endsChunk(previousTag: string, tag: string, previousType: string, type: string): boolean {
  if (previousTag === 'E' || previousTag === 'S') return true;
  if ((previousTag === 'B' || previousTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return previousTag !== 'O' && previousTag !== '.' && previousType !== type;
}

function startsChunk(previousTag: string, tag: string, previousType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((previousTag === 'E' || previousTag === 'S' || previousTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && previousType !== type;
}
