import type { ResolvedConfig } from '../../shared/config/configTypes';
import type { ImageExample } from '../data/imageDataExample';
import { cropToBox, type CropBox } from './cropBox';
import { decodeImageFile } from './decodeImage';
import { applyAugmentation, augmentsImages, drawAugmentation, type ImageAugmentSettings } from './imageAugmentation';
import type { ImageProcessorSettings } from './imageProcessorConfig';
import { imageSettingsFor, outputSizeOf } from './imageSettings';
import { pilResize } from './pilResample';
import { rescaleAndNormalize, resizeAndCrop, stackPixelValues } from './preprocessImage';
import type { RgbImage } from './rgbImage';

/**
 * Turns image examples into model input for an image-classification run: decode, `crop_box`, then either the
 * model's resize and center crop or (training, with random_resized_crop) a random region resized to the same size,
 * then the drawn flips, rotation and color jitter, then rescale and normalize, stacked NHWC.
 *
 * The deterministic part (decode, crop box, and resize and crop when no random crop follows; with random_resized_crop,
 * the decoded and boxed original that training crops from) is cached per file up to
 * a byte budget, since it is the same in every epoch and resizing a large photo costs more than the rest.
 */

export type PixelOptions = { readonly augment: false } | { readonly augment: true; readonly epoch: number; readonly seed: number };

export interface PixelBatch {
  readonly shape: [number, number, number, 3];
  /** NHWC, rescaled and normalized. */
  readonly data: Float32Array;
}

export interface ImagePipelineSettings {
  readonly processor: ImageProcessorSettings;
  readonly cropBox?: CropBox;
  readonly augment: ImageAugmentSettings;
  /** Bytes of decoded images kept between calls; 0 turns the cache off. */
  readonly cacheBytes?: number;
}

const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

export class ImagePipeline {
  /** Every image comes out this size. */
  readonly outputSize: { readonly height: number; readonly width: number };
  private readonly cache = new Map<string, RgbImage>();
  private cachedBytes = 0;

  constructor(readonly settings: ImagePipelineSettings) {
    const size = outputSizeOf(settings.processor);
    if (!size)
      throw new Error(
        'preprocess.image: a shortest_edge resize with no crop gives each image its own shape, which a batch cannot hold; set preprocess.image.crop (or size as a number or {height, width}).',
      );
    this.outputSize = size;
  }

  /** The pipeline of a resolved config, with the model folder's preprocessing for every key the config leaves out. */
  static fromConfig(config: ResolvedConfig, modelFolder: string): ImagePipeline {
    const { image, augment } = config.preprocess;
    return new ImagePipeline({
      processor: imageSettingsFor(image, modelFolder),
      ...(image.crop_box ? { cropBox: image.crop_box } : {}),
      augment: {
        horizontalFlip: augment.horizontal_flip,
        verticalFlip: augment.vertical_flip,
        rotation: augment.rotation,
        ...(augment.random_resized_crop ? { randomResizedCrop: augment.random_resized_crop } : {}),
        ...(augment.color_jitter ? { colorJitter: augment.color_jitter } : {}),
      },
    });
  }

  /** Whether `augment: true` changes anything. */
  get augments(): boolean {
    return augmentsImages(this.settings.augment);
  }

  /** The batch as [n, height, width, 3]; with `augment`, each image's draws follow (seed, epoch, example.index). */
  pixels(examples: readonly ImageExample[], options: PixelOptions): PixelBatch {
    if (examples.length === 0) throw new Error('Cannot preprocess an empty batch of images.');
    const images = examples.map((example) => this.modelImage(example, options));
    const stacked = stackPixelValues(images.map((image) => rescaleAndNormalize(image, this.settings.processor, 'NHWC')));
    const [n, height, width] = stacked.shape;
    return { shape: [n, height, width, 3], data: stacked.data };
  }

  /** The 8-bit image the model sees, before rescaling: cleaned, and augmented when asked. */
  modelImage(example: ImageExample, options: PixelOptions): RgbImage {
    if (!options.augment || !this.augments) return this.cleaned(example);
    const draw = drawAugmentation(this.settings.augment, options.seed, options.epoch, example.index);
    const base = draw.cropRegion ? this.randomCrop(this.cachedOriginal(example), draw.cropRegion) : this.cleaned(example);
    return applyAugmentation(base, draw);
  }

  /** The decoded file after crop_box, the "original" a contact sheet shows. */
  original(example: ImageExample): RgbImage {
    const decoded = decodeImageFile(example.image);
    return this.settings.cropBox ? cropToBox(decoded, this.settings.cropBox) : decoded;
  }

  /** Decoded, crop box, resize and center crop: what validation images look like. */
  cleaned(example: ImageExample): RgbImage {
    return this.cached(`cleaned:${example.image}`, () => resizeAndCrop(this.original(example), this.settings.processor));
  }

  /** The original, kept for the random crops of later epochs, which decoding again each epoch would dominate. */
  private cachedOriginal(example: ImageExample): RgbImage {
    return this.cached(`original:${example.image}`, () => this.original(example));
  }

  private cached(key: string, make: () => RgbImage): RgbImage {
    const hit = this.cache.get(key);
    if (hit) {
      // Re-inserted, so that eviction (oldest first in the Map's order) drops the least recently used.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const image = make();
    this.remember(key, image);
    return image;
  }

  /** A size × size picture of the cleaned image (Pillow bilinear), for the dashboard and the contact sheet. */
  thumbnail(example: ImageExample, size: number): RgbImage {
    return pilResize(this.cleaned(example), size, size, 'bilinear');
  }

  private randomCrop(
    image: RgbImage,
    region: (width: number, height: number) => { left: number; top: number; width: number; height: number },
  ): RgbImage {
    const { left, top, width, height } = region(image.width, image.height);
    const cropped = cropToBox(image, [left, top, left + width, top + height]);
    // Bilinear, as torchvision's RandomResizedCrop resizes by default (and the accelerate engine's transform with it).
    return pilResize(cropped, this.outputSize.width, this.outputSize.height, 'bilinear');
  }

  private remember(key: string, image: RgbImage): void {
    const budget = this.settings.cacheBytes ?? DEFAULT_CACHE_BYTES;
    if (image.data.length > budget) return;
    while (this.cachedBytes + image.data.length > budget) {
      const oldest = this.cache.keys().next().value as string;
      this.cachedBytes -= this.cache.get(oldest)!.data.length;
      this.cache.delete(oldest);
    }
    this.cache.set(key, image);
    this.cachedBytes += image.data.length;
  }
}
