import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import type { TrainingData } from '../data/loadTrainingData';
import type { TextModel } from '../model/textTrainedModel';
import { ClassificationEvaluator } from '../training/classificationEvaluator';
import { balancedClassWeights, ClassificationHead, labelsOf } from '../training/classificationHead';
import { writeClassifierFolder } from '../training/classificationHeadExport';
import type { ClassificationKind } from '../training/embeddingExamples';
import { classificationGradients, type LabelledBatch, type PassCoordinates, type StepGradients } from '../training/gradientStep';
import { trainableVariables, type ObjectiveEvaluation, type TrainingObjective } from './objective';

export type ClassificationData = Extract<TrainingData, { kind: ClassificationKind }>;
type ClassificationExample = ClassificationData['train'][number];

/** Focal loss settings for a head, when `loss.type` is focal. */
export function focalSettings(loss: Pick<ResolvedConfig['loss'], 'type' | 'gamma' | 'alpha'>): Pick<LabelledBatch, 'focal'> {
  return loss.type === 'focal' ? { focal: { gamma: loss.gamma, alpha: loss.alpha } } : {};
}

/** Texts (SetFit-style) or labelled pairs (SoftmaxLoss on u, v, |u−v|) through a linear head on the embedding. */
export class ClassificationObjective implements TrainingObjective<ClassificationExample> {
  readonly head: ClassificationHead;
  readonly examples: readonly ClassificationExample[];
  readonly trainable: ReadonlyMap<string, tf.Variable>;
  readonly distinctTexts = undefined;
  private readonly focal: Pick<LabelledBatch, 'focal'>;
  private readonly evaluator: ClassificationEvaluator;

  constructor(
    readonly model: TextModel,
    data: ClassificationData,
    config: Pick<ResolvedConfig, 'loss' | 'evaluation' | 'training'>,
  ) {
    this.examples = data.train;
    const labels = labelsOf(data.train);
    const weights =
      config.loss.class_weights === 'balanced'
        ? balancedClassWeights(
            labels,
            data.train.map((row) => String(row.label)),
          )
        : undefined;
    const input = data.kind === 'labeled-pair' ? 'pair' : 'text';
    this.head = new ClassificationHead(labels, input, model.embedder.dimension, config.training.seed, weights);
    this.trainable = trainableVariables(model, this.head);
    this.focal = focalSettings(config.loss);
    this.evaluator = new ClassificationEvaluator(data.validation, config.evaluation.metrics);
  }

  warnings(): string[] {
    return [];
  }

  gradients(examples: readonly ClassificationExample[], coordinates: PassCoordinates): StepGradients {
    const batch: LabelledBatch = {
      first: examples.map((row) => ('text' in row ? row.text : row.anchor)),
      ...(this.head.input === 'pair' ? { second: examples.flatMap((row) => ('positive' in row ? [row.positive] : [])) } : {}),
      labels: Int32Array.from(examples, (row) => this.head.indexOf(String(row.label))),
      ...this.focal,
    };
    return classificationGradients(this.model.embedder, this.head, this.trainable, batch, coordinates);
  }

  evaluate(batchSize: number): Promise<ObjectiveEvaluation> {
    return this.evaluator.evaluate(this.model.embedder, this.head, batchSize);
  }

  async exportTo(folder: string): Promise<void> {
    await writeClassifierFolder(folder, this.head);
  }
}
