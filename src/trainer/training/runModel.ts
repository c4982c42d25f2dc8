import { rolePromptTexts } from '../../shared/config/promptSettings';
import { encoderOpsFor } from '../backend/encoderOpsFor';
import type { SelectedBackend } from '../backend/selectBackend';
import { loadEmbedder } from '../model/loadEmbedder';
import { promptPoolingProblem } from '../model/modelPrompts';
import { TextModel } from '../model/textTrainedModel';
import type { TrainedModel } from '../model/trainedModel';
import type { PreparedRun } from '../run/prepareRun';
import type { RunRequest } from '../run/runRequest';
import { decideGradientCheckpointing, microBatchShapeOf } from './gradientCheckpointing';
import { trainingStrategy } from './trainingStrategy';

type ModelOptions = Pick<RunRequest, 'env' | 'log'>;

/** The model the run's task trains, with the strategy's trainable variables. */
export async function loadRunModel(prepared: PreparedRun, backend: SelectedBackend, options: ModelOptions): Promise<TrainedModel> {
  return new TextModel(await loadTextModel(prepared, backend, options));
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
