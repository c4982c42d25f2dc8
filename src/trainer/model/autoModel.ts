import { BERT_FAMILY } from './bert/bertFamily';
import { checkBertWeights, normalizeBertWeightNames, readConfigJson, type BertConfig, type HfConfigJson } from './bertConfig';
import { DISTILBERT_FAMILY } from './distilbert/distilbertFamily';
import { positionLimit, type EncoderLayout } from './encoderLayout';
import type { ModelFamily } from './modelFamily';
import { MPNET_FAMILY } from './mpnet/mpnetFamily';
import type { NamedTensors } from './namedTensors';
import { ROBERTA_FAMILY } from './roberta/robertaFamily';
import { readSafetensorsFolder } from './safetensors';

/**
 * Picks a model's family from config.json's model_type, as transformers.js's AutoModel does, and reads its config
 * and weights through it.
 */
export const MODEL_FAMILIES: readonly ModelFamily[] = [BERT_FAMILY, ROBERTA_FAMILY, MPNET_FAMILY, DISTILBERT_FAMILY];

/** Every model_type EmbedTune trains, in the order the families are listed. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = MODEL_FAMILIES.flatMap((family) => family.modelTypes);

export interface ModelArchitecture {
  readonly family: ModelFamily;
  readonly config: BertConfig;
  readonly layout: EncoderLayout;
  /** The longest sequence the model's position table allows (RoBERTa and MPNet reserve pad_token_id + 1 of them). */
  readonly maxSequenceLength: number;
}

export interface LoadedModelConfig extends ModelArchitecture {
  /** The file as written, so that an export can keep fields EmbedTune does not model. */
  readonly json: HfConfigJson;
}

/** The family that reads `modelType`, or undefined. */
export function familyOfModelType(modelType: unknown): ModelFamily | undefined {
  return MODEL_FAMILIES.find((family) => typeof modelType === 'string' && family.modelTypes.includes(modelType));
}

/** The family, typed config and layout of a parsed config.json; the error names an unsupported model_type and the supported ones. */
export function parseModelConfig(json: HfConfigJson, folder: string): ModelArchitecture {
  const modelType = json['model_type'];
  const family = familyOfModelType(modelType);
  if (!family) {
    const found = modelType === undefined ? 'no model_type' : `model_type ${JSON.stringify(modelType)}`;
    throw new Error(
      `The model in ${folder} has ${found}, which EmbedTune cannot train. Supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')} (${MODEL_FAMILIES.map((f) => f.label).join('; ')}).`,
    );
  }
  const config = family.parseConfig(json, folder);
  const layout = family.layout(config, json);
  return { family, config, layout, maxSequenceLength: positionLimit(layout, config.maxPositionEmbeddings, config.padTokenId) };
}

export function readModelConfig(folder: string): LoadedModelConfig {
  const json = readConfigJson(folder);
  return { ...parseModelConfig(json, folder), json };
}

/** A model folder's encoder weights under the bare encoder's names, checked against its config. */
export function readModelWeights(folder: string, model: ModelArchitecture): NamedTensors {
  const weights = normalizeBertWeightNames(readSafetensorsFolder(folder).tensors, model.family.taskPrefix);
  checkBertWeights(weights, model.config, folder, model.layout);
  return weights;
}

/** Throws one error listing every weight `weights` lacks or has in another shape than the model's config implies. */
export function checkModelWeights(weights: NamedTensors, model: ModelArchitecture, source: string): void {
  checkBertWeights(weights, model.config, source, model.layout);
}
