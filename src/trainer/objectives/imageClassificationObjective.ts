import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers kernels' gradients only on request; training needs every one of them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import type { ImageTrainingData } from '../data/imageData';
import type { ImageExample } from '../data/imageDataExample';
import type { ImagePipeline } from '../images/imagePipeline';
import type { ImageModel } from '../model/imageTrainedModel';
import { balancedClassWeights } from '../training/classificationHead';
import { classificationLoss, type FocalSettings } from '../training/classificationLoss';
import type { PassCoordinates, StepGradients } from '../training/gradientStep';
import { ImageClassificationEvaluator } from '../training/imageClassificationEvaluator';
import { trainableVariables, type ObjectiveEvaluation, type TrainingObjective } from './objective';

/** What the objective reads of the image-label data: the images of both splits and the sorted class names. */
export type ImageClassificationData = Pick<ImageTrainingData, 'kind' | 'train' | 'validation' | 'labels'>;

type ImageObjectiveConfig = Pick<ResolvedConfig, 'loss' | 'evaluation' | 'training' | 'preprocess'>;

/**
 * Image classification (the seed's defect detection): the ResNet in training mode on the pipeline's pixels, augmented
 * per epoch, through its new head, with softmax or focal loss and class weights (classificationLoss, as the text
 * classifier's); BatchNorm's running statistics are folded in after each micro-batch's gradients, outside the tape,
 * as PyTorch's forward does. Evaluation: accuracy, macro-F1, per-class AP and mAP, the confusion matrix and the most
 * confident mistakes as thumbnails.
 */
export class ImageClassificationObjective implements TrainingObjective<ImageExample> {
  readonly head = undefined;
  readonly examples: readonly ImageExample[];
  readonly trainable: ReadonlyMap<string, tf.Variable>;
  readonly labels: readonly string[];
  private readonly index: ReadonlyMap<string, number>;
  private readonly classWeights: number[] | undefined;
  private readonly focal: FocalSettings | undefined;
  private readonly augmentSeed: number;
  private readonly evaluator: ImageClassificationEvaluator<ImageExample>;

  constructor(
    readonly model: ImageModel,
    data: ImageClassificationData,
    private readonly config: ImageObjectiveConfig,
    configDir: string,
  ) {
    this.examples = data.train;
    this.labels = model.resnet.config.labels;
    if (this.labels.join('\n') !== data.labels.join('\n'))
      throw new Error(`The model's head predicts ${this.labels.join(', ')}, but the data's classes are ${data.labels.join(', ')}.`);
    this.index = new Map(this.labels.map((label, i) => [label, i]));
    this.trainable = trainableVariables(model, undefined);
    this.classWeights =
      config.loss.class_weights === 'balanced'
        ? balancedClassWeights(
            this.labels,
            data.train.map((row) => row.label),
          )
        : undefined;
    this.focal = config.loss.type === 'focal' ? { gamma: config.loss.gamma, alpha: config.loss.alpha } : undefined;
    this.augmentSeed = config.preprocess.augment.seed;
    this.evaluator = new ImageClassificationEvaluator(data.validation, this.labels, config.evaluation.metrics, { configDir });
  }

  get pipeline(): ImagePipeline {
    return this.model.pipeline;
  }

  warnings(): string[] {
    const warnings: string[] = [];
    if (this.config.preprocess.image.crop_box)
      warnings.push(
        'preprocess.image.crop_box has no preprocessor_config.json key: the exported model resizes whole images, so crop them the same way before classifying.',
      );
    const smallBatch = this.config.training.batch_size < 8 && !this.model.resnet.freezeBatchNorm;
    if (smallBatch)
      warnings.push(
        `BatchNorm trains on batch statistics of ${this.config.training.batch_size} images, which are noisy; strategy.freeze_batch_norm: true keeps the pretrained statistics.`,
      );
    return warnings;
  }

  /** Loss and gradients of one micro-batch; augmentation draws follow (augment seed, epoch, image index), so a resume replays them. */
  gradients(examples: readonly ImageExample[], coordinates: PassCoordinates): StepGradients {
    const pixels = this.pipeline.pixels(examples, { augment: true, epoch: coordinates.epoch ?? 0, seed: this.augmentSeed });
    const labelIndices = Int32Array.from(examples, (row) => this.indexOf(row));
    const { resnet } = this.model;
    try {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const { logits } = resnet.forward(tf.tensor4d(pixels.data, pixels.shape), { training: true });
            return classificationLoss(logits!, labelIndices, this.labels, { focal: this.focal, classWeights: this.classWeights });
          }),
        [...this.trainable.values()],
      );
      const loss = value.dataSync()[0]!;
      value.dispose();
      resnet.updateRunningStatistics();
      const gradients = new Map<string, tf.Tensor>();
      for (const [name, variable] of this.trainable) {
        const gradient = grads[variable.name];
        if (gradient) gradients.set(name, gradient);
      }
      return { loss, gradients };
    } catch (error) {
      resnet.discardBatchStatistics();
      throw error;
    }
  }

  evaluate(batchSize: number): Promise<ObjectiveEvaluation> {
    return this.evaluator.evaluate(
      {
        probabilities: (batch) => Promise.resolve(this.probabilities(batch)),
        thumbnail: (example, size) => this.pipeline.thumbnail(example, size),
      },
      batchSize,
    );
  }

  async exportTo(): Promise<void> {
    // The transformers folder (ImageModel.exportTo) is the whole model.
  }

  /** Softmax of the head's logits in eval mode (running statistics), on the cleaned images. */
  private probabilities(batch: readonly ImageExample[]): number[][] {
    const pixels = this.pipeline.pixels(batch, { augment: false });
    const probabilities = tf.tidy(() => tf.softmax(this.model.resnet.forward(tf.tensor4d(pixels.data, pixels.shape)).logits!));
    const rows = probabilities.arraySync() as number[][];
    probabilities.dispose();
    return rows;
  }

  private indexOf(row: ImageExample): number {
    const index = this.index.get(row.label);
    if (index === undefined) throw new Error(`${row.source}: the class "${row.label}" is not one of ${this.labels.join(', ')}.`);
    return index;
  }
}
