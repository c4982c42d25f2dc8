import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ClassificationHead, labelsOf } from '../../src/trainer/training/classificationHead';

describe('the classification head', () => {
  const features = tf.tensor2d([
    [1, 0],
    [0, 1],
    [1, 1],
  ]);
  const head = new ClassificationHead(['a', 'b', 'c'], 'text', 2, 3);
  head.weight.assign(
    tf.tensor2d([
      [2, 0, -1],
      [0, 1, 1],
    ]),
  );
  head.bias.assign(tf.tensor1d([0, 0.5, 0]));
  const labels = Int32Array.from([0, 2, 1]);
  const probabilities = (row: number[]) => {
    const logits = [row[0]! * 2, 0.5 + row[1]!, -row[0]! + row[1]!];
    const max = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - max));
    const sum = exps.reduce((s, e) => s + e, 0);
    return exps.map((e) => e / sum);
  };
  const rows = [
    [1, 0],
    [0, 1],
    [1, 1],
  ];

  it('computes softmax cross-entropy over its logits', () => {
    const expected = -rows.reduce((s, row, i) => s + Math.log(probabilities(row)[labels[i]!]!), 0) / 3;
    assert.ok(Math.abs(head.loss(features, labels).dataSync()[0]! - expected) < 1e-5);
  });

  it('computes the focal loss with per-class alpha in label order', () => {
    const alpha = [0.5, 1, 2];
    const gamma = 2;
    const expected =
      -rows.reduce((s, row, i) => {
        const p = probabilities(row)[labels[i]!]!;
        return s + alpha[labels[i]!]! * (1 - p) ** gamma * Math.log(p);
      }, 0) / 3;
    assert.ok(Math.abs(head.loss(features, labels, { gamma, alpha }).dataSync()[0]! - expected) < 1e-5);
    assert.throws(() => head.loss(features, labels, { gamma, alpha: [1, 2] }), /lists 2 weights, but the data has 3 classes/);
  });

  it('with class weights, takes the weighted mean of the row losses, as torch.nn.CrossEntropyLoss(weight=…) does', () => {
    const weights = [2, 0.5, 1];
    const weighted = new ClassificationHead(['a', 'b', 'c'], 'text', 2, 3, weights);
    weighted.weight.assign(head.weight);
    weighted.bias.assign(head.bias);
    const losses = rows.map((row, i) => -Math.log(probabilities(row)[labels[i]!]!));
    const expected =
      losses.reduce((s, loss, i) => s + weights[labels[i]!]! * loss, 0) / labels.reduce((s, label) => s + weights[label]!, 0);
    assert.ok(Math.abs(weighted.loss(features, labels).dataSync()[0]! - expected) < 1e-5);
    assert.throws(() => new ClassificationHead(['a', 'b'], 'text', 2, 3, [1]), /1 class weights were given for 2 classes/);
  });

  it('predicts the most likely label, and concatenates (u, v, |u − v|) for pairs', async () => {
    assert.deepEqual(await head.predict(features), ['a', 'b', 'a']);
    const pair = new ClassificationHead(['x', 'y'], 'pair', 2, 1);
    assert.deepEqual(pair.weight.shape, [6, 2]);
    assert.deepEqual(Array.from(pair.features(tf.tensor2d([[1, 2]]), tf.tensor2d([[4, 0]])).dataSync()), [1, 2, 4, 0, 3, 2]);
  });

  it('sorts labels so that indices do not depend on row order', () => {
    assert.deepEqual(labelsOf([{ label: 'spam' }, { label: 'ham' }, { label: 2 }, { label: 'spam' }]), ['2', 'ham', 'spam']);
  });
});
