/**
 * Parity of EmbedTune's image path with transformers on small random ResNets that transformers itself builds and
 * saves (test/parity/python/tiny_resnet.py: ResNetForImageClassification with "bottleneck" and "basic" layers, its
 * BatchNorm statistics redrawn) and on PNG and JPEG images that PIL writes in the modes datasets hold:
 * - our PNG decoding equals PIL's `convert("RGB")` byte for byte; our JPEG decoding is within a few levels of PIL's,
 *   except at colour edges of 4:2:0 JPEGs, whose chroma jpeg-js upsamples by repetition and libjpeg by interpolation;
 * - our preprocessing (from the folder's preprocessor_config.json: microsoft/resnet-50's, bicubic, and a bilinear
 *   variant) gives the pixel values of transformers' AutoImageProcessor on the same pixels;
 * - the pooled output and the logits of our forward pass are within 1e-4 of transformers' on those pixel values.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { decodeImageFile } from '../../src/trainer/images/decodeImage';
import { readImageProcessorSettings } from '../../src/trainer/images/imageProcessorConfig';
import { preprocessImage, stackPixelValues } from '../../src/trainer/images/preprocessImage';
import type { RgbImage } from '../../src/trainer/images/rgbImage';
import { loadResNetFolder } from '../../src/trainer/model/resnet/resnetFolder';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { PARITY_BACKEND } from './parityBackend';
import { maxAbsDifference, peersProblem, peerVersions, runReference } from './pythonPeers';

const TOLERANCE = 1e-4;
/** Pixel values are equal when the 8-bit images are; what is left is float32 rounding of (x/255 − mean)/std. */
const PIXEL_TOLERANCE = 1e-5;

/** microsoft/resnet-50's preprocessor_config.json, as published. */
const RESNET_50_PREPROCESSOR = {
  crop_pct: 0.875,
  do_normalize: true,
  do_resize: true,
  feature_extractor_type: 'ConvNextFeatureExtractor',
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
  resample: 3,
  size: 224,
};
const BILINEAR_PREPROCESSOR = {
  ...RESNET_50_PREPROCESSOR,
  image_processor_type: 'ConvNextImageProcessor',
  resample: 2,
  size: { shortest_edge: 160 },
  image_mean: [0.5, 0.4, 0.3],
  image_std: [0.2, 0.25, 0.3],
};

const IMAGES = [
  { name: 'photo-rgb', width: 320, height: 240, mode: 'RGB', format: 'png' },
  { name: 'portrait-gray', width: 150, height: 200, mode: 'L', format: 'png' },
  { name: 'small-rgba', width: 97, height: 131, mode: 'RGBA', format: 'png' },
  { name: 'palette', width: 260, height: 260, mode: 'P', format: 'png' },
  { name: 'photo-420', width: 320, height: 240, mode: 'RGB', format: 'jpg' },
  { name: 'photo-444', width: 320, height: 240, mode: 'RGB', format: 'jpg', subsampling: 0 },
  { name: 'gray', width: 200, height: 150, mode: 'L', format: 'jpg' },
];

const MODELS = {
  bottleneck: {
    config: { layer_type: 'bottleneck', embedding_size: 16, hidden_sizes: [32, 64, 96], depths: [2, 1, 2], num_labels: 4 },
    preprocessor: RESNET_50_PREPROCESSOR,
  },
  basic: {
    config: {
      layer_type: 'basic',
      embedding_size: 8,
      hidden_sizes: [8, 16, 24, 32],
      depths: [1, 2, 1, 1],
      num_labels: 3,
      downsample_in_first_stage: true,
    },
    preprocessor: BILINEAR_PREPROCESSOR,
  },
};

interface BuiltImage {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly pil_rgb: string;
}

interface ForwardAnswer {
  readonly processor_class: string;
  readonly pixel_values_shape: number[];
  readonly pooled: number[][];
  readonly logits: number[][];
}

describe('ResNet image classification matches transformers on small random checkpoints', { skip: peersProblem }, () => {
  const workspace = new TempWorkspace();
  let images: Record<string, BuiltImage> = {};
  let models: Record<string, string> = {};
  const decoded = new Map<string, RgbImage>();

  before(async () => {
    await selectBackend(PARITY_BACKEND);
    ({ images, models } = runReference<{ images: Record<string, BuiltImage>; models: Record<string, string> }>('tiny_resnet.py', {
      out: workspace.path('built'),
      seed: 17,
      images: IMAGES,
      models: MODELS,
    }));
    for (const spec of IMAGES) decoded.set(spec.name, decodeImageFile(images[spec.name]!.path));
  });
  after(() => workspace.dispose());

  it('decodes PNGs (RGB, grayscale, RGBA, palette) to exactly the RGB bytes PIL gives', () => {
    for (const spec of IMAGES.filter((image) => image.format === 'png')) {
      const ours = decoded.get(spec.name)!;
      const pil = images[spec.name]!;
      assert.deepEqual([ours.width, ours.height], [pil.width, pil.height], spec.name);
      const theirs = new Uint8Array(readFileSync(pil.pil_rgb));
      const differing = ours.data.findIndex((value, i) => value !== theirs[i]);
      assert.equal(differing, -1, `${spec.name}: byte ${differing} is ${ours.data[differing]} here and ${theirs[differing]} in PIL`);
    }
  });

  it('decodes JPEGs within 4 levels of PIL (libjpeg) where chroma is not subsampled, and close where it is', (t) => {
    for (const spec of IMAGES.filter((image) => image.format === 'jpg')) {
      const ours = decoded.get(spec.name)!;
      const theirs = new Uint8Array(readFileSync(images[spec.name]!.pil_rgb));
      assert.deepEqual([ours.width, ours.height], [spec.width, spec.height], spec.name);
      let worst = 0;
      let total = 0;
      ours.data.forEach((value, i) => {
        const difference = Math.abs(value - theirs[i]!);
        worst = Math.max(worst, difference);
        total += difference;
      });
      const mean = total / ours.data.length;
      t.diagnostic(`${spec.name}: largest difference from PIL ${worst} levels, mean ${mean.toFixed(3)}`);
      if (spec.name === 'photo-420') {
        // jpeg-js upsamples 4:2:0 chroma by repeating samples; libjpeg interpolates ("fancy upsampling"). Colours
        // differ at sharp colour edges only, so the mean stays small while single pixels can differ a lot.
        assert.ok(mean < 4, `${spec.name}: mean difference from PIL is ${mean} levels`);
      } else {
        // Both decoders use integer IDCTs and colour conversions that round differently.
        assert.ok(worst <= 4 && mean < 1, `${spec.name}: difference from PIL is ${worst} levels at most, ${mean} on average`);
      }
    }
  });

  for (const [name, spec] of Object.entries(MODELS)) {
    it(`${name} layers: preprocessing, pooled output and logits match transformers within ${TOLERANCE}`, (t) => {
      const folder = models[name]!;
      const rgbFiles = IMAGES.map((image) => {
        const rgb = decoded.get(image.name)!;
        workspace.write(`rgb/${image.name}.rgb`, '');
        writeFileSync(workspace.path(`rgb/${image.name}.rgb`), rgb.data);
        return { rgb: workspace.path(`rgb/${image.name}.rgb`), width: rgb.width, height: rgb.height };
      });
      const pixelValuesPath = workspace.path(`${name}.pixel-values.f32`);
      const python = runReference<ForwardAnswer>('resnet_forward.py', {
        model: folder,
        images: rgbFiles,
        pixel_values_out: pixelValuesPath,
      });

      const settings = readImageProcessorSettings(folder);
      const nchw = IMAGES.map((image) => preprocessImage(decoded.get(image.name)!, settings, 'NCHW'));
      const theirPixels = new Float32Array(readFileSync(pixelValuesPath).buffer.slice(0));
      const ourPixels = stackPixelValues(nchw);
      assert.deepEqual(ourPixels.shape, python.pixel_values_shape, 'the same pixel_values shape');
      const pixelGap = maxAbsDifference([ourPixels.data], [theirPixels]);

      const { model } = loadResNetFolder(folder);
      const batch = stackPixelValues(IMAGES.map((image) => preprocessImage(decoded.get(image.name)!, settings, 'NHWC')));
      const input = tf.tensor4d(batch.data, batch.shape);
      const outputs = model.forward(input);
      const pooled = outputs.pooled.arraySync();
      const logits = outputs.logits!.arraySync();
      tf.dispose([input, outputs.lastHiddenState, outputs.pooled, outputs.logits!]);
      model.dispose();

      const pooledGap = maxAbsDifference(pooled, python.pooled);
      const logitsGap = maxAbsDifference(logits, python.logits);
      t.diagnostic(
        `${name} (${spec.preprocessor.resample === 3 ? 'bicubic' : 'bilinear'}, ${python.processor_class}, ${PARITY_BACKEND}; ${peerVersions()}): ` +
          `pixel values ${pixelGap.value.toExponential(2)}, pooled ${pooledGap.value.toExponential(2)}, logits ${logitsGap.value.toExponential(2)}`,
      );
      assert.ok(
        pixelGap.value <= PIXEL_TOLERANCE,
        `pixel values differ by ${pixelGap.value} at image ${pixelGap.row}, index ${pixelGap.column}`,
      );
      assert.ok(
        pooledGap.value <= TOLERANCE,
        `pooled outputs differ by ${pooledGap.value} at image ${pooledGap.row}, feature ${pooledGap.column}`,
      );
      assert.ok(logitsGap.value <= TOLERANCE, `logits differ by ${logitsGap.value} at image ${logitsGap.row}, class ${logitsGap.column}`);
    });
  }
});
