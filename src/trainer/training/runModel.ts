import { rolePromptTexts } from '../../shared/config/promptSettings';
import { encoderOpsFor } from '../backend/encoderOpsFor';
import type { SelectedBackend } from '../backend/selectBackend';
import { ImagePipeline } from '../images/imagePipeline';
import { exportedPreprocessor, ImageModel } from '../model/imageTrainedModel';
import { loadEmbedder } from '../model/loadEmbedder';
import { locateModel } from '../model/modelLocator';
import { promptPoolingProblem } from '../model/modelPrompts';
import { loadResNetFolder } from '../model/resnet/resnetFolder';
import { resnetTrainable } from '../model/resnet/resnetFreezing';
import { TextModel } from '../model/textTrainedModel';
import type { TrainedModel } from '../model/trainedModel';
import type { PreparedRun } from '../run/prepareRun';
import type { RunRequest } from '../run/runRequest';
import { decideGradientCheckpointing, microBatchShapeOf } from './gradientCheckpointing';
import { trainingStrategy } from './trainingStrategy';

type ModelOptions = Pick<RunRequest, 'env' | 'log'>;

/** The model the run's task trains, with the strategy's trainable variables: a sentence encoder, or a ResNet for images. */
export async function loadRunModel(prepared: PreparedRun, backend: SelectedBackend, options: ModelOptions): Promise<TrainedModel> {
  if (prepared.data.kind === 'image-label') return loadImageModel(prepared, prepared.data.labels, options);
  return new TextModel(await loadTextModel(prepared, backend, options));
}

/**
 * A ResNet (transformers' or timm's layout) whose head predicts the data's classes: a new head in place of the last
 * fully connected layer, unless the model's head already predicts exactly these classes (a fine-tuned model trained
 * on). `freeze` works by stage, and freeze_batch_norm keeps BatchNorm in eval mode.
 */
async function loadImageModel(prepared: PreparedRun, labels: readonly string[], options: ModelOptions): Promise<ImageModel> {
  const { config, configDir } = prepared;
  const env = options.env ?? process.env;
  const located = await locateModel(config.model.base, { allowRemote: env['EMBEDTUNE_OFFLINE'] !== '1' }, { baseDir: configDir, env });
  const { model: resnet } = loadResNetOrSay(located.folder, config.model.base);
  const sameHead = resnet.hasClassifier && resnet.config.labels.join('\n') === labels.join('\n');
  if (!sameHead) resnet.withClassifier(labels, config.training.seed);
  options.log(
    sameHead
      ? `image classifier: the model's head already predicts ${labels.join(', ')}; training it on`
      : `image classifier: a new ${labels.length}-class head (${labels.join(', ')}) replaces the model's last layer`,
  );
  const { strategy } = config;
  if (strategy.type === 'freeze')
    resnet.setTrainable(
      resnetTrainable({ freezeEmbeddings: strategy.freeze_embeddings, freezeLayers: strategy.freeze_layers }, resnet.config.depths.length),
    );
  resnet.freezeBatchNorm = strategy.freeze_batch_norm;
  const pipeline = ImagePipeline.fromConfig(config, located.folder);
  return new ImageModel(resnet, pipeline, exportedPreprocessor(located.folder, config.preprocess.image, pipeline.settings.processor));
}

/** The base text model with the strategy's trainable variables and extensions, and activation checkpointing decided. */
async function loadTextModel(prepared: PreparedRun, backend: SelectedBackend, options: ModelOptions) {
  const { config, written } = prepared;
  const strategy = trainingStrategy(config);
  const loaded = await loadEmbedder({
    base: config.model.base,
    baseDir: prepared.configDir,
    written: written.model,
    resolved: config.model,
    ops: encoderOpsFor(backend.name),
    trainable: strategy.trainable,
    extensions: strategy.extensions,
    env: options.env,
    ...(prepared.dropout !== null ? { dropout: prepared.dropout } : {}),
  });
  const prompted = config.task === 'embedding' && Object.keys(rolePromptTexts(config.model)).length > 0;
  const poolingProblem = prompted ? promptPoolingProblem(loaded.model.rootFolder, config.model.base) : undefined;
  if (poolingProblem) throw new Error(`model.prompts cannot be used: ${poolingProblem}`);
  const { encoder, settings } = loaded.embedder;
  const checkpointing = decideGradientCheckpointing(config.training.gradient_checkpointing, {
    backend: backend.name,
    config: encoder.config,
    parameters: encoder.parameterCount(),
    microBatch: microBatchShapeOf({
      kind: prepared.data.kind,
      batchSize: config.training.batch_size,
      loss: config.loss.type,
      miniBatchSize: config.loss.mini_batch_size,
      maxSeqLength: settings.maxSeqLength,
    }),
  });
  encoder.gradientCheckpointing = checkpointing.on;
  options.log(`gradient checkpointing: ${checkpointing.on ? 'on' : 'off'} (${checkpointing.reason})`);
  return loaded;
}

function loadResNetOrSay(folder: string, base: string): ReturnType<typeof loadResNetFolder> {
  try {
    return loadResNetFolder(folder);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `model.base ${base}: task image-classification trains a ResNet (transformers' model_type resnet, or timm's layout). ${reason}`,
    );
  }
}
