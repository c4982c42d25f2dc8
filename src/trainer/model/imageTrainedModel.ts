import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type { ImagePreprocessConfig } from '../../shared/config/configTypes';
import { PREPROCESSOR_CONFIG_FILE, type ImageProcessorSettings } from '../images/imageProcessorConfig';
import type { ImagePipeline } from '../images/imagePipeline';
import type { HostTensor, NamedTensors } from './namedTensors';
import { CLASSIFIER_BIAS, CLASSIFIER_WEIGHT } from './resnet/resnetLayers';
import type { ResNet } from './resnet/resnetModel';
import { writeTransformersFolder } from './resnet/transformersResNetFolder';
import { readSafetensors, SINGLE_FILE } from './safetensors';
import type { TrainedModel } from './trainedModel';

/**
 * A ResNet with a new head for the run's classes (the image task's model), with the pipeline that feeds it. Its checkpoints and its export are the
 * same thing, a transformers ResNetForImageClassification folder (config.json with id2label, model.safetensors in
 * PyTorch's layouts with the running statistics, preprocessor_config.json), so that any checkpoint loads in
 * `transformers.pipeline("image-classification")`; a resume reads the weights back from it.
 */
export class ImageModel implements TrainedModel {
  readonly headNames: ReadonlySet<string> = new Set([CLASSIFIER_WEIGHT, CLASSIFIER_BIAS]);

  constructor(
    readonly resnet: ResNet,
    /** The run's image preprocessing and augmentation, which turns files into the ResNet's input. */
    readonly pipeline: ImagePipeline,
    /** preprocessor_config.json of the checkpoints and the export: the run's preprocessing. */
    readonly preprocessor: Readonly<Record<string, unknown>>,
  ) {}

  get variables(): ReadonlyMap<string, tf.Variable> {
    return this.resnet.variables;
  }

  /** Parameters as PyTorch counts them: BatchNorm's running statistics are buffers, not parameters. */
  parameterCount(filter: (variable: tf.Variable) => boolean = () => true): number {
    let count = 0;
    for (const [name, variable] of this.resnet.variables) if (!isRunningStatistic(name) && filter(variable)) count += variable.size;
    return count;
  }

  snapshot(): Promise<NamedTensors> {
    return this.resnet.snapshot();
  }

  restore(weights: NamedTensors): void {
    this.resnet.restore(weights);
  }

  /** The transformers folder of the live weights, which the checkpointer has just taken `_weights` from. */
  async writeCheckpointFolder(folder: string, _weights: NamedTensors): Promise<void> {
    await writeTransformersFolder(folder, this.resnet, this.preprocessor);
  }

  readCheckpointWeights(folder: string): NamedTensors {
    return snapshotOfExport(readSafetensors(join(folder, SINGLE_FILE)).tensors);
  }

  exportProblem(): string | undefined {
    return undefined;
  }

  async exportTo(folder: string): Promise<string> {
    await writeTransformersFolder(folder, this.resnet, this.preprocessor);
    return 'a transformers image-classification model';
  }
}

/**
 * The names and layouts `ResNet.snapshot` gives, from the weights `exportWeights` wrote: convolution kernels back
 * from PyTorch's [out, in, kh, kw] to tfjs filters [kh, kw, in, out]; everything else is stored as held.
 */
export function snapshotOfExport(exported: NamedTensors): NamedTensors {
  const out: NamedTensors = new Map();
  for (const [name, tensor] of exported) out.set(name, name.endsWith('.convolution.weight') ? toFilter(tensor) : tensor);
  return out;
}

function toFilter(kernel: HostTensor): HostTensor {
  const [outChannels, inChannels, height, width] = kernel.shape as [number, number, number, number];
  const source = kernel.data as Float32Array;
  const data = new Float32Array(source.length);
  for (let o = 0; o < outChannels; o++)
    for (let i = 0; i < inChannels; i++)
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++)
          data[((y * width + x) * inChannels + i) * outChannels + o] = source[((o * inChannels + i) * height + y) * width + x]!;
  return { dtype: 'F32', shape: [height, width, inChannels, outChannels], data };
}

function isRunningStatistic(name: string): boolean {
  return name.endsWith('.running_mean') || name.endsWith('.running_var');
}

/**
 * preprocessor_config.json for the exported model, so that transformers preprocesses as the run did: the model's
 * own file when `preprocess.image` changes nothing it says, otherwise the run's settings written out (ConvNeXT's
 * processor for a crop_pct resize, the Bit processor, which resizes the shortest edge or to a size and then
 * center-crops, for the rest). `crop_box` has no preprocessor key; the caller warns about it.
 */
export function exportedPreprocessor(
  modelFolder: string,
  written: ImagePreprocessConfig,
  settings: ImageProcessorSettings,
): Record<string, unknown> {
  const own = join(modelFolder, PREPROCESSOR_CONFIG_FILE);
  const rewrites = written.size !== undefined || written.crop !== undefined || written.mean !== undefined || written.std !== undefined;
  if (!rewrites && existsSync(own)) return JSON.parse(readFileSync(own, 'utf8')) as Record<string, unknown>;
  return preprocessorJson(settings);
}

export function preprocessorJson(settings: ImageProcessorSettings): Record<string, unknown> {
  const { resize, cropPct, centerCrop, rescaleFactor, normalize } = settings;
  const size = resize === undefined ? undefined : 'shortestEdge' in resize ? { shortest_edge: resize.shortestEdge } : { ...resize };
  return {
    image_processor_type: cropPct !== undefined ? 'ConvNextImageProcessor' : 'BitImageProcessor',
    do_resize: resize !== undefined,
    ...(size ? { size } : {}),
    ...(cropPct !== undefined ? { crop_pct: cropPct } : {}),
    resample: settings.filter === 'bicubic' ? 3 : 2,
    do_center_crop: centerCrop !== undefined,
    ...(centerCrop ? { crop_size: { ...centerCrop } } : {}),
    do_rescale: rescaleFactor !== undefined,
    ...(rescaleFactor !== undefined ? { rescale_factor: rescaleFactor } : {}),
    do_normalize: normalize !== undefined,
    ...(normalize ? { image_mean: [...normalize.mean], image_std: [...normalize.std] } : {}),
    do_convert_rgb: true,
  };
}
