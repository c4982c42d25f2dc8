import * as tf from '@tensorflow/tfjs-core';

/**
 * The parameters of a linear-chain CRF over K tags: `transitions[i][j]` scores tag j right after tag i, `start`
 * scores the first tag of a sentence and `end` its last, as in pytorch-crf (which the seed's medical NER uses).
 */
export interface CrfParameters {
  /** [K, K], row = previous tag, column = next tag. */
  readonly transitions: tf.Tensor2D;
  /** [K] */
  readonly start: tf.Tensor1D;
  /** [K] */
  readonly end: tf.Tensor1D;
}

/** Gold tags of a padded batch of sentences, row-major [batch, words]; positions at or past a row's length are ignored. */
export interface TaggedSequences {
  readonly tags: Int32Array;
  /** Words in each row; a row of length 0 adds nothing to the loss. */
  readonly lengths: readonly number[];
}

/**
 * The negative log-likelihood −log p(y | x) of each row's gold tags under the CRF, [batch]: log Z(x) by the forward
 * algorithm in log space, minus the score of the gold path. Everything is a tfjs op, so gradients flow to the
 * emissions (and through them to the encoder) and to the CRF parameters. Rows of length 0 give 0.
 */
export function crfNegativeLogLikelihood(emissions: tf.Tensor3D, crf: CrfParameters, gold: TaggedSequences): tf.Tensor1D {
  const [batch, words, tagCount] = emissions.shape;
  if (gold.lengths.length !== batch || gold.tags.length !== batch * words) {
    throw new RangeError(
      `The CRF got emissions for ${batch}×${words} words but tags for ${gold.tags.length} (${gold.lengths.length} rows).`,
    );
  }
  return tf.tidy(() => {
    const mask = sequenceMask(gold.lengths, words);
    const hasWords = tf.tensor1d(
      gold.lengths.map((length) => (length > 0 ? 1 : 0)),
      'float32',
    );
    const logZ = logPartition(emissions, crf, mask, gold.lengths);
    const score = goldPathScore(emissions, crf, gold, mask, tagCount);
    return tf.mul(tf.sub(logZ, score), hasWords) as tf.Tensor1D;
  });
}

/** log Σ over every tag path of exp(path score), per row [batch]: the forward algorithm, one word at a time. */
function logPartition(emissions: tf.Tensor3D, crf: CrfParameters, mask: tf.Tensor2D, lengths: readonly number[]): tf.Tensor1D {
  const [batch, words, tagCount] = emissions.shape;
  const emissionAt = (t: number) => tf.reshape(tf.slice(emissions, [0, t, 0], [batch, 1, tagCount]), [batch, tagCount]) as tf.Tensor2D;
  let alpha = tf.add(crf.start, emissionAt(0)) as tf.Tensor2D;
  const transitions = tf.expandDims(crf.transitions, 0);
  const longest = Math.max(0, ...lengths);
  for (let t = 1; t < Math.min(words, longest); t++) {
    // alpha[b, i] + transitions[i, j], summed out over the previous tag i.
    const next = tf.add(tf.logSumExp(tf.add(tf.expandDims(alpha, 2), transitions), 1), emissionAt(t)) as tf.Tensor2D;
    const active = tf.reshape(tf.slice(mask, [0, t], [batch, 1]), [batch, 1]);
    // Rows that have ended keep their alpha, so that the end scores apply after each row's own last word.
    alpha = tf.add(tf.mul(next, active), tf.mul(alpha, tf.sub(1, active))) as tf.Tensor2D;
  }
  return tf.logSumExp(tf.add(alpha, crf.end), 1) as tf.Tensor1D;
}

/** The score of each row's gold path [batch]: start + Σ emissions + Σ transitions + end. */
function goldPathScore(
  emissions: tf.Tensor3D,
  crf: CrfParameters,
  gold: TaggedSequences,
  mask: tf.Tensor2D,
  tagCount: number,
): tf.Tensor1D {
  const [batch, words] = emissions.shape;
  const tagAt = (b: number, t: number) => gold.tags[b * words + t]!;
  for (const tag of gold.tags)
    if (tag < 0 || tag >= tagCount) throw new RangeError(`Tag index ${tag} is outside the CRF's ${tagCount} tags.`);

  const goldOneHot = tf.reshape(tf.oneHot(tf.tensor1d(gold.tags, 'int32'), tagCount), [batch, words, tagCount]);
  const emitted = tf.sum(tf.mul(tf.sum(tf.mul(emissions, goldOneHot), 2), mask), 1);

  const pairs = new Int32Array(batch * Math.max(words - 1, 0));
  const pairMask = new Float32Array(pairs.length);
  for (let b = 0; b < batch; b++) {
    for (let t = 1; t < words; t++) {
      pairs[b * (words - 1) + t - 1] = tagAt(b, t - 1) * tagCount + tagAt(b, t);
      pairMask[b * (words - 1) + t - 1] = t < gold.lengths[b]! ? 1 : 0;
    }
  }
  const transitioned =
    words > 1
      ? tf.sum(
          tf.mul(
            tf.reshape(tf.gather(tf.reshape(crf.transitions, [tagCount * tagCount]), tf.tensor1d(pairs, 'int32')), [batch, words - 1]),
            tf.tensor2d(pairMask, [batch, words - 1]),
          ),
          1,
        )
      : tf.zeros([batch]);

  const first = Int32Array.from({ length: batch }, (_, b) => tagAt(b, 0));
  const last = Int32Array.from({ length: batch }, (_, b) => tagAt(b, Math.max(gold.lengths[b]! - 1, 0)));
  const started = tf.gather(crf.start, tf.tensor1d(first, 'int32'));
  const ended = tf.gather(crf.end, tf.tensor1d(last, 'int32'));
  return tf.addN([emitted, transitioned, started, ended]) as tf.Tensor1D;
}

/** 1 where a word exists, 0 on padding, [batch, words]. */
function sequenceMask(lengths: readonly number[], words: number): tf.Tensor2D {
  const mask = new Float32Array(lengths.length * words);
  lengths.forEach((length, b) => mask.fill(1, b * words, b * words + Math.min(length, words)));
  return tf.tensor2d(mask, [lengths.length, words]);
}

/** CRF parameters as plain arrays, for decoding on the host. */
export interface HostCrf {
  readonly tagCount: number;
  /** Row-major [K, K]. */
  readonly transitions: Float32Array;
  readonly start: Float32Array;
  readonly end: Float32Array;
}

/**
 * The highest-scoring tag path of each row by the Viterbi algorithm. `emissions` is row-major
 * [batch, words, K]; each row's path has that row's length.
 */
export function viterbiDecode(emissions: Float32Array, words: number, lengths: readonly number[], crf: HostCrf): number[][] {
  const k = crf.tagCount;
  return lengths.map((length, b) => {
    if (length === 0) return [];
    const at = (t: number, tag: number) => emissions[(b * words + t) * k + tag]!;
    let score = Float64Array.from({ length: k }, (_, tag) => crf.start[tag]! + at(0, tag));
    const backPointers: Int32Array[] = [];
    for (let t = 1; t < length; t++) {
      const next = new Float64Array(k);
      const pointer = new Int32Array(k);
      for (let tag = 0; tag < k; tag++) {
        let best = -Infinity;
        let bestPrevious = 0;
        for (let previous = 0; previous < k; previous++) {
          const candidate = score[previous]! + crf.transitions[previous * k + tag]!;
          if (candidate > best) {
            best = candidate;
            bestPrevious = previous;
          }
        }
        next[tag] = best + at(t, tag);
        pointer[tag] = bestPrevious;
      }
      score = next;
      backPointers.push(pointer);
    }
    let lastTag = 0;
    for (let tag = 1; tag < k; tag++) if (score[tag]! + crf.end[tag]! > score[lastTag]! + crf.end[lastTag]!) lastTag = tag;
    const path = [lastTag];
    for (let t = backPointers.length - 1; t >= 0; t--) path.push(backPointers[t]![path[path.length - 1]!]!);
    return path.reverse();
  });
}

/** The best tag of each word on its own (no CRF): what a softmax head predicts. */
export function argmaxDecode(emissions: Float32Array, words: number, lengths: readonly number[], tagCount: number): number[][] {
  return lengths.map((length, b) =>
    Array.from({ length }, (_, t) => {
      const offset = (b * words + t) * tagCount;
      let best = 0;
      for (let tag = 1; tag < tagCount; tag++) if (emissions[offset + tag]! > emissions[offset + best]!) best = tag;
      return best;
    }),
  );
}
