import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import type { TrainingData } from '../data/loadTrainingData';
import { WordPieceAligner } from '../data/tokenClassificationAlignment';
import type { TokenTagsExample } from '../data/trainingExamples';
import type { TextModel } from '../model/textTrainedModel';
import { balancedClassWeights } from '../training/classificationHead';
import type { PassCoordinates, StepGradients } from '../training/gradientStep';
import { TokenClassificationEvaluator } from '../training/tokenClassificationEvaluator';
import { writeTokenClassifierFolder } from '../training/tokenClassificationExport';
import { TokenClassificationHead, tagsOf, isTokenObjective, type TokenLossSettings } from '../training/tokenClassificationHead';
import { tokenClassificationGradients, type Tagger } from '../training/tokenClassificationStep';
import { focalSettings } from './classificationObjective';
import { trainableVariables, type ObjectiveEvaluation, type TrainingObjective } from './objective';

export type TokenClassificationData = Extract<TrainingData, { kind: 'token-tags' }>;

type TokenLossConfig = Pick<ResolvedConfig['loss'], 'type' | 'gamma' | 'alpha' | 'class_weights'>;

/** A tag for each word: word pieces through the encoder, the first piece of each word through a head (CRF or per word). */
export class TokenClassificationObjective implements TrainingObjective<TokenTagsExample> {
  readonly head: TokenClassificationHead;
  readonly examples: readonly TokenTagsExample[];
  readonly trainable: ReadonlyMap<string, tf.Variable>;
  readonly distinctTexts = undefined;
  private readonly tagger: Tagger;
  private readonly settings: TokenLossSettings;
  private readonly evaluator: TokenClassificationEvaluator;

  constructor(
    readonly model: TextModel,
    data: TokenClassificationData,
    private readonly config: { loss: TokenLossConfig; training: { seed: number }; evaluation: { metrics: readonly string[] } },
  ) {
    const embedder = model.embedder;
    this.examples = data.train;
    const labels = tagsOf(data.train);
    const weights =
      config.loss.class_weights === 'balanced' && config.loss.type !== 'crf'
        ? balancedClassWeights(
            labels,
            data.train.flatMap((row) => row.tags),
          )
        : undefined;
    // exampleKindFor gives token-tags only for the token losses.
    const objective = config.loss.type;
    if (!isTokenObjective(objective)) throw new Error(`loss.type ${objective} does not train a token-classification head.`);
    this.head = new TokenClassificationHead(labels, objective, embedder.dimension, config.training.seed, weights);
    this.tagger = { embedder, head: this.head, aligner: new WordPieceAligner(embedder.tokenizer) };
    this.trainable = trainableVariables(model, this.head);
    this.settings = focalSettings(config.loss);
    this.evaluator = new TokenClassificationEvaluator(data.validation, config.evaluation.metrics);
  }

  warnings(): string[] {
    const warnings: string[] = [];
    const maxSeqLength = this.model.embedder.settings.maxSeqLength;
    const untagged = this.tagger.aligner.untaggedWords(
      this.examples.map((row) => row.tokens),
      maxSeqLength,
    );
    if (untagged.untagged > 0)
      warnings.push(
        `${untagged.untagged} of ${untagged.words} training words (in ${untagged.sentences} sentences) do not fit model.max_seq_length ${maxSeqLength} as word pieces, or have none; they are not trained on and are predicted O. Raise model.max_seq_length to tag them.`,
      );
    if (this.config.loss.type === 'crf' && this.config.loss.class_weights !== 'none')
      warnings.push('loss.class_weights does not apply to the crf loss, which scores whole tag sequences; it is ignored.');
    return warnings;
  }

  gradients(examples: readonly TokenTagsExample[], coordinates: PassCoordinates): StepGradients {
    return tokenClassificationGradients(this.tagger, this.trainable, examples, this.settings, coordinates);
  }

  async evaluate(batchSize: number): Promise<ObjectiveEvaluation> {
    const tagged = await this.evaluator.evaluate(this.tagger, batchSize);
    return { metrics: tagged.metrics, confusionMatrix: tagged.confusionMatrix, perClass: tagged.perType };
  }

  async exportTo(folder: string): Promise<void> {
    await writeTokenClassifierFolder(folder, this.head, this.model.embedder.settings.maxSeqLength);
  }
}
