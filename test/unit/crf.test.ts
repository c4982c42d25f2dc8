import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { crfNegativeLogLikelihood, viterbiDecode, type HostCrf } from '../../src/trainer/training/crf';

before(async () => {
  await tf.setBackend('cpu');
});

/** A tiny CRF problem with random scores; positions past each row's length hold random junk that must not matter. */
interface Problem {
  batch: number;
  words: number;
  k: number;
  emissions: Float64Array;
  transitions: Float64Array;
  start: Float64Array;
  end: Float64Array;
  tags: Int32Array;
  lengths: number[];
}

function randomProblem(seed: number, batch: number, words: number, k: number, lengths: number[]): Problem {
  const random = createRandom(seed);
  const fill = (n: number, scale: number) => Float64Array.from({ length: n }, () => (random() - 0.5) * 2 * scale);
  return {
    batch,
    words,
    k,
    emissions: fill(batch * words * k, 3),
    transitions: fill(k * k, 2),
    start: fill(k, 1),
    end: fill(k, 1),
    tags: Int32Array.from({ length: batch * words }, () => Math.floor(random() * k)),
    lengths,
  };
}

/** Every tag path of `length` words, as arrays of tag indices. */
function allPaths(length: number, k: number): number[][] {
  let paths: number[][] = [[]];
  for (let t = 0; t < length; t++) paths = paths.flatMap((path) => Array.from({ length: k }, (_, tag) => [...path, tag]));
  return paths;
}

function pathScore(p: Problem, b: number, path: readonly number[]): number {
  const e = (t: number, tag: number) => p.emissions[(b * p.words + t) * p.k + tag]!;
  let score = p.start[path[0]!]! + e(0, path[0]!);
  for (let t = 1; t < path.length; t++) score += p.transitions[path[t - 1]! * p.k + path[t]!]! + e(t, path[t]!);
  return score + p.end[path[path.length - 1]!]!;
}

function logSumExp(values: readonly number[]): number {
  const max = Math.max(...values);
  return max + Math.log(values.reduce((sum, value) => sum + Math.exp(value - max), 0));
}

function goldPath(p: Problem, b: number): number[] {
  return Array.from(p.tags.slice(b * p.words, b * p.words + p.lengths[b]!));
}

/** −log p(gold) by summing over every path: the definition the forward algorithm must agree with. */
function bruteForceNll(p: Problem, b: number): number {
  const length = p.lengths[b]!;
  if (length === 0) return 0;
  return logSumExp(allPaths(length, p.k).map((path) => pathScore(p, b, path))) - pathScore(p, b, goldPath(p, b));
}

function tensorsOf(p: Problem) {
  return {
    emissions: tf.tensor3d(Float32Array.from(p.emissions), [p.batch, p.words, p.k]),
    crf: {
      transitions: tf.tensor2d(Float32Array.from(p.transitions), [p.k, p.k]),
      start: tf.tensor1d(Float32Array.from(p.start)),
      end: tf.tensor1d(Float32Array.from(p.end)),
    },
  };
}

function hostCrf(p: Problem): HostCrf {
  return { tagCount: p.k, transitions: Float32Array.from(p.transitions), start: Float32Array.from(p.start), end: Float32Array.from(p.end) };
}

const CASES: { name: string; batch: number; words: number; k: number; lengths: number[] }[] = [
  { name: 'one word', batch: 2, words: 1, k: 3, lengths: [1, 1] },
  { name: 'two words', batch: 1, words: 2, k: 4, lengths: [2] },
  { name: 'full rows of four words', batch: 3, words: 4, k: 3, lengths: [4, 4, 4] },
  { name: 'padded rows of mixed lengths', batch: 4, words: 5, k: 3, lengths: [5, 2, 1, 3] },
  { name: 'a row with no words beside others', batch: 3, words: 3, k: 2, lengths: [3, 0, 2] },
  { name: 'five tags over six words', batch: 2, words: 6, k: 5, lengths: [6, 4] },
];

describe('the CRF negative log-likelihood', () => {
  for (const [i, c] of CASES.entries()) {
    it(`equals log-sum-exp over every tag path minus the gold path score (${c.name})`, () => {
      const p = randomProblem(100 + i, c.batch, c.words, c.k, c.lengths);
      const { emissions, crf } = tensorsOf(p);
      const nll = crfNegativeLogLikelihood(emissions, crf, { tags: p.tags, lengths: p.lengths }).arraySync();
      for (let b = 0; b < c.batch; b++) {
        const expected = bruteForceNll(p, b);
        assert.ok(Math.abs(nll[b]! - expected) < 1e-4 * Math.max(1, Math.abs(expected)), `row ${b}: ${nll[b]} vs ${expected}`);
        if (c.lengths[b]! > 0) assert.ok(nll[b]! > 0, 'a likelihood below 1 has a positive NLL');
      }
    });
  }

  it('ignores the emissions and tags past each row’s length', () => {
    const p = randomProblem(7, 3, 5, 3, [2, 5, 3]);
    const changed = { ...p, emissions: Float64Array.from(p.emissions), tags: Int32Array.from(p.tags) };
    for (let b = 0; b < p.batch; b++) {
      for (let t = p.lengths[b]!; t < p.words; t++) {
        changed.tags[b * p.words + t] = (p.tags[b * p.words + t]! + 1) % p.k;
        for (let tag = 0; tag < p.k; tag++) changed.emissions[(b * p.words + t) * p.k + tag] = 100 * (tag + 1);
      }
    }
    const run = (q: Problem) =>
      crfNegativeLogLikelihood(tensorsOf(q).emissions, tensorsOf(q).crf, { tags: q.tags, lengths: q.lengths }).arraySync();
    const [before, after] = [run(p), run(changed)];
    before.forEach((value, b) => assert.ok(Math.abs(value - after[b]!) < 1e-5, `row ${b}`));
  });

  it('refuses tags outside the tag set and mismatched shapes, with a message', () => {
    const p = randomProblem(3, 1, 2, 2, [2]);
    const { emissions, crf } = tensorsOf(p);
    assert.throws(
      () => crfNegativeLogLikelihood(emissions, crf, { tags: Int32Array.from([0, 2]), lengths: [2] }),
      /Tag index 2 is outside the CRF's 2 tags/,
    );
    assert.throws(
      () => crfNegativeLogLikelihood(emissions, crf, { tags: Int32Array.from([0]), lengths: [2] }),
      /emissions for 1×2 words but tags for 1/,
    );
  });
});

describe('CRF gradients', () => {
  /**
   * The gradient of −log p(gold) is the expected count of each feature under the model minus its count on the
   * gold path (tag marginals for emissions, pair marginals for transitions): computed here by enumeration.
   */
  function bruteForceGradients(p: Problem) {
    const grads = {
      emissions: new Float64Array(p.emissions.length),
      transitions: new Float64Array(p.k * p.k),
      start: new Float64Array(p.k),
      end: new Float64Array(p.k),
    };
    for (let b = 0; b < p.batch; b++) {
      const length = p.lengths[b]!;
      if (length === 0) continue;
      const paths = allPaths(length, p.k);
      const scores = paths.map((path) => pathScore(p, b, path));
      const logZ = logSumExp(scores);
      const add = (path: readonly number[], weight: number) => {
        path.forEach((tag, t) => (grads.emissions[(b * p.words + t) * p.k + tag]! += weight));
        for (let t = 1; t < path.length; t++) grads.transitions[path[t - 1]! * p.k + path[t]!]! += weight;
        grads.start[path[0]!]! += weight;
        grads.end[path[path.length - 1]!]! += weight;
      };
      paths.forEach((path, i) => add(path, Math.exp(scores[i]! - logZ)));
      add(goldPath(p, b), -1);
    }
    return grads;
  }

  const assertClose = (name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) => {
    assert.equal(actual.length, expected.length, name);
    for (let i = 0; i < expected.length; i++)
      assert.ok(Math.abs(actual[i]! - expected[i]!) < tolerance, `${name}[${i}]: ${actual[i]} vs ${expected[i]}`);
  };

  for (const [i, c] of CASES.entries()) {
    it(`from tfjs autodiff equal expected minus gold feature counts (${c.name})`, () => {
      const p = randomProblem(200 + i, c.batch, c.words, c.k, c.lengths);
      const { emissions, crf } = tensorsOf(p);
      const f = (e: tf.Tensor, transitions: tf.Tensor, start: tf.Tensor, end: tf.Tensor) =>
        tf.sum(
          crfNegativeLogLikelihood(
            e as tf.Tensor3D,
            { transitions: transitions as tf.Tensor2D, start: start as tf.Tensor1D, end: end as tf.Tensor1D },
            { tags: p.tags, lengths: p.lengths },
          ),
        );
      const expected = bruteForceGradients(p);
      // With one word per row no transition is taken: tfjs then has no path to them, and their gradient is 0.
      const connected = c.words > 1;
      const [gE, gS, gEnd, gT] = connected
        ? tf.grads((e: tf.Tensor, s: tf.Tensor, n: tf.Tensor, t: tf.Tensor) => f(e, t, s, n))([
            emissions,
            crf.start,
            crf.end,
            crf.transitions,
          ])
        : tf.grads((e: tf.Tensor, s: tf.Tensor, n: tf.Tensor) => f(e, crf.transitions, s, n))([emissions, crf.start, crf.end]);
      assertClose('emissions', gE!.dataSync(), expected.emissions, 1e-4);
      assertClose('transitions', connected ? gT!.dataSync() : new Float32Array(p.k * p.k), expected.transitions, 1e-4);
      assertClose('start', gS!.dataSync(), expected.start, 1e-4);
      assertClose('end', gEnd!.dataSync(), expected.end, 1e-4);
    });
  }

  it('agree with central finite differences of the loss', () => {
    const p = randomProblem(31, 2, 4, 3, [4, 3]);
    const lossAt = (q: Problem) => {
      const { emissions, crf } = tensorsOf(q);
      return tf.tidy(() => tf.sum(crfNegativeLogLikelihood(emissions, crf, { tags: q.tags, lengths: q.lengths })).dataSync()[0]!);
    };
    const { emissions, crf } = tensorsOf(p);
    const gT = tf
      .grad((t: tf.Tensor) =>
        tf.sum(crfNegativeLogLikelihood(emissions, { ...crf, transitions: t as tf.Tensor2D }, { tags: p.tags, lengths: p.lengths })),
      )(crf.transitions)
      .dataSync();
    const h = 1e-2;
    for (let i = 0; i < p.k * p.k; i++) {
      const plus = { ...p, transitions: Float64Array.from(p.transitions) };
      const minus = { ...p, transitions: Float64Array.from(p.transitions) };
      plus.transitions[i]! += h;
      minus.transitions[i]! -= h;
      const numeric = (lossAt(plus) - lossAt(minus)) / (2 * h);
      assert.ok(Math.abs(numeric - gT[i]!) < 5e-3, `transitions[${i}]: autodiff ${gT[i]} vs finite difference ${numeric}`);
    }
  });
});

describe('Viterbi decoding', () => {
  for (const [i, c] of CASES.entries()) {
    it(`finds the path that maximises the score over every tag path (${c.name})`, () => {
      const p = randomProblem(300 + i, c.batch, c.words, c.k, c.lengths);
      const decoded = viterbiDecode(Float32Array.from(p.emissions), p.words, p.lengths, hostCrf(p));
      for (let b = 0; b < c.batch; b++) {
        const length = p.lengths[b]!;
        assert.equal(decoded[b]!.length, length);
        if (length === 0) continue;
        const paths = allPaths(length, p.k);
        const scores = paths.map((path) => pathScore(p, b, path));
        const best = scores.indexOf(Math.max(...scores));
        assert.deepEqual(decoded[b], paths[best], `row ${b}`);
      }
    });
  }

  it('follows the transitions when they outweigh the emissions', () => {
    // Emissions prefer tag 1 at every word, but 1 → 1 is heavily penalised: the best path alternates.
    const crf: HostCrf = {
      tagCount: 2,
      transitions: Float32Array.from([0, 0, 0, -10]),
      start: new Float32Array(2),
      end: new Float32Array(2),
    };
    const emissions = Float32Array.from([0, 1, 0, 1, 0, 1]);
    assert.deepEqual(viterbiDecode(emissions, 3, [3], crf), [[1, 0, 1]]);
  });
});
