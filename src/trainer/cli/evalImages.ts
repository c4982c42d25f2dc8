import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { EVAL_RESULTS_FILE } from '../../shared/run/runFolder';
import { loadImageData } from '../data/imageData';
import type { ImageExample } from '../data/imageDataExample';
import { ImagePipeline } from '../images/imagePipeline';
import { loadResNetFolder } from '../model/resnet/resnetFolder';
import type { ResNet } from '../model/resnet/resnetModel';
import { ImageClassificationEvaluator } from '../training/imageClassificationEvaluator';
import type { CliIo } from './cliIo';
import { isImageModelFolder } from './encodeImages';

/** What `embedtune eval` needs to evaluate an image model: the resolved config, its folder, the model, and --data. */
export interface ImageEvalRequest {
  readonly config: ResolvedConfig;
  readonly configDir: string;
  /** A checkpoint folder or an exported model/ of an image run (a transformers or timm ResNet folder with a head). */
  readonly model: string;
  /** --data as given, for the report; already set as the config's data.validation. */
  readonly dataArg: string | undefined;
}

/**
 * `embedtune eval` of an image-classification model on the config's validation images, reported as a run's eval
 * event is: accuracy, macro-F1 and mAP (the config's metrics), the confusion matrix, per-class scores with average
 * precision, and the most confident mistakes (without their thumbnails, which are for the dashboard). The images are
 * preprocessed as the run's validation images were: the config's preprocess.image over the model's own
 * preprocessor_config.json, never augmented.
 */
export async function evalImages(request: ImageEvalRequest, io: CliIo): Promise<number> {
  const { config, configDir, model: modelArg } = request;
  const folder = resolve(modelArg);
  if (!isImageModelFolder(folder)) {
    io.err(
      `embedtune eval: ${modelArg} is not an image model for task image-classification: give an image run's checkpoint (checkpoints/checkpoint-N) or its model/ folder, a transformers ResNet (config.json with model_type resnet).`,
    );
    return 1;
  }
  let resnet: ResNet | undefined;
  try {
    const data = await loadImageData(config, configDir);
    resnet = loadResNetFolder(folder).model;
    const problem = headProblem(resnet, data.validation, modelArg);
    if (problem) {
      io.err(`embedtune eval: ${problem}`);
      return 1;
    }
    const report = await evaluate(resnet, ImagePipeline.fromConfig(config, folder), data.validation, request);
    io.out(JSON.stringify(report, null, 2));
    writeFileSync(join(folder, EVAL_RESULTS_FILE), `${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } catch (error) {
    io.err(`embedtune eval: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    resnet?.dispose();
  }
}

/** Why the model cannot score these images: no classification head, or gold classes its head does not predict. */
function headProblem(resnet: ResNet, validation: readonly ImageExample[], modelArg: string): string | undefined {
  if (!resnet.hasClassifier)
    return `${modelArg} has no classification head (a backbone only); evaluate a checkpoint or the model/ of an image-classification run.`;
  if (validation.length === 0)
    return 'the config has no validation images to evaluate on (data.validation, a validation/ folder or data.validation_split).';
  const known = new Set(resnet.config.labels);
  const unknown = [...new Set(validation.map((example) => example.label))].filter((label) => !known.has(label));
  if (unknown.length > 0)
    return `${modelArg}'s head predicts ${resnet.config.labels.join(', ')}, but the validation images include the class(es) ${unknown.join(', ')} (e.g. ${validation.find((e) => !known.has(e.label))!.source}).`;
  return undefined;
}

async function evaluate(resnet: ResNet, pipeline: ImagePipeline, validation: readonly ImageExample[], request: ImageEvalRequest) {
  const { config, configDir } = request;
  const evaluator = new ImageClassificationEvaluator(validation, resnet.config.labels, config.evaluation.metrics, { configDir });
  const scored = await evaluator.evaluate(
    {
      probabilities: (batch) => {
        const pixels = pipeline.pixels(batch, { augment: false });
        const probabilities = tf.tidy(() => tf.softmax(resnet.forward(tf.tensor4d(pixels.data, pixels.shape)).logits!));
        const rows = probabilities.arraySync() as number[][];
        probabilities.dispose();
        return Promise.resolve(rows);
      },
      thumbnail: (example, size) => pipeline.thumbnail(example, size),
    },
    config.training.batch_size,
  );
  return {
    model: request.model,
    data: request.dataArg ?? config.data.validation ?? `${config.data.train} (validation images)`,
    examples: validation.length,
    metrics: scored.metrics,
    confusion_matrix: scored.confusionMatrix,
    per_class: scored.perClass,
    misclassified: (scored.misclassified ?? []).map(({ file, label, predicted, confidence }) => ({ file, label, predicted, confidence })),
  };
}
