import type { ResolvedConfig } from '../../shared/config/configTypes';
import type { TrainingData } from '../data/loadTrainingData';
import { ImageModel } from '../model/imageTrainedModel';
import { TextModel } from '../model/textTrainedModel';
import type { TrainedModel } from '../model/trainedModel';
import { ClassificationObjective } from './classificationObjective';
import { EmbeddingObjective } from './embeddingObjective';
import { ImageClassificationObjective } from './imageClassificationObjective';
import type { TrainingObjective } from './objective';
import { TokenClassificationObjective } from './tokenClassificationObjective';

/** The objective that trains on the data's kind of example; each kind has exactly one. `configDir` names images in events. */
export function objectiveFor(data: TrainingData, model: TrainedModel, config: ResolvedConfig, configDir: string): TrainingObjective {
  switch (data.kind) {
    case 'pair':
    case 'triplet':
    case 'n-tuple':
    case 'scored-pair':
    case 'contrastive-pair':
      return new EmbeddingObjective(textModel(model, data.kind), data, config);
    case 'text-label':
    case 'labeled-pair':
      return new ClassificationObjective(textModel(model, data.kind), data, config);
    case 'token-tags':
      return new TokenClassificationObjective(textModel(model, data.kind), data, config);
    case 'image-label':
      if (!(model instanceof ImageModel)) throw new Error('image-label examples train an image model, but the run loaded a text encoder.');
      return new ImageClassificationObjective(model, data, config, configDir);
  }
}

/** The model loaded for the task (loadTrainedModel) is the one the data's kind trains; this says so to the compiler. */
function textModel(model: TrainedModel, kind: TrainingData['kind']): TextModel {
  if (!(model instanceof TextModel)) throw new Error(`${kind} examples train a text encoder, but the run loaded another kind of model.`);
  return model;
}
