import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseImageProcessorSettings } from '../../src/trainer/images/imageProcessorConfig';
import { pilResize } from '../../src/trainer/images/pilResample';
import { centerCrop, preprocessImage, resizeAndCrop, stackPixelValues } from '../../src/trainer/images/preprocessImage';
import { rgbImage, type RgbImage } from '../../src/trainer/images/rgbImage';

/** A 7×5 test card with distinct values per pixel and channel (the same one the Pillow references below were made from). */
function card(): RgbImage {
  const data = new Uint8Array(7 * 5 * 3);
  for (let y = 0; y < 5; y++)
    for (let x = 0; x < 7; x++) for (let c = 0; c < 3; c++) data[(y * 7 + x) * 3 + c] = (x * 53 + y * 29 + c * 71) % 256;
  return rgbImage(7, 5, data);
}

// Pillow 13.0.0: np.asarray(Image.fromarray(card).resize((w, h), resample)).flatten().
const PILLOW_REFERENCES = [
  {
    width: 3,
    height: 2,
    filter: 'bilinear',
    bytes: [74, 143, 174, 157, 109, 107, 85, 117, 163, 132, 164, 111, 140, 92, 131, 106, 175, 123],
  },
  {
    width: 3,
    height: 2,
    filter: 'bicubic',
    bytes: [66, 143, 182, 167, 110, 100, 81, 111, 167, 138, 168, 105, 139, 82, 135, 106, 183, 120],
  },
  {
    width: 7,
    height: 3,
    filter: 'bilinear',
    bytes: [
      12, 83, 154, 65, 136, 207, 118, 189, 151, 171, 133, 57, 224, 39, 110, 21, 92, 163, 74, 145, 216, 58, 129, 200, 111, 182, 196, 164,
      178, 50, 217, 32, 103, 71, 85, 156, 67, 138, 209, 120, 191, 63, 104, 175, 99, 157, 228, 43, 210, 25, 96, 116, 78, 149, 60, 131, 202,
      113, 184, 108, 166, 237, 52,
    ],
  },
] as const;

const RESNET_50 = {
  crop_pct: 0.875,
  do_normalize: true,
  do_resize: true,
  feature_extractor_type: 'ConvNextFeatureExtractor',
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
  resample: 3,
  size: 224,
};

describe('image preprocessing as transformers does it', () => {
  for (const reference of PILLOW_REFERENCES) {
    it(`resizes 7×5 to ${reference.width}×${reference.height} (${reference.filter}) to exactly Pillow's bytes`, () => {
      const resized = pilResize(card(), reference.width, reference.height, reference.filter);
      assert.deepEqual([...resized.data], [...reference.bytes]);
    });
  }

  it("reads microsoft/resnet-50's preprocessor_config.json as ConvNextImageProcessor does", () => {
    const settings = parseImageProcessorSettings(RESNET_50, 'preprocessor_config.json');
    assert.deepEqual(settings, {
      resize: { shortestEdge: 224 },
      cropPct: 0.875,
      filter: 'bicubic',
      centerCrop: undefined,
      rescaleFactor: 1 / 255,
      normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    });
  });

  it('resizes the shortest edge to size / crop_pct (truncating the long edge), then center-crops size × size', () => {
    const settings = parseImageProcessorSettings(RESNET_50, 'p.json');
    const landscape = rgbImage(320, 240, new Uint8Array(320 * 240 * 3).fill(7));
    const pixels = preprocessImage(landscape, settings);
    assert.deepEqual([pixels.width, pixels.height, pixels.data.length], [224, 224, 224 * 224 * 3]);
    // 7/255 normalized with channel 0's statistics.
    assert.ok(Math.abs(pixels.data[0]! - (7 / 255 - 0.485) / 0.229) < 1e-6);
  });

  it('resizes to a square without cropping when ConvNeXT size is 384 or more', () => {
    const settings = parseImageProcessorSettings({ ...RESNET_50, size: { shortest_edge: 384 } }, 'p.json');
    const cleaned = resizeAndCrop(rgbImage(500, 100, new Uint8Array(500 * 100 * 3)), settings);
    assert.deepEqual([cleaned.width, cleaned.height], [384, 384]);
  });

  it('takes {height, width} and do_center_crop with crop_size, as ViT-style processors do', () => {
    const settings = parseImageProcessorSettings(
      {
        image_processor_type: 'ViTImageProcessor',
        size: { height: 10, width: 8 },
        do_center_crop: true,
        crop_size: { height: 6, width: 4 },
        resample: 2,
      },
      'p.json',
    );
    const cleaned = resizeAndCrop(card(), settings);
    assert.deepEqual([cleaned.width, cleaned.height], [4, 6]);
  });

  it('center-crops with offsets rounded down, and pads a too-small image with zeros around its center', () => {
    const cropped = centerCrop(card(), 2, 4);
    // top = (5 - 2) // 2 = 1, left = (7 - 4) // 2 = 1.
    assert.deepEqual([...cropped.data.subarray(0, 3)], [...card().data.subarray((1 * 7 + 1) * 3, (1 * 7 + 1) * 3 + 3)]);
    const padded = centerCrop(card(), 7, 9);
    // ceil((9 - 7) / 2) = 1 column and ceil((7 - 5) / 2) = 1 row of zeros before the image.
    assert.deepEqual([...padded.data.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...padded.data.subarray((1 * 9 + 1) * 3, (1 * 9 + 1) * 3 + 3)], [...card().data.subarray(0, 3)]);
  });

  it('lays out pixels channels-last for tfjs and channels-first like PyTorch, and stacks a batch', () => {
    const settings = parseImageProcessorSettings({ do_resize: false, do_normalize: false }, 'p.json');
    const nhwc = preprocessImage(card(), settings, 'NHWC');
    const nchw = preprocessImage(card(), settings, 'NCHW');
    const pixel = 1 * 7 + 2;
    for (let channel = 0; channel < 3; channel++) {
      assert.equal(nhwc.data[pixel * 3 + channel], Math.fround(card().data[pixel * 3 + channel]! / 255));
      assert.equal(nchw.data[channel * 35 + pixel], nhwc.data[pixel * 3 + channel]);
    }
    assert.deepEqual(stackPixelValues([nchw, nchw]).shape, [2, 3, 5, 7]);
    assert.deepEqual(stackPixelValues([nhwc]).shape, [1, 5, 7, 3]);
    // Omitted statistics are transformers' class defaults (IMAGENET_STANDARD_*), not ImageNet's.
    assert.deepEqual(parseImageProcessorSettings({}, 'p.json').normalize, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    assert.throws(() => stackPixelValues([nhwc, nchw]), /image 0 is 7×5 \(NHWC\)/);
  });

  it('names the file and key of a setting it cannot use', () => {
    assert.throws(() => parseImageProcessorSettings({ ...RESNET_50, resample: 0 }, '/m/preprocessor_config.json'), {
      message: '/m/preprocessor_config.json: "resample" is 0; EmbedTune resizes with 2 (bilinear) or 3 (bicubic).',
    });
    assert.throws(
      () => parseImageProcessorSettings({ ...RESNET_50, image_std: [0.2, 0.2] }, 'p.json'),
      /"image_std" must be a number or a list of 3 numbers/,
    );
    assert.throws(
      () => parseImageProcessorSettings({ ...RESNET_50, size: { shortest_edge: 0 } }, 'p.json'),
      /"size.shortest_edge" must be a positive number/,
    );
    assert.throws(
      () => parseImageProcessorSettings({ ...RESNET_50, do_normalize: 'yes' }, 'p.json'),
      /"do_normalize" must be true or false/,
    );
  });
});
