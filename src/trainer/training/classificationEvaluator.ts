import * as tf from '@tensorflow/tfjs-core';
import type { ClassScores, ConfusionMatrix, MetricValues } from '../../shared/events/runEvents';
import { classificationReport } from '../evaluation/classificationMetrics';
import type { SentenceEmbedder } from '../model/sentenceEmbedder';
import type { ClassificationHead } from './classificationHead';

export interface ClassificationEvaluation {
  readonly metrics: MetricValues;
  readonly confusionMatrix: ConfusionMatrix;
  readonly perClass: Record<string, ClassScores>;
}

interface LabelledRow {
  text?: string;
  anchor?: string;
  positive?: string;
  label: string | number;
}

/** Accuracy, macro-F1, precision and recall of the head's predictions on the validation rows, with the confusion matrix. */
export class ClassificationEvaluator {
  private readonly rows: LabelledRow[];

  constructor(
    rows: readonly unknown[],
    private readonly metrics: readonly string[],
  ) {
    this.rows = rows as LabelledRow[];
  }

  get size(): number {
    return this.rows.length;
  }

  async evaluate(embedder: SentenceEmbedder, head: ClassificationHead, batchSize: number): Promise<ClassificationEvaluation> {
    const pairs = head.input === 'pair';
    const first = await embedder.encode(
      this.rows.map((row) => (pairs ? row.anchor! : row.text!)),
      batchSize,
    );
    const second = pairs
      ? await embedder.encode(
          this.rows.map((row) => row.positive!),
          batchSize,
        )
      : undefined;
    const dim = embedder.dimension;
    const toTensor = (vectors: Float32Array[]) => tf.tensor2d(concat(vectors, dim), [vectors.length, dim]);
    const features = tf.tidy(() => head.features(toTensor(first), second ? toTensor(second) : undefined));
    const predicted = await head.predict(features);
    features.dispose();
    const report = classificationReport(
      this.rows.map((row) => String(row.label)),
      predicted,
    );
    const values: MetricValues = {};
    for (const metric of this.metrics) {
      const value = (report.metrics as Record<string, number>)[metric];
      values[metric] = value === undefined || !Number.isFinite(value) ? null : value;
    }
    return { metrics: values, confusionMatrix: report.confusionMatrix, perClass: report.perClass };
  }
}

function concat(vectors: Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(vectors.length * dim);
  vectors.forEach((vector, i) => out.set(vector, i * dim));
  return out;
}
