import { deriveSeed, seededPermutation } from './seededRandom';

/** Bounds the packing work when duplicates are unavoidable, e.g. one anchor in more rows than there are batches. */
const SCAN_LIMIT_PER_SLOT = 16;
const SWAP_BATCHES_SEARCHED = 64;

/** Where a run is in its data: the batch `batchIndex` (0-based) of epoch `epoch` (0-based) is next. */
export interface BatchPosition {
  readonly epoch: number;
  readonly batchIndex: number;
}

export interface Batch<T> {
  readonly position: BatchPosition;
  /** The position after this batch: what a checkpoint saved after training on it should store. */
  readonly next: BatchPosition;
  readonly examples: T[];
}

export interface BatchIteratorOptions<T> {
  readonly batchSize: number;
  /** `training.seed`; each epoch shuffles with a seed derived from it and the epoch number. */
  readonly seed: number;
  /**
   * For losses that use the rest of the batch as negatives (mnrl, cached_mnrl): the texts of an
   * example that must not appear in another example of the same batch. See `inBatchNegativeTexts`.
   */
  readonly distinctTexts?: (example: T) => readonly string[];
}

/**
 * Seeded batches, epoch by epoch. The order of an epoch depends only on the examples, the batch
 * size, the seed and the epoch number, so a run resumed at a `BatchPosition` sees exactly the
 * batches the interrupted run would have seen.
 *
 * With `distinctTexts`, batches are packed like sentence-transformers' NoDuplicatesBatchSampler:
 * walking the epoch's shuffled order, a batch takes the next example whose texts none of its
 * members has, and an example that clashes waits for a later batch. That sampler then cuts a
 * batch short when no waiting example fits; here the batch is filled up with waiting examples
 * instead, so that every batch but the last is full and `batchesPerEpoch` (and the step counts
 * of the run plan) stay exact. A repair pass then swaps each clashing example with one from one
 * of the next batches where the swap creates no new clash. Greedy packing leaves its clashes at
 * the end of the epoch, and one swap usually clears each. What remains is unavoidable (e.g. one
 * anchor in more rows than there are batches) or beyond the bounded search; those duplicate
 * texts act as false negatives, as they would without this packing. Both passes are bounded, so
 * packing 100k pairs takes about a second even when most clashes are unavoidable.
 */
export class BatchIterator<T> {
  readonly batchesPerEpoch: number;
  /** The distinct texts of each example, by example index, when batches must avoid duplicates. */
  private readonly textSets: ReadonlyArray<ReadonlySet<string>> | undefined;

  constructor(
    private readonly examples: readonly T[],
    private readonly options: BatchIteratorOptions<T>,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`The batch size must be a whole number of at least 1, not ${options.batchSize}.`);
    }
    this.batchesPerEpoch = Math.ceil(examples.length / options.batchSize);
    const textsOf = options.distinctTexts;
    this.textSets = textsOf ? examples.map((example) => new Set(textsOf(example))) : undefined;
  }

  /** The example indices of every batch of `epoch`, in order. */
  epochPlan(epoch: number): number[][] {
    const order = seededPermutation(this.examples.length, deriveSeed(this.options.seed, epoch));
    return this.textSets ? this.packWithoutDuplicates(order, this.textSets) : this.chunk(order);
  }

  /** Epochs done at `position`, as a fraction: 1.5 is halfway through the second epoch. */
  progressAt(position: BatchPosition): number {
    return position.epoch + position.batchIndex / this.batchesPerEpoch;
  }

  /** The batches from `from` to the end of epoch `endEpoch - 1`. */
  *batches(from: BatchPosition, endEpoch: number): Generator<Batch<T>> {
    for (let epoch = from.epoch; epoch < endEpoch; epoch++) {
      const plan = this.epochPlan(epoch);
      for (let batchIndex = epoch === from.epoch ? from.batchIndex : 0; batchIndex < plan.length; batchIndex++) {
        const next = batchIndex + 1 < plan.length ? { epoch, batchIndex: batchIndex + 1 } : { epoch: epoch + 1, batchIndex: 0 };
        yield { position: { epoch, batchIndex }, next, examples: plan[batchIndex]!.map((i) => this.examples[i]!) };
      }
    }
  }

  private chunk(order: number[]): number[][] {
    const batches: number[][] = [];
    for (let start = 0; start < order.length; start += this.options.batchSize)
      batches.push(order.slice(start, start + this.options.batchSize));
    return batches;
  }

  private packWithoutDuplicates(order: number[], textSets: ReadonlyArray<ReadonlySet<string>>): number[][] {
    const { batchSize } = this.options;
    const n = order.length;
    // The waiting positions of `order`, as a linked list so that taking one is O(1); n ends it.
    const next = Int32Array.from({ length: n + 1 }, (_, i) => i + 1);
    const previous = Int32Array.from({ length: n + 1 }, (_, i) => i - 1);
    let first = 0;
    const take = (i: number) => {
      if (i === first) first = next[i]!;
      else next[previous[i]!] = next[i]!;
      previous[next[i]!] = previous[i]!;
    };
    // When this many waiting examples in a row clash, the rest almost surely do too: stop looking.
    const scanLimit = batchSize * SCAN_LIMIT_PER_SLOT;
    const batches: number[][] = [];
    while (first < n) {
      const batch: number[] = [];
      const texts = new Set<string>();
      for (let i = first, scanned = 0; i < n && batch.length < batchSize && scanned < scanLimit; scanned++) {
        const following = next[i]!;
        const exampleTexts = textSets[order[i]!]!;
        if (!sharesAny(exampleTexts, texts)) {
          for (const text of exampleTexts) texts.add(text);
          batch.push(order[i]!);
          take(i);
        }
        i = following;
      }
      // Only clashing examples are left: fill up with them rather than cut the batch short.
      while (batch.length < batchSize && first < n) {
        batch.push(order[first]!);
        take(first);
      }
      batches.push(batch);
    }
    this.swapAwayDuplicates(batches, textSets);
    return batches;
  }

  private swapAwayDuplicates(batches: number[][], textSets: ReadonlyArray<ReadonlySet<string>>): void {
    const counts = batches.map((batch) => {
      const count = new Map<string, number>();
      for (const index of batch) for (const text of textSets[index]!) count.set(text, (count.get(text) ?? 0) + 1);
      return count;
    });
    const move = (count: Map<string, number>, removed: ReadonlySet<string>, added: ReadonlySet<string>) => {
      for (const text of removed) count.set(text, count.get(text)! - 1);
      for (const text of added) count.set(text, (count.get(text) ?? 0) + 1);
    };
    for (let b = 0; b < batches.length; b++) {
      const batch = batches[b]!;
      for (let p = 0; p < batch.length; p++) {
        const clashing = textSets[batch[p]!]!;
        if (!hasDuplicate(clashing, counts[b]!)) continue;
        // Look for a batch without any of the clashing texts, then for an example in it whose
        // texts are not in this batch once the clashing example has left. Nearby batches first.
        const steps = Math.min(batches.length, SWAP_BATCHES_SEARCHED + 1);
        search: for (let step = 1; step < steps; step++) {
          const c = (b + step) % batches.length;
          if (holdsAny(counts[c]!, clashing)) continue;
          const other = batches[c]!;
          for (let q = 0; q < other.length; q++) {
            const candidate = textSets[other[q]!]!;
            if ([...candidate].some((text) => (counts[b]!.get(text) ?? 0) - (clashing.has(text) ? 1 : 0) > 0)) continue;
            move(counts[b]!, clashing, candidate);
            move(counts[c]!, candidate, clashing);
            [batch[p], other[q]] = [other[q]!, batch[p]!];
            break search;
          }
        }
      }
    }
  }
}

function sharesAny(texts: ReadonlySet<string>, seen: ReadonlySet<string>): boolean {
  for (const text of texts) if (seen.has(text)) return true;
  return false;
}

/** Whether a batch, given by its text counts, holds any of `texts`. */
function holdsAny(counts: ReadonlyMap<string, number>, texts: ReadonlySet<string>): boolean {
  for (const text of texts) if ((counts.get(text) ?? 0) > 0) return true;
  return false;
}

/** Whether another example in a batch (given by its text counts) shares one of `texts`. */
function hasDuplicate(texts: ReadonlySet<string>, counts: ReadonlyMap<string, number>): boolean {
  for (const text of texts) if (counts.get(text)! > 1) return true;
  return false;
}

/** The texts that must be distinct within a batch for in-batch negatives: all of an example's texts, across columns. */
export function inBatchNegativeTexts(example: {
  anchor: string;
  positive: string;
  negative?: string;
  negatives?: readonly string[];
}): string[] {
  return [example.anchor, example.positive, ...(example.negative === undefined ? [] : [example.negative]), ...(example.negatives ?? [])];
}
