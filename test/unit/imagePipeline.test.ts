import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { resolveConfig, type ImagePreprocessConfig, type AugmentConfig } from '../../src/shared/config/configTypes';
import type { ImageExample } from '../../src/trainer/data/imageDataExample';
import { cropToBox } from '../../src/trainer/images/cropBox';
import { decodeImageFile } from '../../src/trainer/images/decodeImage';
import { flipHorizontal } from '../../src/trainer/images/flipImage';
import { drawAugmentation } from '../../src/trainer/images/imageAugmentation';
import { parseImageProcessorSettings } from '../../src/trainer/images/imageProcessorConfig';
import { ImagePipeline } from '../../src/trainer/images/imagePipeline';
import { imageSettingsFor } from '../../src/trainer/images/imageSettings';
import { pilResize } from '../../src/trainer/images/pilResample';
import { preprocessImage } from '../../src/trainer/images/preprocessImage';
import { jpegBytes, pngBytes, writeBytes } from '../helpers/imageFiles';
import { TempWorkspace } from '../helpers/tempWorkspace';

/*
 * The ImagePipeline of an image-classification run: the model's preprocessor_config.json for every key the config
 * leaves out, crop_box first, normalization, and the training-only augmentations drawn by (seed, epoch, index).
 */

const workspace = new TempWorkspace();
after(() => workspace.dispose());

const PROCESSOR = {
  image_processor_type: 'ViTImageProcessor',
  do_resize: true,
  size: { height: 4, width: 6 },
  resample: 2,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.1, 0.2, 0.3],
  image_std: [0.5, 0.25, 0.125],
};
const model = workspace.path('model');
writeBytes(`${model}/preprocessor_config.json`, JSON.stringify(PROCESSOR));
const files = [writeBytes(workspace.path('img/a.png'), pngBytes(9, 7, 1)), writeBytes(workspace.path('img/b.jpg'), jpegBytes(9, 7, 2))];
const examples: ImageExample[] = files.map((image, index) => ({ image, label: 'x', source: image, index }));

function pipeline(image: ImagePreprocessConfig = {}, augment: AugmentConfig = {}): ImagePipeline {
  return ImagePipeline.fromConfig(
    resolveConfig({ task: 'image-classification', model: { base: model }, data: { train: 't' }, preprocess: { image, augment } }),
    model,
  );
}

describe('ImagePipeline without augmentation', () => {
  it("normalizes with the model's preprocessor_config.json when the config writes nothing", () => {
    const batch = pipeline().pixels(examples, { augment: false });
    assert.deepEqual(batch.shape, [2, 4, 6, 3]);
    const settings = parseImageProcessorSettings(PROCESSOR, 'p');
    for (const [i, file] of files.entries()) {
      const expected = preprocessImage(decodeImageFile(file), settings, 'NHWC').data;
      assert.deepEqual(batch.data.subarray(i * 72, (i + 1) * 72), expected);
    }
    // The mean and std are the file's: the first value is (byte / 255 - 0.1) / 0.5.
    const first = preprocessImage(decodeImageFile(files[0]!), { ...settings, normalize: undefined }, 'NHWC').data[0]!;
    assert.ok(Math.abs(batch.data[0]! - (first - 0.1) / 0.5) < 1e-6);
  });

  it('takes size, crop, mean and std from the config where written', () => {
    const batch = pipeline({ size: 5, crop: { height: 3, width: 4 }, mean: [0.5, 0.5, 0.5], std: [1, 1, 1] }).pixels(examples, {
      augment: false,
    });
    assert.deepEqual(batch.shape, [2, 3, 4, 3]);
    const settings = {
      ...parseImageProcessorSettings(PROCESSOR, 'p'),
      resize: { height: 5, width: 5 },
      centerCrop: { height: 3, width: 4 },
    };
    const expected = preprocessImage(
      decodeImageFile(files[0]!),
      { ...settings, normalize: { mean: [0.5, 0.5, 0.5], std: [1, 1, 1] } },
      'NHWC',
    );
    assert.deepEqual(batch.data.subarray(0, 36), expected.data);
  });

  it('cuts crop_box out of the original before resizing', () => {
    const batch = pipeline({ crop_box: [2, 1, 8, 5] }).pixels(examples.slice(0, 1), { augment: false });
    const boxed = cropToBox(decodeImageFile(files[0]!), [2, 1, 8, 5]);
    // The box is 6×4, the model's size: no resampling, so the pixels are the box's own.
    const expected = preprocessImage(boxed, parseImageProcessorSettings(PROCESSOR, 'p'), 'NHWC');
    assert.deepEqual(batch.data, expected.data);
    const unboxed = pipeline().pixels(examples.slice(0, 1), { augment: false });
    assert.notDeepEqual(batch.data, unboxed.data);
  });

  it('makes thumbnails of the cleaned image, and refuses a shortest-edge resize with no crop', () => {
    const thumbnail = pipeline().thumbnail(examples[0]!, 48);
    assert.deepEqual([thumbnail.width, thumbnail.height, thumbnail.data.length], [48, 48, 48 * 48 * 3]);
    assert.throws(() => pipeline({ size: { shortest_edge: 4 }, crop: false }), /shortest_edge resize with no crop/);
  });
});

describe('ImagePipeline with augmentation', () => {
  it('flips every image at horizontal_flip: 1, and only when augmenting', () => {
    const flipping = pipeline({}, { horizontal_flip: 1 });
    const plain = pipeline();
    const validation = flipping.pixels(examples, { augment: false });
    assert.deepEqual(validation.data, plain.pixels(examples, { augment: false }).data);
    const settings = parseImageProcessorSettings(PROCESSOR, 'p');
    const augmented = flipping.pixels(examples.slice(0, 1), { augment: true, epoch: 0, seed: 1 });
    const cleaned = flipping.modelImage(examples[0]!, { augment: false });
    assert.deepEqual(augmented.data, preprocessImage(flipHorizontal(cleaned), settings, 'NHWC').data);
  });

  it("cuts random_resized_crop's drawn region from the original and resizes it bilinearly to the model's size", () => {
    // The model resizes bicubically; the random crop still resizes bilinearly, as torchvision's default.
    const bicubic = workspace.path('model-bicubic');
    writeBytes(`${bicubic}/preprocessor_config.json`, JSON.stringify({ ...PROCESSOR, resample: 3 }));
    const cropping = ImagePipeline.fromConfig(
      resolveConfig({
        task: 'image-classification',
        model: { base: bicubic },
        data: { train: 't' },
        preprocess: { augment: { random_resized_crop: { scale: [0.3, 0.6] } } },
      }),
      bicubic,
    );
    assert.equal(cropping.settings.processor.filter, 'bicubic');
    const example = examples[0]!;
    const original = decodeImageFile(example.image);
    const region = drawAugmentation(cropping.settings.augment, 3, 2, example.index).cropRegion!(original.width, original.height);
    const expected = pilResize(
      cropToBox(original, [region.left, region.top, region.left + region.width, region.top + region.height]),
      6,
      4,
      'bilinear',
    );
    assert.deepEqual(cropping.modelImage(example, { augment: true, epoch: 2, seed: 3 }).data, expected.data);
    assert.ok(region.width * region.height < original.width * original.height * 0.7);
  });

  it('draws the same augmentation for the same (seed, epoch, index), whatever the batch, and new ones each epoch', () => {
    const augmenting = pipeline({}, { rotation: 30, color_jitter: { brightness: 0.3 }, random_resized_crop: { scale: [0.3, 1] } });
    const epoch0 = augmenting.pixels(examples, { augment: true, epoch: 0, seed: 5 });
    assert.deepEqual(epoch0.shape, [2, 4, 6, 3]);
    const again = pipeline({}, { rotation: 30, color_jitter: { brightness: 0.3 }, random_resized_crop: { scale: [0.3, 1] } });
    assert.deepEqual(again.pixels([examples[1]!], { augment: true, epoch: 0, seed: 5 }).data, epoch0.data.subarray(72));
    assert.notDeepEqual(augmenting.pixels(examples, { augment: true, epoch: 1, seed: 5 }).data, epoch0.data);
    assert.notDeepEqual(augmenting.pixels(examples, { augment: true, epoch: 0, seed: 6 }).data, epoch0.data);
  });
});

describe('the ImagePipeline cache', () => {
  it('keeps decoded images for later epochs, and names the file when one can no longer be decoded', () => {
    const path = writeBytes(workspace.path('cache/c.png'), pngBytes(9, 7, 4));
    const example: ImageExample = { image: path, label: 'x', source: path, index: 0 };
    const augment = { random_resized_crop: {}, horizontal_flip: 0.5 };
    const cached = pipeline({}, augment);
    const uncached = new ImagePipeline({ ...cached.settings, cacheBytes: 0 });
    const first = cached.pixels([example], { augment: true, epoch: 0, seed: 1 });
    assert.deepEqual(uncached.pixels([example], { augment: true, epoch: 0, seed: 1 }).data, first.data);
    cached.pixels([example], { augment: false });
    writeBytes(path, '');
    assert.deepEqual(cached.pixels([example], { augment: true, epoch: 0, seed: 1 }).data, first.data);
    cached.pixels([example], { augment: false });
    assert.throws(() => uncached.pixels([example], { augment: false }), /c\.png: is empty \(0 bytes\)/);
  });
});

describe('image settings of a model folder', () => {
  it("reads a timm folder's pretrained_cfg as timm's eval transform does", () => {
    const timm = workspace.path('timm');
    writeBytes(
      `${timm}/config.json`,
      JSON.stringify({
        architecture: 'resnet50',
        pretrained_cfg: {
          input_size: [3, 224, 224],
          interpolation: 'bicubic',
          crop_pct: 0.95,
          mean: [0.485, 0.456, 0.406],
          std: [0.229, 0.224, 0.225],
        },
      }),
    );
    assert.deepEqual(imageSettingsFor({}, timm), {
      resize: { shortestEdge: 235 },
      cropPct: undefined,
      filter: 'bicubic',
      centerCrop: { height: 224, width: 224 },
      rescaleFactor: 1 / 255,
      normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    });
  });

  it('needs size, mean and std in the config when the folder says nothing, and says so', () => {
    const bare = workspace.path('bare');
    writeBytes(`${bare}/config.json`, '{"model_type": "resnet"}');
    assert.throws(() => imageSettingsFor({}, bare), /preprocessor_config\.json does not exist.*write preprocess\.image size, mean and std/);
    const written = imageSettingsFor({ size: 8, mean: [0.4, 0.4, 0.4], std: [0.2, 0.2, 0.2] }, bare);
    assert.deepEqual(written.resize, { height: 8, width: 8 });
    assert.deepEqual(written.normalize, { mean: [0.4, 0.4, 0.4], std: [0.2, 0.2, 0.2] });
  });

  it("drops ConvNeXT's crop_pct rule when the config writes a size", () => {
    const convnext = workspace.path('convnext');
    writeBytes(
      `${convnext}/preprocessor_config.json`,
      JSON.stringify({ image_processor_type: 'ConvNextImageProcessor', size: { shortest_edge: 224 } }),
    );
    assert.equal(imageSettingsFor({}, convnext).cropPct, 0.875);
    assert.equal(imageSettingsFor({ size: 200 }, convnext).cropPct, undefined);
  });
});
