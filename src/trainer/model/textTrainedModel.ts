import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { stringify } from 'yaml';
import { ENCODER_WEIGHTS_FILE } from '../../shared/run/runFolder';
import type { HfConfigJson } from './bertConfig';
import type { LoadedEmbedder } from './loadEmbedder';
import type { NamedTensors } from './namedTensors';
import { readSafetensors, writeSafetensors } from './safetensors';
import type { SentenceEmbedder } from './sentenceEmbedder';
import { writeSentenceTransformersFolder } from './sentenceTransformersFolder';
import type { TextTokenizer } from './textTokenizer';
import type { ExportFacts, TrainedModel } from './trainedModel';

/** How a text checkpoint holds its model: the trainer's variables (LoRA and adapters apart), config.json and the tokenizer. */
export type CheckpointFiles = Pick<TrainedModel, 'writeCheckpointFolder' | 'readCheckpointWeights'>;

export function textCheckpointFiles(hfConfigJson: HfConfigJson, tokenizer: TextTokenizer): CheckpointFiles {
  return {
    writeCheckpointFolder: async (folder, weights) => {
      writeSafetensors(join(folder, ENCODER_WEIGHTS_FILE), weights, { format: 'embedtune', layout: 'input-major' });
      writeFileSync(join(folder, 'config.json'), `${JSON.stringify(hfConfigJson, null, 2)}\n`);
      tokenizer.saveTo(folder);
    },
    readCheckpointWeights: (folder) => readSafetensors(join(folder, ENCODER_WEIGHTS_FILE)).tensors,
  };
}

/** A sentence encoder (the text tasks' model), saved in checkpoints as above and exported as a sentence-transformers folder. */
export class TextModel implements TrainedModel {
  readonly headNames: ReadonlySet<string> = new Set();
  private readonly files: CheckpointFiles;

  constructor(readonly loaded: LoadedEmbedder) {
    this.files = textCheckpointFiles(loaded.hfConfigJson, loaded.embedder.tokenizer);
  }

  get embedder(): SentenceEmbedder {
    return this.loaded.embedder;
  }

  get variables(): ReadonlyMap<string, tf.Variable> {
    return this.embedder.encoder.variables;
  }

  parameterCount(filter?: (variable: tf.Variable) => boolean): number {
    return this.embedder.encoder.parameterCount(filter);
  }

  snapshot(): Promise<NamedTensors> {
    return this.embedder.encoder.snapshot();
  }

  restore(weights: NamedTensors): void {
    this.embedder.encoder.restore(weights);
  }

  writeCheckpointFolder(folder: string, weights: NamedTensors): Promise<void> {
    return this.files.writeCheckpointFolder(folder, weights);
  }

  readCheckpointWeights(folder: string): NamedTensors {
    return this.files.readCheckpointWeights(folder);
  }

  exportProblem(): string | undefined {
    return this.embedder.encoder.extensions?.adapter
      ? 'Adapters cannot be exported as a plain sentence-transformers model yet; the checkpoints hold the trained adapters.'
      : undefined;
  }

  async exportTo(folder: string, { config, written, dataset, metrics }: ExportFacts): Promise<string> {
    const { embedder, hfConfigJson } = this.loaded;
    const { settings } = embedder;
    writeSentenceTransformersFolder(folder, {
      hfConfigJson,
      weights: await embedder.encoder.exportWeights(),
      tokenizer: embedder.tokenizer,
      pooling: settings.pooling,
      normalize: settings.normalize,
      maxSeqLength: settings.maxSeqLength,
      modelCard: {
        baseModel: config.model.base,
        configYaml: stringify(written),
        metrics: Object.fromEntries(Object.entries(metrics ?? {}).filter((entry): entry is [string, number] => entry[1] !== null)),
        datasetSummary: `${dataset.train_rows} training and ${dataset.validation_rows} validation rows.`,
        ...(config.loss.matryoshka ? { matryoshkaDims: config.loss.matryoshka.dims } : {}),
      },
      ...(config.model.prompts ? { prompts: config.model.prompts } : {}),
      ...(config.model.default_prompt_name ? { defaultPromptName: config.model.default_prompt_name } : {}),
    });
    return 'a sentence-transformers model';
  }
}
