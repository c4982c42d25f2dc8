import type { ImageProcessorSettings, ResizeTarget } from './imageProcessorConfig';
import { pilResize } from './pilResample';
import { rgbImage, type RgbImage } from './rgbImage';

/**
 * An image turned into model input as transformers' PIL image processors do it: resize, center crop, rescale to
 * 0–1, normalize per channel. Steps run in that order and on the same 8-bit intermediate images, so the values match
 * `AutoImageProcessor` on the same pixels.
 */

/** NHWC is what tfjs convolutions take; NCHW is PyTorch's `pixel_values`. */
export type PixelLayout = 'NHWC' | 'NCHW';

export interface PixelValues {
  readonly height: number;
  readonly width: number;
  /** One image, channels last (height × width × 3) or first (3 × height × width). */
  readonly data: Float32Array;
  readonly layout: PixelLayout;
}

/** The 8-bit image after resizing and cropping, before rescaling: what a contact sheet shows as "cleaned". */
export function resizeAndCrop(image: RgbImage, settings: ImageProcessorSettings): RgbImage {
  let current = image;
  if (settings.resize) current = resizeStep(current, settings.resize, settings);
  if (settings.centerCrop) current = centerCrop(current, settings.centerCrop.height, settings.centerCrop.width);
  return current;
}

export function preprocessImage(image: RgbImage, settings: ImageProcessorSettings, layout: PixelLayout = 'NHWC'): PixelValues {
  return rescaleAndNormalize(resizeAndCrop(image, settings), settings, layout);
}

/** The last two steps alone, for an image already resized and cropped (and perhaps augmented). */
export function rescaleAndNormalize(cropped: RgbImage, settings: ImageProcessorSettings, layout: PixelLayout = 'NHWC'): PixelValues {
  const { width, height } = cropped;
  const data = new Float32Array(width * height * 3);
  for (let pixel = 0; pixel < width * height; pixel++) {
    for (let channel = 0; channel < 3; channel++) {
      let value = cropped.data[pixel * 3 + channel]!;
      // transformers rescales in float64 and stores float32, then normalizes the float32 values.
      if (settings.rescaleFactor !== undefined) value = Math.fround(value * settings.rescaleFactor);
      if (settings.normalize)
        value = (value - Math.fround(settings.normalize.mean[channel]!)) / Math.fround(settings.normalize.std[channel]!);
      data[layout === 'NHWC' ? pixel * 3 + channel : channel * width * height + pixel] = value;
    }
  }
  return { height, width, data, layout };
}

/** A batch of equally sized images as one [N, H, W, 3] (or [N, 3, H, W]) buffer. */
export function stackPixelValues(images: readonly PixelValues[]): { shape: [number, number, number, number]; data: Float32Array } {
  const first = images[0];
  if (!first) throw new Error('Cannot stack an empty batch of images.');
  const size = first.data.length;
  const data = new Float32Array(size * images.length);
  images.forEach((image, i) => {
    if (image.width !== first.width || image.height !== first.height || image.layout !== first.layout)
      throw new Error(
        `Image ${i} of the batch is ${image.width}×${image.height} (${image.layout}); image 0 is ${first.width}×${first.height} (${first.layout}).`,
      );
    data.set(image.data, i * size);
  });
  const shape: [number, number, number, number] =
    first.layout === 'NHWC' ? [images.length, first.height, first.width, 3] : [images.length, 3, first.height, first.width];
  return { shape, data };
}

function resizeStep(image: RgbImage, target: ResizeTarget, settings: ImageProcessorSettings): RgbImage {
  if ('height' in target) return pilResize(image, target.width, target.height, settings.filter);
  const edge = target.shortestEdge;
  if (settings.cropPct !== undefined) {
    // ConvNextImageProcessor: large sizes are resized to a square with no crop; smaller ones keep a margin to crop away.
    if (edge >= 384) return pilResize(image, edge, edge, settings.filter);
    const resized = resizeShortestEdge(image, Math.trunc(edge / settings.cropPct), settings);
    return centerCrop(resized, edge, edge);
  }
  return resizeShortestEdge(image, edge, settings);
}

/** transformers' get_resize_output_image_size with default_to_square=False: the long edge is truncated, not rounded. */
function resizeShortestEdge(image: RgbImage, edge: number, settings: ImageProcessorSettings): RgbImage {
  const short = Math.min(image.width, image.height);
  const long = Math.max(image.width, image.height);
  const newLong = Math.trunc((edge * long) / short);
  return image.width <= image.height ? pilResize(image, edge, newLong, settings.filter) : pilResize(image, newLong, edge, settings.filter);
}

/** transformers' center_crop: offsets round down, and an image smaller than the crop is zero-padded around its center. */
export function centerCrop(image: RgbImage, height: number, width: number): RgbImage {
  const paddedHeight = Math.max(height, image.height);
  const paddedWidth = Math.max(width, image.width);
  const padTop = Math.ceil((paddedHeight - image.height) / 2);
  const padLeft = Math.ceil((paddedWidth - image.width) / 2);
  const top = padTop + Math.floor((image.height - height) / 2);
  const left = padLeft + Math.floor((image.width - width) / 2);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sourceY = top + y - padTop;
    if (sourceY < 0 || sourceY >= image.height) continue;
    for (let x = 0; x < width; x++) {
      const sourceX = left + x - padLeft;
      if (sourceX < 0 || sourceX >= image.width) continue;
      out.set(image.data.subarray((sourceY * image.width + sourceX) * 3, (sourceY * image.width + sourceX) * 3 + 3), (y * width + x) * 3);
    }
  }
  return rgbImage(width, height, out);
}
