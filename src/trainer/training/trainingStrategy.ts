import type { ResolvedConfig } from '../../shared/config/configTypes';
import { isAdapterName, isLoraName, type EncoderExtensions } from '../model/bert/bertEncoder';
import { encoderLayerOf, isLayerNormWeight } from '../model/weightNames';

/** Which weights train under `strategy`, and which extra weights (LoRA, adapters) the encoder grows for it. */
export interface TrainingStrategy {
  readonly trainable: (name: string) => boolean;
  readonly extensions?: EncoderExtensions;
}

export function trainingStrategy(config: ResolvedConfig): TrainingStrategy {
  const { strategy, training } = config;
  switch (strategy.type) {
    case 'full':
      return { trainable: () => true };
    case 'freeze':
      return {
        trainable: (name) => {
          if (name.startsWith('embeddings.')) return !strategy.freeze_embeddings;
          // encoder.layer.N (BERT, RoBERTa, MPNet) or transformer.layer.N (DistilBERT).
          const layer = encoderLayerOf(name);
          return layer === undefined || layer >= strategy.freeze_layers;
        },
      };
    case 'lora':
      return {
        trainable: isLoraName,
        extensions: {
          seed: training.seed,
          lora: { r: strategy.lora.r, alpha: strategy.lora.alpha, dropout: strategy.lora.dropout, targets: strategy.lora.targets },
        },
      };
    case 'adapter':
      // Houlsby et al. train the adapters and the LayerNorms; everything else stays as pretrained.
      return {
        trainable: (name) => isAdapterName(name) || isLayerNormWeight(name),
        extensions: { seed: training.seed, adapter: { size: strategy.adapter.size } },
      };
  }
}
