import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { contrastive, cosent, cosineSimilarity, multipleNegativesRanking, triplet } from '../../src/trainer/training/embeddingLosses';

const A = [
  [1, 0],
  [0.6, 0.8],
  [0, 1],
];
const P = [
  [0.8, 0.6],
  [0, 1],
  [-1, 0],
];
const N = [
  [0, -1],
  [1, 0],
  [0.6, -0.8],
];

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));
const cos = (a: number[], b: number[]) => dot(a, b) / (norm(a) * norm(b));
const value = (t: tf.Scalar) => t.dataSync()[0]!;
const t2 = (rows: number[][]) => tf.tensor2d(rows);

describe('embedding losses agree with their sentence-transformers definitions', () => {
  it('MultipleNegativesRankingLoss is cross-entropy over scaled cosines, with hard negatives as extra candidates', () => {
    const scale = 20;
    const expected = (candidates: number[][]) =>
      A.reduce((sum, anchor, i) => {
        const logits = candidates.map((c) => scale * cos(anchor, c));
        const max = Math.max(...logits);
        const logSumExp = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
        return sum + (logSumExp - logits[i]!);
      }, 0) / A.length;
    assert.ok(Math.abs(value(multipleNegativesRanking({ anchor: t2(A), positive: t2(P) }, scale)) - expected(P)) < 1e-4);
    assert.ok(
      Math.abs(value(multipleNegativesRanking({ anchor: t2(A), positive: t2(P), negative: t2(N) }, scale)) - expected([...P, ...N])) < 1e-4,
    );
  });

  it('CoSENT penalises every pair ranked above a pair with a higher gold score', () => {
    const scores = new Float32Array([0.9, 0.1, 0.5]);
    const predicted = A.map((a, i) => 20 * cos(a, P[i]!));
    const terms = [0];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (scores[i]! < scores[j]!) terms.push(predicted[i]! - predicted[j]!);
    const max = Math.max(...terms);
    const expected = max + Math.log(terms.reduce((s, x) => s + Math.exp(x - max), 0));
    assert.ok(Math.abs(value(cosent({ anchor: t2(A), positive: t2(P) }, scores, 20)) - expected) < 1e-3);
  });

  it('CosineSimilarityLoss is the mean squared error to the gold score', () => {
    const scores = new Float32Array([1, 0.5, 0]);
    const expected = A.reduce((s, a, i) => s + (cos(a, P[i]!) - scores[i]!) ** 2, 0) / 3;
    assert.ok(Math.abs(value(cosineSimilarity({ anchor: t2(A), positive: t2(P) }, scores)) - expected) < 1e-6);
  });

  it('ContrastiveLoss uses cosine distance and the margin for dissimilar pairs', () => {
    const labels = new Float32Array([1, 0, 0]);
    const margin = 0.5;
    const expected =
      A.reduce((s, a, i) => {
        const d = 1 - cos(a, P[i]!);
        return s + 0.5 * (labels[i]! * d * d + (1 - labels[i]!) * Math.max(0, margin - d) ** 2);
      }, 0) / 3;
    assert.ok(Math.abs(value(contrastive({ anchor: t2(A), positive: t2(P) }, labels, margin)) - expected) < 1e-6);
  });

  it('TripletLoss uses Euclidean distances and the margin', () => {
    const dist = (a: number[], b: number[]) => norm(a.map((x, i) => x - b[i]!));
    const expected = A.reduce((s, a, i) => s + Math.max(0, dist(a, P[i]!) - dist(a, N[i]!) + 1), 0) / 3;
    assert.ok(Math.abs(value(triplet({ anchor: t2(A), positive: t2(P), negative: t2(N) }, 1)) - expected) < 1e-6);
  });
});
