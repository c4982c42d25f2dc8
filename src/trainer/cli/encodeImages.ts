import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { IMAGE_EXTENSIONS } from '../data/imageDataFolder';
import { ImagePipeline } from '../images/imagePipeline';
import { imageSettingsFor } from '../images/imageSettings';
import { loadResNetFolder } from '../model/resnet/resnetFolder';
import type { CliIo } from './cliIo';

/**
 * `embedtune encode` on an image model: the pooled ResNet embedding (the global average pool before the head, eval
 * mode) of each image, for image retrieval. The images are preprocessed as the model's preprocessor_config.json (or a
 * timm folder's pretrained_cfg) says, as training's validation images are.
 */

/** A folder that holds an image model: a transformers ResNet config.json, or timm's (no model_type, an `architecture`). */
export function isImageModelFolder(path: string): boolean {
  const configPath = join(path, 'config.json');
  if (!existsSync(configPath)) return false;
  try {
    const json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    return json['model_type'] === 'resnet' || (json['model_type'] === undefined && typeof json['architecture'] === 'string');
  } catch {
    return false;
  }
}

/**
 * The images `--in` names: a folder's .png/.jpg/.jpeg files at any depth in sorted order, or a text file of image
 * paths, one a line, relative to the file (as data rows are); paths are reported relative to the working folder.
 */
export function imagesToEncode(input: string): string[] {
  if (statSync(input).isDirectory()) return imagesUnder(input);
  return readFileSync(input, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => resolve(dirname(input), line));
}

export async function encodeImages(
  modelFolder: string,
  options: { readonly input: string; readonly out: string; readonly batchSize: number },
  io: CliIo,
): Promise<number> {
  const images = imagesToEncode(options.input);
  if (images.length === 0) {
    io.err(`embedtune encode: ${options.input} names no .png, .jpg or .jpeg images.`);
    return 1;
  }
  const { model, layout } = loadResNetFolder(modelFolder);
  const pipeline = new ImagePipeline({
    processor: imageSettingsFor({}, modelFolder),
    augment: { horizontalFlip: 0, verticalFlip: 0, rotation: 0 },
    cacheBytes: 0,
  });
  const out = createWriteStream(options.out);
  let dimension = 0;
  try {
    for (let start = 0; start < images.length; start += options.batchSize) {
      const batch = images.slice(start, start + options.batchSize);
      const pixels = pipeline.pixels(
        batch.map((image, i) => ({ image, label: '', source: image, index: start + i })),
        { augment: false },
      );
      const pooled = tf.tidy(() => model.forward(tf.tensor4d(pixels.data, pixels.shape)).pooled);
      const rows = pooled.arraySync();
      dimension = pooled.shape[1];
      pooled.dispose();
      batch.forEach((image, i) => out.write(`${JSON.stringify({ image: displayPath(image), embedding: rows[i] })}\n`));
    }
  } catch (error) {
    io.err(`embedtune encode: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await new Promise<void>((resolveEnd, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolveEnd())));
    model.dispose();
  }
  io.err(`${images.length} image embeddings of dimension ${dimension} from ${modelFolder} (${layout} ResNet, pooled) → ${options.out}`);
  return 0;
}

function imagesUnder(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (IMAGE_EXTENSIONS.includes(extname(name).toLowerCase())) found.push(path);
    }
  };
  walk(folder);
  return found;
}

function displayPath(path: string): string {
  const local = relative(process.cwd(), path);
  return (local.startsWith('..') ? path : local).split(sep).join('/');
}
