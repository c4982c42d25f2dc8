import type { EmbedTuneConfig, ResolvedConfig } from '../../shared/config/configTypes';
import type { EncoderOps } from '../backend/encoderOps';
import { BertEncoder, type EncoderExtensions } from './bert/bertEncoder';
import { readModelConfig, readModelWeights } from './autoModel';
import type { HfConfigJson } from './bertConfig';
import { locateModel, type LocatedModel } from './modelLocator';
import type { PoolingMode } from './pooling';
import { SentenceEmbedder } from './sentenceEmbedder';
import { readSentenceTransformersSettings } from './sentenceTransformersFolder';
import { TextTokenizer } from './textTokenizer';

export interface LoadedEmbedder {
  readonly embedder: SentenceEmbedder;
  readonly model: LocatedModel;
  /** The model's config.json, kept for export. */
  readonly hfConfigJson: HfConfigJson;
}

export interface EmbedderRequest {
  readonly base: string;
  /** The folder a relative `base` resolves against. */
  readonly baseDir: string;
  /** Settings the user wrote; unset ones come from the model's own sentence-transformers modules, then the schema defaults. */
  readonly written: EmbedTuneConfig['model'] | undefined;
  readonly resolved: ResolvedConfig['model'];
  readonly ops: EncoderOps;
  readonly trainable?: (name: string) => boolean;
  readonly extensions?: EncoderExtensions;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** training.dropout when the user set it: replaces the model's hidden and attention dropout, as HF's config overrides do. */
  readonly dropout?: number;
}

/** Finds a model (local folder, Hugging Face cache, or download where allowed), and builds tokenizer, encoder and pooling. */
export async function loadEmbedder(request: EmbedderRequest): Promise<LoadedEmbedder> {
  const env = request.env ?? process.env;
  const model = await locateModel(request.base, { allowRemote: env['EMBEDTUNE_OFFLINE'] !== '1' }, { baseDir: request.baseDir, env });
  // The family (BERT, RoBERTa, XLM-RoBERTa, MPNet, DistilBERT) comes from config.json's model_type.
  const architecture = readModelConfig(model.folder);
  const { json, layout } = architecture;
  const config =
    request.dropout === undefined
      ? architecture.config
      : { ...architecture.config, hiddenDropoutProb: request.dropout, attentionProbsDropoutProb: request.dropout };
  const weights = readModelWeights(model.folder, architecture);
  const tokenizer = TextTokenizer.fromFolder(model.folder);
  const own = readSentenceTransformersSettings(model.rootFolder);
  const pooling: PoolingMode = request.written?.pooling ?? own?.pooling ?? request.resolved.pooling;
  const normalize = request.written?.normalize ?? own?.normalize ?? request.resolved.normalize;
  const maxSeqLength = Math.min(
    request.written?.max_seq_length ?? own?.maxSeqLength ?? request.resolved.max_seq_length,
    architecture.maxSequenceLength,
  );
  const encoder = BertEncoder.fromWeights(config, weights, request.ops, request.trainable, request.extensions, layout);
  return { embedder: new SentenceEmbedder(tokenizer, encoder, { pooling, normalize, maxSeqLength }), model, hfConfigJson: json };
}
