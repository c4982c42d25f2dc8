import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rgbImage } from '../../src/trainer/images/rgbImage';
import { ImageClassificationEvaluator, type LabelledImage } from '../../src/trainer/training/imageClassificationEvaluator';

/** Five images of two classes, with probabilities whose metrics are worked out by hand below. */
const EXAMPLES: LabelledImage[] = [
  { image: '/data/imgs/a/0.png', label: 'a' },
  { image: '/data/imgs/a/1.png', label: 'a' },
  { image: '/data/imgs/b/2.png', label: 'b' },
  { image: '/data/imgs/b/3.png', label: 'b' },
  { image: '/data/imgs/b/4.png', label: 'b' },
];
const PROBABILITIES = [
  [0.9, 0.1],
  [0.3, 0.7],
  [0.2, 0.8],
  [0.6, 0.4],
  [0.45, 0.55],
];

const probe = {
  probabilities: (batch: readonly LabelledImage[]) => Promise.resolve(batch.map((example) => PROBABILITIES[EXAMPLES.indexOf(example)]!)),
  thumbnail: (example: LabelledImage, size: number) =>
    rgbImage(
      size,
      1,
      Uint8Array.from({ length: size * 3 }, (_, i) => (EXAMPLES.indexOf(example) * 10 + i) % 256),
    ),
};

describe('ImageClassificationEvaluator', () => {
  it('scores the probabilities: accuracy, macro-F1, per-class AP and mAP, confusion matrix', async () => {
    const evaluator = new ImageClassificationEvaluator(EXAMPLES, ['a', 'b'], ['map', 'accuracy', 'f1', 'recall', 'ndcg@10'], {
      configDir: '/data',
    });
    // Batches of 2 cover the five rows in three calls.
    const evaluation = await evaluator.evaluate(probe, 2);
    // AP(a): ranked .9 (a) .6 .45 .3 (a) .2 → 1·½ + ½·½ = 0.75. AP(b): .8 (b) .7 .55 (b) .4 (b) .1 → (1 + 2/3 + 3/4)/3.
    const apB = (1 + 2 / 3 + 3 / 4) / 3;
    assert.ok(Math.abs(evaluation.metrics['map']! - (0.75 + apB) / 2) < 1e-12);
    assert.equal(evaluation.metrics['accuracy'], 0.6);
    // F1: a has P = R = 1/2, b has P = R = 2/3.
    assert.ok(Math.abs(evaluation.metrics['f1']! - (0.5 + 2 / 3) / 2) < 1e-12);
    assert.ok(Math.abs(evaluation.metrics['recall']! - (0.5 + 2 / 3) / 2) < 1e-12);
    assert.equal(evaluation.metrics['ndcg@10'], null, 'a ranking metric is no image classification metric');
    assert.equal(evaluation.perClass!['a']!.average_precision, 0.75);
    assert.ok(Math.abs(evaluation.perClass!['b']!.average_precision! - apB) < 1e-12);
    assert.deepEqual(evaluation.confusionMatrix, {
      labels: ['a', 'b'],
      matrix: [
        [1, 1],
        [1, 2],
      ],
    });
  });

  it('lists the most confident mistakes first, up to the limit, with paths relative to the config and raw RGB thumbnails', async () => {
    const all = await new ImageClassificationEvaluator(EXAMPLES, ['a', 'b'], ['accuracy'], {
      configDir: '/data',
      thumbnailSize: 2,
    }).evaluate(probe, 8);
    assert.deepEqual(
      all.misclassified!.map(({ file, label, predicted, confidence }) => ({ file, label, predicted, confidence })),
      [
        { file: 'imgs/a/1.png', label: 'a', predicted: 'b', confidence: 0.7 },
        { file: 'imgs/b/3.png', label: 'b', predicted: 'a', confidence: 0.6 },
      ],
    );
    assert.deepEqual(all.misclassified![0]!.thumbnail, {
      width: 2,
      height: 1,
      rgb: Buffer.from([10, 11, 12, 13, 14, 15]).toString('base64'),
    });
    const one = await new ImageClassificationEvaluator(EXAMPLES, ['a', 'b'], ['accuracy'], {
      configDir: '/data',
      maxMisclassified: 1,
    }).evaluate(probe, 8);
    assert.deepEqual(
      one.misclassified!.map((mistake) => mistake.file),
      ['imgs/a/1.png'],
    );
    assert.equal(one.misclassified![0]!.thumbnail.width, 48, 'thumbnails are 48 pixels by default');
  });
});
