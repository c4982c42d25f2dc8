import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BERT_LAYOUT, layerModules, linearModules, type EncoderLayout } from './encoderLayout';
import type { HostTensor, NamedTensors } from './namedTensors';
import { readRegularFile } from '../../shared/model/regularFile';
import { readSafetensorsFolder } from './safetensors';

/**
 * A Hugging Face BERT `config.json`, typed. BERT, MiniLM, BGE and E5 checkpoints all declare `model_type: bert`,
 * so this one family covers the common English embedding models.
 */

/** The activations EmbedTune's BERT encoder implements (see `bert/bertEncoder.ts`). */
export type HiddenActivation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';

const SUPPORTED_ACTIVATIONS: readonly HiddenActivation[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: HiddenActivation;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  padTokenId: number;
}

export type HfConfigJson = Record<string, unknown>;

/**
 * `transformers.BertConfig`'s defaults, used for keys a config.json leaves out, as `from_pretrained` does. The other
 * families' configs share them and differ in a few keys.
 */
export const BERT_DEFAULTS: HfConfigJson = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
};

export interface LoadedBertConfig {
  config: BertConfig;
  /** The file as written, so that an export can keep fields EmbedTune does not model (`id2label`, `transformers_version`…). */
  json: HfConfigJson;
}

export function readBertConfig(folder: string): LoadedBertConfig {
  const json = readConfigJson(folder);
  return { config: parseBertConfig(json, folder), json };
}

/** A model folder's config.json as an object; the error names the file and what is wrong with it. */
export function readConfigJson(folder: string): HfConfigJson {
  const path = join(folder, 'config.json');
  if (!existsSync(path)) throw new Error(`${folder} has no config.json, so it is not a Hugging Face model folder.`);
  let json: unknown;
  try {
    json = JSON.parse(readRegularFile(path, 'utf8'));
  } catch (error) {
    if (error instanceof SyntaxError) throw new Error(`${path} is not valid JSON: ${error.message}`);
    throw error;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${path} is not a JSON object.`);
  return json as HfConfigJson;
}

/** Checks and types a parsed config.json; `folder` names the model in errors. */
export function parseBertConfig(json: HfConfigJson, folder: string): BertConfig {
  const modelType = json['model_type'];
  if (modelType !== 'bert') {
    const found = modelType === undefined ? 'no model_type' : `model_type ${JSON.stringify(modelType)}`;
    throw new Error(
      `The model in ${folder} has ${found}; EmbedTune trains BERT-family models (model_type "bert": BERT, MiniLM, BGE, E5). Pick a model whose config.json says "model_type": "bert".`,
    );
  }
  return parseEncoderConfig(json, folder, BERT_DEFAULTS);
}

/**
 * Checks and types the BERT-named keys of a config.json, taking `defaults` (the family's transformers config class
 * defaults) for keys it leaves out. RoBERTa, XLM-RoBERTa and MPNet name their keys as BERT does; DistilBERT's are
 * renamed to these before they come here.
 */
export function parseEncoderConfig(json: HfConfigJson, folder: string, defaults: HfConfigJson): BertConfig {
  const positionType = json['position_embedding_type'];
  if (positionType !== undefined && positionType !== 'absolute') {
    throw new Error(
      `The model in ${folder} uses position_embedding_type ${JSON.stringify(positionType)}; EmbedTune supports only "absolute" position embeddings.`,
    );
  }
  const read = (key: string): unknown => json[key] ?? defaults[key];
  const integer = (key: string, minimum: number): number => {
    const value = read(key);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
      throw new Error(
        `${join(folder, 'config.json')}: "${key}" must be an integer of at least ${minimum}, but is ${JSON.stringify(value)}.`,
      );
    }
    return value;
  };
  const fraction = (key: string, exclusiveMax: number): number => {
    const value = read(key);
    if (typeof value !== 'number' || !(value >= 0 && value < exclusiveMax)) {
      throw new Error(
        `${join(folder, 'config.json')}: "${key}" must be a number from 0 up to ${exclusiveMax}, but is ${JSON.stringify(value)}.`,
      );
    }
    return value;
  };

  const activation = read('hidden_act');
  if (!SUPPORTED_ACTIVATIONS.includes(activation as HiddenActivation)) {
    throw new Error(
      `${join(folder, 'config.json')}: hidden_act ${JSON.stringify(activation)} is not supported; EmbedTune's BERT encoder implements ${SUPPORTED_ACTIVATIONS.join(', ')}.`,
    );
  }
  const config: BertConfig = {
    vocabSize: integer('vocab_size', 1),
    hiddenSize: integer('hidden_size', 1),
    numHiddenLayers: integer('num_hidden_layers', 0),
    numAttentionHeads: integer('num_attention_heads', 1),
    intermediateSize: integer('intermediate_size', 1),
    hiddenAct: activation as HiddenActivation,
    maxPositionEmbeddings: integer('max_position_embeddings', 1),
    typeVocabSize: integer('type_vocab_size', 1),
    layerNormEps: fraction('layer_norm_eps', 1),
    hiddenDropoutProb: fraction('hidden_dropout_prob', 1),
    attentionProbsDropoutProb: fraction('attention_probs_dropout_prob', 1),
    padTokenId: integer('pad_token_id', 0),
  };
  if (config.hiddenSize % config.numAttentionHeads !== 0) {
    throw new Error(
      `${join(folder, 'config.json')}: hidden_size ${config.hiddenSize} is not a multiple of num_attention_heads ${config.numAttentionHeads}.`,
    );
  }
  if (config.padTokenId >= config.vocabSize) {
    throw new Error(
      `${join(folder, 'config.json')}: pad_token_id ${config.padTokenId} is outside the vocabulary of ${config.vocabSize} tokens.`,
    );
  }
  return config;
}

/**
 * The config.json to export: `original` (when given) with EmbedTune's values laid over it, so fields we do not model
 * survive a fine-tune. The weights we write are a bare `BertModel` in float32, and the config says so.
 */
export function toHfConfigJson(config: BertConfig, original: HfConfigJson = {}): HfConfigJson {
  const json: HfConfigJson = {
    ...original,
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    intermediate_size: config.intermediateSize,
    hidden_act: config.hiddenAct,
    max_position_embeddings: config.maxPositionEmbeddings,
    type_vocab_size: config.typeVocabSize,
    layer_norm_eps: config.layerNormEps,
    hidden_dropout_prob: config.hiddenDropoutProb,
    attention_probs_dropout_prob: config.attentionProbsDropoutProb,
    pad_token_id: config.padTokenId,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
  };
  // Newer transformers writes `dtype` instead of `torch_dtype`; keep whichever the original used in step.
  if ('dtype' in original) json['dtype'] = 'float32';
  return json;
}

/**
 * Shapes of every encoder weight, in HF naming and PyTorch [out, in] layout; the pooler is optional and not listed.
 * `layout` names them for a family other than BERT.
 */
export function expectedBertWeightShapes(config: BertConfig, layout: EncoderLayout = BERT_LAYOUT): Map<string, number[]> {
  const { hiddenSize: hidden, intermediateSize: intermediate } = config;
  const shapes = new Map<string, number[]>([
    [layout.wordEmbeddings, [config.vocabSize, hidden]],
    [layout.positionEmbeddings, [config.maxPositionEmbeddings, hidden]],
  ]);
  if (layout.tokenTypeEmbeddings) shapes.set(layout.tokenTypeEmbeddings, [config.typeVocabSize, hidden]);
  shapes.set(`${layout.embeddingsLayerNorm}.weight`, [hidden]);
  shapes.set(`${layout.embeddingsLayerNorm}.bias`, [hidden]);
  if (layout.relativeAttentionBias)
    shapes.set(layout.relativeAttentionBias.weight, [layout.relativeAttentionBias.numBuckets, config.numAttentionHeads]);
  const outputsOf = (module: string) => (module === layout.intermediate ? intermediate : hidden);
  const inputsOf = (module: string) => (module === layout.output ? intermediate : hidden);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const layer = `${layout.layerPrefix}${i}`;
    for (const module of layerModules(layout)) {
      const linear = linearModules(layout).includes(module);
      shapes.set(`${layer}.${module}.weight`, linear ? [outputsOf(module), inputsOf(module)] : [hidden]);
      shapes.set(`${layer}.${module}.bias`, [linear ? outputsOf(module) : hidden]);
    }
  }
  return shapes;
}

export function expectedBertWeightNames(config: BertConfig, layout: EncoderLayout = BERT_LAYOUT): string[] {
  return [...expectedBertWeightShapes(config, layout).keys()];
}

/** The pooler a `BertModel` checkpoint usually carries; sentence embeddings do not use it, but exports may keep it. */
export function bertPoolerWeightShapes(config: BertConfig): Map<string, number[]> {
  return new Map([
    ['pooler.dense.weight', [config.hiddenSize, config.hiddenSize]],
    ['pooler.dense.bias', [config.hiddenSize]],
  ]);
}

/**
 * Renames weights to the bare-encoder names `BertModel` uses: task checkpoints (`BertForMaskedLM`…) prefix them with
 * `bert.`, and checkpoints converted from the original TensorFlow BERT call LayerNorm's parameters gamma and beta.
 * Weights that belong to no encoder (`cls.predictions.*`) keep their names; callers take what they need.
 */
export function normalizeBertWeightNames(weights: NamedTensors, taskPrefix = 'bert.'): NamedTensors {
  const renamed: NamedTensors = new Map();
  for (const [name, tensor] of weights) {
    const normalized = (name.startsWith(taskPrefix) ? name.slice(taskPrefix.length) : name)
      .replace(/LayerNorm\.gamma$/, 'LayerNorm.weight')
      .replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
    renamed.set(normalized, tensor);
  }
  return renamed;
}

/**
 * Checks that `weights` (already normalized) hold every encoder weight with the shape `config` implies, in F32,
 * and throws one error listing every problem so a user can see at once which checkpoint and config disagree.
 */
export function checkBertWeights(weights: NamedTensors, config: BertConfig, source: string, layout: EncoderLayout = BERT_LAYOUT): void {
  const layers = encoderLayersIn(weights, layout);
  if (config.numHiddenLayers > layers) {
    // Checked before listing the expected weights: a config.json claiming a million layers must not cost gigabytes.
    throw new Error(
      `The weights in ${source} hold ${layers} encoder layer(s), but its config.json says num_hidden_layers ${config.numHiddenLayers}; the config and the weights are not of the same model.`,
    );
  }
  const missing: string[] = [];
  const wrong: string[] = [];
  const expected = new Map([...expectedBertWeightShapes(config, layout), ...bertPoolerWeightShapes(config)]);
  for (const [name, shape] of expected) {
    const tensor: HostTensor | undefined = weights.get(name);
    if (!tensor) {
      if (!name.startsWith('pooler.')) missing.push(name);
      continue;
    }
    if (tensor.dtype !== 'F32') wrong.push(`${name} is ${tensor.dtype}, expected a float weight`);
    else if (tensor.shape.join(',') !== shape.join(','))
      wrong.push(`${name} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  if (missing.length === 0 && wrong.length === 0) return;
  const lines = [
    `The weights in ${source} do not match its config.json (${config.numHiddenLayers} layers, hidden size ${config.hiddenSize}):`,
  ];
  if (missing.length > 0) {
    const shown = missing.slice(0, 12);
    lines.push(
      `missing ${missing.length} weight(s): ${shown.join(', ')}${missing.length > shown.length ? `, and ${missing.length - shown.length} more` : ''}`,
    );
  }
  for (const problem of wrong) lines.push(problem);
  throw new Error(lines.join('\n  '));
}

/** How many encoder layers the weights have: one past the highest `encoder.layer.N` index. */
function encoderLayersIn(weights: NamedTensors, layout: EncoderLayout): number {
  let layers = 0;
  for (const name of weights.keys()) {
    if (!name.startsWith(layout.layerPrefix)) continue;
    const index = /^(\d+)\./.exec(name.slice(layout.layerPrefix.length))?.[1];
    if (index !== undefined) layers = Math.max(layers, Number(index) + 1);
  }
  return layers;
}

/** A model folder's encoder weights under `BertModel` names, checked against its config. */
export function readBertWeights(folder: string, config: BertConfig): NamedTensors {
  const weights = normalizeBertWeightNames(readSafetensorsFolder(folder).tensors);
  checkBertWeights(weights, config, folder);
  return weights;
}
