import { relative, sep } from 'node:path';
import type { ClassScores, MetricValues, MisclassifiedImage } from '../../shared/events/runEvents';
import { scoredClassificationReport } from '../evaluation/scoredClassificationMetrics';
import type { RgbImage } from '../images/rgbImage';
import type { ObjectiveEvaluation } from '../objectives/objective';

/** A validation image with its gold class: an absolute path and the class name. */
export interface LabelledImage {
  readonly image: string;
  readonly label: string;
}

/** What the evaluator asks of the model and the image pipeline. */
export interface ImageClassifierProbe<E extends LabelledImage> {
  /** Softmax probabilities of a batch of images, [n][classes] in the order of the evaluator's class names. */
  probabilities(examples: readonly E[]): Promise<number[][]>;
  /** A small copy of the image, as the dashboard shows it. */
  thumbnail(example: E, size: number): RgbImage;
}

export interface ImageEvaluationOptions {
  /** Image paths in events are relative to the config's folder. */
  readonly configDir: string;
  readonly maxMisclassified?: number;
  readonly thumbnailSize?: number;
}

export const MAX_MISCLASSIFIED = 12;
export const THUMBNAIL_SIZE = 48;

/**
 * Accuracy, macro precision, recall and F1, per-class average precision and their mean (mAP) of an image classifier on
 * the validation images, from its softmax probabilities as image-classification pipelines report them; with the
 * confusion matrix and the most confident mistakes as thumbnails, which the dashboard shows.
 */
export class ImageClassificationEvaluator<E extends LabelledImage> {
  constructor(
    private readonly examples: readonly E[],
    private readonly classNames: readonly string[],
    private readonly metrics: readonly string[],
    private readonly options: ImageEvaluationOptions,
  ) {}

  get size(): number {
    return this.examples.length;
  }

  async evaluate(probe: ImageClassifierProbe<E>, batchSize: number): Promise<ObjectiveEvaluation> {
    const scores: number[][] = [];
    for (let start = 0; start < this.examples.length; start += batchSize)
      scores.push(...(await probe.probabilities(this.examples.slice(start, start + batchSize))));
    const report = scoredClassificationReport(
      this.classNames,
      this.examples.map((example) => example.label),
      scores,
    );
    const metrics: MetricValues = {};
    for (const metric of this.metrics) metrics[metric] = (report.metrics as Record<string, number | null>)[metric] ?? null;
    const perClass: Record<string, ClassScores> = {};
    for (const [name, scoresOfClass] of Object.entries(report.perClass))
      perClass[name] = { ...scoresOfClass, average_precision: report.averagePrecision[name] ?? null };
    return { metrics, confusionMatrix: report.confusionMatrix, perClass, misclassified: this.misclassified(scores, probe) };
  }

  /** The most confident mistakes first (file order among equals), with their thumbnails. */
  private misclassified(scores: readonly (readonly number[])[], probe: ImageClassifierProbe<E>): MisclassifiedImage[] {
    const mistakes: { index: number; predicted: number; confidence: number }[] = [];
    scores.forEach((row, index) => {
      const predicted = argmax(row);
      if (this.classNames[predicted] !== this.examples[index]!.label) mistakes.push({ index, predicted, confidence: row[predicted]! });
    });
    mistakes.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
    const size = this.options.thumbnailSize ?? THUMBNAIL_SIZE;
    return mistakes.slice(0, this.options.maxMisclassified ?? MAX_MISCLASSIFIED).map(({ index, predicted, confidence }) => {
      const example = this.examples[index]!;
      const thumbnail = probe.thumbnail(example, size);
      return {
        file: relative(this.options.configDir, example.image).split(sep).join('/'),
        label: example.label,
        predicted: this.classNames[predicted]!,
        confidence,
        thumbnail: { width: thumbnail.width, height: thumbnail.height, rgb: Buffer.from(thumbnail.data).toString('base64') },
      };
    });
  }
}

/** Index of the first largest value, as scoredClassificationReport predicts. */
function argmax(row: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
  return best;
}
