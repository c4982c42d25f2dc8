import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { ACCELERATE_STATE_FILE, RESOLVED_CONFIG_FILE, TRAINER_STATE_FILE } from '../../shared/run/runFolder';
import type { EncoderOps } from '../backend/encoderOps';
import { trainingStrategy } from '../training/trainingStrategy';
import { loadCheckpoint } from '../training/checkpointStore';
import { BertEncoder } from './bert/bertEncoder';
import { readModelConfig } from './autoModel';
import type { HfConfigJson } from './bertConfig';
import { loadEmbedder } from './loadEmbedder';
import { SentenceEmbedder } from './sentenceEmbedder';
import { TextTokenizer } from './textTokenizer';

export interface InferenceModel {
  readonly embedder: SentenceEmbedder;
  readonly hfConfigJson: HfConfigJson;
  /** The run config a checkpoint was trained with; undefined for a plain model folder or hub id. */
  readonly runConfig?: ResolvedConfig;
  readonly description: string;
}

/**
 * A model to encode or evaluate with: an EmbedTune checkpoint (its run's config gives pooling and LoRA settings),
 * or anything `model.base` accepts — a sentence-transformers or Hugging Face folder, or a hub id in the local cache.
 */
export async function loadInferenceModel(
  target: string,
  ops: EncoderOps,
  options: { baseDir?: string; env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<InferenceModel> {
  const folder = resolve(options.baseDir ?? process.cwd(), target);
  // A checkpoint of the accelerate engine is a sentence-transformers folder plus the Trainer's state.
  if (existsSync(join(folder, ACCELERATE_STATE_FILE))) {
    const runConfig = readRunConfig(folder);
    if (runConfig.strategy.type === 'lora') {
      throw new Error(
        `${target} is a LoRA checkpoint of the accelerate engine, saved unmerged for an exact resume; use the run's model/ folder, where LoRA is merged.`,
      );
    }
    const loaded = await loadEmbedder({
      base: folder,
      baseDir: folder,
      written: runConfig.model,
      resolved: runConfig.model,
      ops,
      trainable: () => false,
      env: options.env,
    });
    return { embedder: loaded.embedder, hfConfigJson: loaded.hfConfigJson, runConfig, description: `accelerate checkpoint ${target}` };
  }
  if (existsSync(join(folder, TRAINER_STATE_FILE))) {
    const runConfig = readRunConfig(folder);
    const { config, json, layout, maxSequenceLength } = readModelConfig(folder);
    const { weights } = loadCheckpoint(folder);
    const extensions = trainingStrategy(runConfig).extensions;
    const encoder = BertEncoder.fromSnapshot(config, weights, ops, extensions, layout);
    const embedder = new SentenceEmbedder(TextTokenizer.fromFolder(folder), encoder, {
      pooling: runConfig.model.pooling,
      normalize: runConfig.model.normalize,
      maxSeqLength: Math.min(runConfig.model.max_seq_length, maxSequenceLength),
    });
    return { embedder, hfConfigJson: json, runConfig, description: `checkpoint ${target}` };
  }
  const loaded = await loadEmbedder({
    base: target,
    baseDir: options.baseDir ?? process.cwd(),
    written: undefined,
    resolved: { base: target, pooling: 'mean', normalize: true, max_seq_length: 256 },
    ops,
    trainable: () => false,
    env: options.env,
  });
  return {
    embedder: loaded.embedder,
    hfConfigJson: loaded.hfConfigJson,
    description: `${loaded.model.source} model ${loaded.model.folder}`,
  };
}

/** `<run>/checkpoints/step-N` → `<run>/config.resolved.yaml`. */
function readRunConfig(checkpoint: string): ResolvedConfig {
  const path = join(dirname(dirname(checkpoint)), RESOLVED_CONFIG_FILE);
  if (!existsSync(path))
    throw new Error(`${checkpoint} is a checkpoint, but its run folder has no ${RESOLVED_CONFIG_FILE} (looked for ${path}).`);
  return parse(readFileSync(path, 'utf8')) as ResolvedConfig;
}
