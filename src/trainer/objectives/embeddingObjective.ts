import type * as tf from '@tensorflow/tfjs-core';
import { isEmbeddingLoss, type ResolvedConfig } from '../../shared/config/configTypes';
import { rolePromptTexts, type RolePromptTexts } from '../../shared/config/promptSettings';
import { IN_BATCH_NEGATIVE_LOSSES } from '../../shared/config/taskRequirements';
import { inBatchNegativeTexts } from '../data/batchIterator';
import type { TrainingData } from '../data/loadTrainingData';
import type { TextModel } from '../model/textTrainedModel';
import { toTextBatch, type EmbeddingExample, type EmbeddingKind } from '../training/embeddingExamples';
import { checkMatryoshkaDims } from '../training/embeddingLosses';
import { microBatchGradients, type LossSettings, type PassCoordinates, type StepGradients } from '../training/gradientStep';
import { evaluationOptions } from '../training/evaluationOptions';
import { promptedBatch } from '../training/promptedBatch';
import { ValidationEvaluator } from '../training/validationEvaluator';
import { trainableVariables, type ObjectiveEvaluation, type TrainingObjective } from './objective';

export type EmbeddingData = Extract<TrainingData, { kind: EmbeddingKind }>;

/**
 * The loss settings as `loss:` resolves them. The whole section is passed on, so that a setting the losses learn to
 * read reaches them without a change here.
 */
export function embeddingLossSettings(loss: ResolvedConfig['loss']): LossSettings {
  // exampleKindFor derived an embedding kind from this loss, so this holds unless the two disagree.
  if (!isEmbeddingLoss(loss.type)) throw new Error(`loss.type ${loss.type} is not an embedding loss.`);
  return { ...loss, name: loss.type, miniBatchSize: loss.mini_batch_size };
}

/** Pairs, triplets and scored or labelled pairs, trained through the sentence embedding itself (no head). */
export class EmbeddingObjective implements TrainingObjective<EmbeddingExample> {
  readonly head = undefined;
  readonly examples: readonly EmbeddingExample[];
  readonly trainable: ReadonlyMap<string, tf.Variable>;
  readonly distinctTexts: ((example: EmbeddingExample) => readonly string[]) | undefined;
  private readonly loss: LossSettings;
  private readonly evaluator: ValidationEvaluator;
  private readonly prompts: RolePromptTexts;

  constructor(
    readonly model: TextModel,
    data: EmbeddingData,
    config: Pick<ResolvedConfig, 'model' | 'loss' | 'evaluation'>,
  ) {
    this.examples = data.train;
    this.trainable = trainableVariables(model, undefined);
    this.distinctTexts = IN_BATCH_NEGATIVE_LOSSES.includes(config.loss.type) ? inBatchNegativeTexts : undefined;
    this.loss = embeddingLossSettings(config.loss);
    if (config.loss.matryoshka) checkMatryoshkaDims(config.loss.matryoshka.dims, model.embedder.dimension);
    this.prompts = rolePromptTexts(config.model);
    this.evaluator = new ValidationEvaluator(data.kind, data.validation, config.evaluation.metrics, evaluationOptions(config));
  }

  warnings(): string[] {
    return [];
  }

  gradients(examples: readonly EmbeddingExample[], coordinates: PassCoordinates): StepGradients {
    return microBatchGradients(
      this.model.embedder,
      this.trainable,
      promptedBatch(toTextBatch(examples), this.prompts),
      this.loss,
      coordinates,
    );
  }

  async evaluate(batchSize: number): Promise<ObjectiveEvaluation> {
    return { metrics: await this.evaluator.evaluate(this.model.embedder, batchSize) };
  }

  async exportTo(): Promise<void> {
    // The sentence-transformers folder is the whole model.
  }
}
