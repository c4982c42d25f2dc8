import type { ResolvedConfig } from '../../shared/config/configTypes';
import type { TrainingData } from '../data/loadTrainingData';
import type { SentenceEmbedder } from '../model/sentenceEmbedder';
import { ClassificationObjective } from './classificationObjective';
import { EmbeddingObjective } from './embeddingObjective';
import type { TrainingObjective } from './objective';
import { TokenClassificationObjective } from './tokenClassificationObjective';

/** The objective that trains on the data's kind of example; each kind has exactly one. */
export function objectiveFor(data: TrainingData, embedder: SentenceEmbedder, config: ResolvedConfig): TrainingObjective {
  switch (data.kind) {
    case 'pair':
    case 'triplet':
    case 'n-tuple':
    case 'scored-pair':
    case 'contrastive-pair':
      return new EmbeddingObjective(embedder, data, config);
    case 'text-label':
    case 'labeled-pair':
      return new ClassificationObjective(embedder, data, config);
    case 'token-tags':
      return new TokenClassificationObjective(embedder, data, config);
  }
}
