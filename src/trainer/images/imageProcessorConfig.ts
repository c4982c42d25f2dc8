import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PIL_RESAMPLING_NUMBERS, type PilFilter } from './pilResample';

/**
 * What a model's `preprocessor_config.json` asks of its inputs, read as transformers' image processors read it:
 * `size` as `{shortest_edge}` or `{height, width}` (a bare number is the legacy form of either), ConvNeXT's
 * `crop_pct` (microsoft/resnet-50 uses ConvNextImageProcessor), `do_center_crop` with `crop_size`, `rescale_factor`,
 * and `image_mean` / `image_std`.
 */

export const PREPROCESSOR_CONFIG_FILE = 'preprocessor_config.json';

export type ResizeTarget = { readonly shortestEdge: number } | { readonly height: number; readonly width: number };

export interface ImageProcessorSettings {
  /** `undefined` when `do_resize` is false. */
  readonly resize: ResizeTarget | undefined;
  /** ConvNeXT's rule: below 384 pixels, resize the shortest edge to size / crop_pct, then center-crop to size × size. */
  readonly cropPct: number | undefined;
  readonly filter: PilFilter;
  /** `undefined` when `do_center_crop` is false or absent. */
  readonly centerCrop: { readonly height: number; readonly width: number } | undefined;
  /** `undefined` when `do_rescale` is false. */
  readonly rescaleFactor: number | undefined;
  /** `undefined` when `do_normalize` is false. */
  readonly normalize: { readonly mean: readonly [number, number, number]; readonly std: readonly [number, number, number] } | undefined;
}

/** transformers' IMAGENET_STANDARD_MEAN / _STD, the class defaults of ConvNeXT's and ViT's processors when the file omits them. */
const STANDARD_MEAN = [0.5, 0.5, 0.5] as const;
const STANDARD_STD = [0.5, 0.5, 0.5] as const;
const CONVNEXT_TYPES = ['ConvNextImageProcessor', 'ConvNextImageProcessorFast', 'ConvNextFeatureExtractor'];

type Json = Record<string, unknown>;

/** Reads `folder/preprocessor_config.json`; the error names the file and the key. */
export function readImageProcessorSettings(folder: string): ImageProcessorSettings {
  const path = join(folder, PREPROCESSOR_CONFIG_FILE);
  if (!existsSync(path)) throw new Error(`${path} does not exist; an image model needs it to know its input size and normalization.`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${path} is not a JSON object.`);
  return parseImageProcessorSettings(json as Json, path);
}

export function parseImageProcessorSettings(json: Json, source: string): ImageProcessorSettings {
  const fail = (key: string, problem: string) => new Error(`${source}: "${key}" ${problem}`);
  const processorType = String(json['image_processor_type'] ?? json['feature_extractor_type'] ?? '');
  const isConvNext = CONVNEXT_TYPES.includes(processorType);
  const flag = (key: string, fallback: boolean): boolean => {
    const value = json[key] ?? fallback;
    if (typeof value !== 'boolean') throw fail(key, `must be true or false, not ${JSON.stringify(value)}.`);
    return value;
  };
  const positive = (key: string, value: unknown): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      throw fail(key, `must be a positive number, not ${JSON.stringify(value)}.`);
    return value;
  };
  const triple = (key: string, fallback: readonly [number, number, number]): [number, number, number] => {
    const value = json[key] ?? fallback;
    const list = typeof value === 'number' ? [value, value, value] : value;
    if (!Array.isArray(list) || list.length !== 3 || !list.every((item) => typeof item === 'number' && Number.isFinite(item)))
      throw fail(key, `must be a number or a list of 3 numbers (one per RGB channel), not ${JSON.stringify(value)}.`);
    return list as [number, number, number];
  };

  const resampleNumber = json['resample'] ?? (isConvNext ? 3 : 2);
  const filter = typeof resampleNumber === 'number' ? PIL_RESAMPLING_NUMBERS[resampleNumber] : undefined;
  if (!filter) throw fail('resample', `is ${JSON.stringify(resampleNumber)}; EmbedTune resizes with 2 (bilinear) or 3 (bicubic).`);

  const std = triple('image_std', STANDARD_STD);
  if (flag('do_normalize', true) && std.some((value) => value === 0)) throw fail('image_std', 'must not contain 0.');
  return {
    resize: flag('do_resize', true) ? resizeTarget(json['size'], isConvNext, fail, positive) : undefined,
    cropPct: isConvNext ? positive('crop_pct', json['crop_pct'] ?? 224 / 256) : undefined,
    filter,
    centerCrop: flag('do_center_crop', false) ? heightWidth('crop_size', json['crop_size'] ?? 224, fail, positive) : undefined,
    rescaleFactor: flag('do_rescale', true) ? positive('rescale_factor', json['rescale_factor'] ?? 1 / 255) : undefined,
    normalize: flag('do_normalize', true) ? { mean: triple('image_mean', STANDARD_MEAN), std } : undefined,
  };
}

type Fail = (key: string, problem: string) => Error;
type Positive = (key: string, value: unknown) => number;

function resizeTarget(size: unknown, isConvNext: boolean, fail: Fail, positive: Positive): ResizeTarget {
  if (size === undefined) return isConvNext ? { shortestEdge: 384 } : { height: 224, width: 224 };
  // The legacy bare number means the shortest edge for ConvNeXT (default_to_square=False) and a square elsewhere.
  if (typeof size === 'number')
    return isConvNext ? { shortestEdge: integer('size', size, fail, positive) } : heightWidth('size', size, fail, positive);
  if (typeof size === 'object' && size !== null && 'shortest_edge' in size) {
    if ('longest_edge' in size) throw fail('size', 'has a longest_edge, which EmbedTune does not support yet.');
    return { shortestEdge: integer('size.shortest_edge', (size as Json)['shortest_edge'], fail, positive) };
  }
  return heightWidth('size', size, fail, positive);
}

function heightWidth(key: string, value: unknown, fail: Fail, positive: Positive): { height: number; width: number } {
  if (typeof value === 'number') {
    const side = integer(key, value, fail, positive);
    return { height: side, width: side };
  }
  if (typeof value !== 'object' || value === null || !('height' in value) || !('width' in value))
    throw fail(key, `must be a number, {"shortest_edge": n} or {"height": h, "width": w}, not ${JSON.stringify(value)}.`);
  return {
    height: integer(`${key}.height`, (value as Json)['height'], fail, positive),
    width: integer(`${key}.width`, (value as Json)['width'], fail, positive),
  };
}

function integer(key: string, value: unknown, fail: Fail, positive: Positive): number {
  const number = positive(key, value);
  if (!Number.isInteger(number)) throw fail(key, `must be a whole number of pixels, not ${number}.`);
  return number;
}
