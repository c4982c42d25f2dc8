import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PREPROCESSOR_CONFIG_FILE } from '../images/imageProcessorConfig';
import { SINGLE_FILE } from '../model/safetensors';
import type { CliIo } from './cliIo';

/** The files of an image run's checkpoint that make up the model: it is already the transformers folder the export is. */
const MODEL_FILES = ['config.json', SINGLE_FILE, PREPROCESSOR_CONFIG_FILE];

/**
 * `embedtune export` of an image-classification checkpoint: its transformers ResNetForImageClassification files,
 * without the optimizer state and trainer_state.json, which `transformers.pipeline("image-classification")` loads.
 */
export function exportImageCheckpoint(checkpoint: string, out: string, adapterOnly: boolean, io: CliIo): number {
  if (adapterOnly) {
    io.err(`embedtune export: ${checkpoint} is an image model, which trains no LoRA adapter; leave out --adapter-only.`);
    return 1;
  }
  const missing = MODEL_FILES.filter((file) => !existsSync(join(checkpoint, file)));
  if (missing.length > 0) {
    io.err(`embedtune export: ${checkpoint} lacks ${missing.join(', ')}, which an image checkpoint holds.`);
    return 1;
  }
  mkdirSync(out, { recursive: true });
  for (const file of MODEL_FILES) copyFileSync(join(checkpoint, file), join(out, file));
  io.err(`exported the image classifier of ${checkpoint} (transformers ResNetForImageClassification) → ${out}`);
  return 0;
}
