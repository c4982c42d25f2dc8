import { createRandom } from '../data/seededRandom';
import { adjustColor, type ColorAdjustment } from './colorJitter';
import { flipHorizontal, flipVertical } from './flipImage';
import { randomResizedCropRegion, type CropRegion, type RandomResizedCropSettings } from './randomResizedCrop';
import type { RgbImage } from './rgbImage';
import { rotateBilinear } from './rotateImage';

/**
 * The image augmentations of `preprocess.augment`, drawn per image as a pure function of (seed, epoch, index): each
 * operation has a random stream of its own, so turning one on or off does not change what the others draw, and a
 * resumed run draws what the interrupted one would have.
 */

export interface ImageAugmentSettings {
  /** Probabilities, 0 for off. */
  readonly horizontalFlip: number;
  readonly verticalFlip: number;
  /** Largest angle either way, in degrees; 0 for off. */
  readonly rotation: number;
  readonly randomResizedCrop?: RandomResizedCropSettings;
  readonly colorJitter?: { readonly brightness: number; readonly contrast: number; readonly saturation: number };
}

/** What was drawn for one image in one epoch. */
export interface AugmentDraw {
  readonly flipHorizontal: boolean;
  readonly flipVertical: boolean;
  /** Counter-clockwise degrees; 0 for none. */
  readonly degrees: number;
  /** The region of an image of the given size that random_resized_crop cuts; undefined when it is off. */
  readonly cropRegion?: (width: number, height: number) => CropRegion;
  /** The color adjustments in the order they apply, each with its factor. */
  readonly colorSteps: readonly { readonly adjustment: ColorAdjustment; readonly factor: number }[];
}

/** One stream per operation, numbered so that adding an operation later keeps the others' draws. */
const STREAM = { horizontalFlip: 1, verticalFlip: 2, rotation: 3, randomResizedCrop: 4, colorJitter: 5 } as const;

export function augmentsImages(settings: ImageAugmentSettings): boolean {
  const jitter = settings.colorJitter;
  return (
    settings.horizontalFlip > 0 ||
    settings.verticalFlip > 0 ||
    settings.rotation > 0 ||
    settings.randomResizedCrop !== undefined ||
    (jitter !== undefined && (jitter.brightness > 0 || jitter.contrast > 0 || jitter.saturation > 0))
  );
}

export function drawAugmentation(settings: ImageAugmentSettings, seed: number, epoch: number, index: number): AugmentDraw {
  const stream = (operation: keyof typeof STREAM) => createRandom(mixSeed(seed, epoch, index, STREAM[operation]));
  const rrc = settings.randomResizedCrop;
  return {
    // torchvision flips when torch.rand(1) < p.
    flipHorizontal: settings.horizontalFlip > 0 && stream('horizontalFlip')() < settings.horizontalFlip,
    flipVertical: settings.verticalFlip > 0 && stream('verticalFlip')() < settings.verticalFlip,
    degrees: settings.rotation > 0 ? -settings.rotation + 2 * settings.rotation * stream('rotation')() : 0,
    ...(rrc
      ? { cropRegion: (width: number, height: number) => randomResizedCropRegion(width, height, rrc, stream('randomResizedCrop')) }
      : {}),
    colorSteps: settings.colorJitter ? colorSteps(settings.colorJitter, stream('colorJitter')) : [],
  };
}

/** torchvision's ColorJitter: each factor uniform in [max(0, 1 − x), 1 + x], the adjustments in a random order. */
function colorSteps(jitter: NonNullable<ImageAugmentSettings['colorJitter']>, random: () => number): AugmentDraw['colorSteps'] {
  const order: ColorAdjustment[] = ['brightness', 'contrast', 'saturation'];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.flatMap((adjustment) => {
    const amount = jitter[adjustment];
    if (amount <= 0) return [];
    const low = Math.max(0, 1 - amount);
    return [{ adjustment, factor: low + (1 + amount - low) * random() }];
  });
}

/** Flips, rotation and color jitter of a drawn augmentation, in torchvision's usual order (the crop comes before). */
export function applyAugmentation(image: RgbImage, draw: AugmentDraw): RgbImage {
  let current = image;
  if (draw.flipHorizontal) current = flipHorizontal(current);
  if (draw.flipVertical) current = flipVertical(current);
  if (draw.degrees !== 0) current = rotateBilinear(current, draw.degrees);
  for (const step of draw.colorSteps) current = adjustColor(current, step.adjustment, step.factor);
  return current;
}

/**
 * A 32-bit seed from (seed, epoch, index, stream), each word mixed in with murmur3's steps, so that nearby tuples
 * such as (epoch 1, index 2) and (epoch 2, index 1) get unrelated streams.
 */
export function mixSeed(...words: number[]): number {
  let hash = 0x2545f491;
  for (const word of words) {
    let k = Math.imul(word >>> 0, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    hash ^= k;
    hash = Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64;
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}
