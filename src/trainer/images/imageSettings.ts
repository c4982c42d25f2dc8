import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImagePreprocessConfig } from '../../shared/config/configTypes';
import {
  PREPROCESSOR_CONFIG_FILE,
  readImageProcessorSettings,
  type ImageProcessorSettings,
  type ResizeTarget,
} from './imageProcessorConfig';
import type { PilFilter } from './pilResample';

/**
 * The image preprocessing of a run: `preprocess.image` where the config writes it, the model's own settings for the
 * rest. The model's are read from its preprocessor_config.json (transformers' folders), or, for a timm folder that
 * has none, from config.json's `pretrained_cfg` as timm's eval transform uses it.
 */

/** ImageNet's, which timm's ResNets use and transformers' AutoImageProcessor writes for microsoft/resnet-50. */
const TIMM_DEFAULT_MEAN = [0.485, 0.456, 0.406] as const;
const TIMM_DEFAULT_STD = [0.229, 0.224, 0.225] as const;

export function imageSettingsFor(written: ImagePreprocessConfig, modelFolder: string): ImageProcessorSettings {
  return withWrittenSettings(modelImageSettings(written, modelFolder), written);
}

/** The written keys over the model's settings. A written size is a plain resize: ConvNeXT's crop_pct rule no longer applies. */
export function withWrittenSettings(model: ImageProcessorSettings, written: ImagePreprocessConfig): ImageProcessorSettings {
  const normalize =
    written.mean || written.std
      ? { mean: written.mean ?? model.normalize?.mean ?? TIMM_DEFAULT_MEAN, std: written.std ?? model.normalize?.std ?? TIMM_DEFAULT_STD }
      : model.normalize;
  return {
    ...model,
    ...(written.size !== undefined ? { resize: resizeTarget(written.size), cropPct: undefined } : {}),
    ...(written.crop !== undefined ? { centerCrop: written.crop === false ? undefined : square(written.crop) } : {}),
    normalize,
  };
}

function modelImageSettings(written: ImagePreprocessConfig, folder: string): ImageProcessorSettings {
  if (existsSync(join(folder, PREPROCESSOR_CONFIG_FILE))) return readImageProcessorSettings(folder);
  const timm = timmSettings(folder);
  if (timm) return timm;
  if (written.size !== undefined && written.mean && written.std)
    return {
      resize: resizeTarget(written.size),
      cropPct: undefined,
      filter: 'bilinear',
      centerCrop: undefined,
      rescaleFactor: 1 / 255,
      normalize: undefined,
    };
  throw new Error(
    `${join(folder, PREPROCESSOR_CONFIG_FILE)} does not exist, and config.json has no timm pretrained_cfg: write preprocess.image size, mean and std in the config, or add the model's ${PREPROCESSOR_CONFIG_FILE}.`,
  );
}

/** timm's eval transform: resize the shortest edge to floor(size / crop_pct), center-crop to size, normalize. */
function timmSettings(folder: string): ImageProcessorSettings | undefined {
  let cfg: Record<string, unknown>;
  try {
    const json = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { pretrained_cfg?: unknown };
    if (typeof json.pretrained_cfg !== 'object' || json.pretrained_cfg === null) return undefined;
    cfg = json.pretrained_cfg as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const inputSize = Array.isArray(cfg['input_size']) ? (cfg['input_size'] as unknown[]) : [3, 224, 224];
  const height = typeof inputSize[1] === 'number' ? inputSize[1] : 224;
  const width = typeof inputSize[2] === 'number' ? inputSize[2] : height;
  const cropPct = typeof cfg['crop_pct'] === 'number' && cfg['crop_pct'] > 0 ? cfg['crop_pct'] : 0.875;
  const filter: PilFilter = cfg['interpolation'] === 'bilinear' ? 'bilinear' : 'bicubic';
  const triple = (value: unknown, fallback: readonly [number, number, number]) =>
    Array.isArray(value) && value.length === 3 && value.every((item) => typeof item === 'number')
      ? (value as [number, number, number])
      : fallback;
  return {
    resize: { shortestEdge: Math.floor(Math.min(height, width) / cropPct) },
    cropPct: undefined,
    filter,
    centerCrop: { height, width },
    rescaleFactor: 1 / 255,
    normalize: { mean: triple(cfg['mean'], TIMM_DEFAULT_MEAN), std: triple(cfg['std'], TIMM_DEFAULT_STD) },
  };
}

function resizeTarget(size: NonNullable<ImagePreprocessConfig['size']>): ResizeTarget {
  if (typeof size === 'object' && 'shortest_edge' in size) return { shortestEdge: size.shortest_edge };
  return square(size);
}

function square(size: number | { height: number; width: number }): { height: number; width: number } {
  return typeof size === 'number' ? { height: size, width: size } : { height: size.height, width: size.width };
}

/**
 * The size every preprocessed image has, or undefined when it follows each image's aspect ratio (a shortest-edge
 * resize with no crop), which a batch cannot stack.
 */
export function outputSizeOf(settings: ImageProcessorSettings): { height: number; width: number } | undefined {
  if (settings.centerCrop) return settings.centerCrop;
  const resize = settings.resize;
  if (!resize) return undefined;
  if ('height' in resize) return resize;
  // ConvNeXT's rule crops the shortest-edge resize to a square of that edge.
  return settings.cropPct !== undefined ? { height: resize.shortestEdge, width: resize.shortestEdge } : undefined;
}
