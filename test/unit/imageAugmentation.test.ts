import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adjustColor, type ColorAdjustment } from '../../src/trainer/images/colorJitter';
import { cropToBox } from '../../src/trainer/images/cropBox';
import { flipHorizontal, flipVertical } from '../../src/trainer/images/flipImage';
import { applyAugmentation, drawAugmentation, mixSeed, type ImageAugmentSettings } from '../../src/trainer/images/imageAugmentation';
import { randomResizedCropRegion, roundHalfEven } from '../../src/trainer/images/randomResizedCrop';
import { rgbImage } from '../../src/trainer/images/rgbImage';
import { rotateBilinear } from '../../src/trainer/images/rotateImage';

/*
 * References made with Pillow 13.0.0 from the 7×5 card below (bytes base64-encoded):
 *   im = Image.frombytes('RGB', (7, 5), card); im.rotate(a, resample=Image.BILINEAR).tobytes();
 *   ImageEnhance.Brightness|Contrast|Color(im).enhance(f).tobytes(); im.crop((-2, 1, 5, 7)).tobytes()
 * torchvision's RandomRotation and ColorJitter on PIL images call exactly these.
 */
const CARD =
  'AHPmA3bpBnnsCXzvDH/yD4L1EoX4ffBjgPNmg/ZphvlsifxvjP9yjwJ1+m3g/XDjAHPmA3bpBnnsCXzvDH/yd+pdeu1gffBjgPNmg/Zphvlsifxv9Gfa92rd+m3g/XDjAHPmA3bpBnns';
const PILLOW: Record<string, string> = {
  rot30:
    'AAAAAAAACXzvLaDObuGPa1SVAAAAAnXoFonZV8qadeh+N6q/Go3eW86eP7KlgPNmQbSnA3bpRLeqhfhrRrmsqsCQ64DRaJ+0beB2jMSUEoXVA3bpAAAAmsmAl8992JC+/G/iAAAAAAAA',
  'rot-12.5':
    'V8qKPbCoJZjIDYDnCn3wDYDzAAAA0Ze3uLaebtWGgvVucOOHWMumP27Gpb6LvaaqG47JA3bpIpXQQbS4YDmgxpisrbiTldd7ffBpZdiJTcCoNKfHAAAA+Gve+27hjnfeI5bGQ7auYdSU',
  rot45:
    'AAAAAAAAC37xVsmmZcOWC37xAAAAAAAABnnsUsWiYdSSB3rtYdSSUsWiAnXoTcCeXdCOA3bpXdCOTcCeA3bpSbyZpMyKaHHkWcyKs7yZSnLlAAAAAAAA+m3goMiGr7iV+m3gAAAAAAAA',
  rot90:
    'AAAAD4L1jP9yCXzvhvlsA3bpAAAAAAAADH/yifxvBnnsg/ZpAHPmAAAAAAAACXzvhvlsA3bpgPNm/XDjAAAAAAAABnnsg/ZpAHPmffBj+m3gAAAAAAAAA3bpgPNm/XDjeu1g92rdAAAA',
  'brightness1.3':
    'AJX/A5n/B53/C6H/D6X/E6n/F6z/ov+Apv+Eqv+Irv+Msv+Qtv+UuQKY/43//5H/AJX/A5n/B53/C6H/D6X/mv94nv98ov+Apv+Eqv+Irv+Msv+Q/4X//4n//43//5H/AJX/A5n/B53/',
  'contrast0.6':
    'On/EO4DFPYLHP4TJQYbLQ4jNRInOhcp1hst3iM15is96jNF8jtN+jzuA0HvA0X3COn/EO4DFPYLHP4TJQYbLgcZxg8hzhcp1hst3iM15is96jNF8zHe8znm+0HvA0X3COn/EO4DFPYLH',
  'contrast1.3':
    'AGr/AG3/AHH/AHX/AHn/AH3/AIH/d/9Vev9Zfv9dgv9ghv9kiv9ojgBs/2L3/2b7AGr/AG3/AHH/AHX/AHn/b/9Nc/9Rd/9Vev9Zfv9dgv9ghv9k/1rv/17z/2L3/2b7AGr/AG3/AHH/',
  'saturation0.6':
    'JWqvKG2yK3C1LnO4MXa7NHm+N3zBl9yHmt+KneKNoOWQo+iTpuuWbBhd14PI2obLJWqvKG2yK3C1LnO4MXa7kdaBlNmEl9yHmt+KneKNoOWQo+iT0X3C1IDF14PI2obLJWqvKG2yK3C1',
  'saturation1.3':
    'AHn/AHz/AH//AIL/AIX/AIj/AIv/af9HbP9Kb/9Ncv9Qdf9TeP9WqACH/1zy/1/1AHn/AHz/AH//AIL/AIX/Y/lBZvxEaf9HbP9Kb/9Ncv9Qdf9T/1bs/1nv/1zy/1/1AHn/AHz/AH//',
  crop: 'AAAAAAAAffBjgPNmg/ZphvlsifxvAAAAAAAA+m3g/XDjAHPmA3bpBnnsAAAAAAAAd+pdeu1gffBjgPNmg/ZpAAAAAAAA9Gfa92rd+m3g/XDjAHPmAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
};
const bytes = (base64: string) => Uint8Array.from(Buffer.from(base64, 'base64'));
const card = () => rgbImage(7, 5, bytes(CARD));

/** A width × height image whose pixel (x, y) is [x, y, 10x + y]. */
function grid(width: number, height: number) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 10 * x + y], (y * width + x) * 3);
  return rgbImage(width, height, data);
}
const pixelAt = (image: { width: number; data: Uint8Array }, x: number, y: number) => [
  ...image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3),
];

describe('flips', () => {
  it('mirror each pixel exactly and undo themselves', () => {
    const image = grid(4, 3);
    const h = flipHorizontal(image);
    const v = flipVertical(image);
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 4; x++) {
        assert.deepEqual(pixelAt(h, x, y), pixelAt(image, 3 - x, y));
        assert.deepEqual(pixelAt(v, x, y), pixelAt(image, x, 2 - y));
      }
    assert.deepEqual(flipHorizontal(h).data, image.data);
    assert.deepEqual(flipVertical(v).data, image.data);
  });
});

describe('rotation', () => {
  for (const degrees of [30, -12.5, 45, 90]) {
    it(`by ${degrees}° equals Pillow's rotate(resample=BILINEAR) byte for byte`, () => {
      assert.deepEqual(rotateBilinear(card(), degrees).data, bytes(PILLOW[`rot${degrees}`]!));
    });
  }

  it('by 0 and 360 is the image, by 180 the image turned exactly, by 90 on a square a transpose', () => {
    const image = grid(4, 4);
    assert.deepEqual(rotateBilinear(image, 0).data, image.data);
    assert.deepEqual(rotateBilinear(image, 360).data, image.data);
    assert.deepEqual(rotateBilinear(image, 180).data, flipVertical(flipHorizontal(image)).data);
    // Counter-clockwise: the top-right pixel moves to the top left.
    assert.deepEqual(pixelAt(rotateBilinear(image, 90), 0, 0), pixelAt(image, 3, 0));
  });
});

describe('color jitter', () => {
  for (const [adjustment, factor] of [
    ['brightness', 1.3],
    ['contrast', 0.6],
    ['contrast', 1.3],
    ['saturation', 0.6],
    ['saturation', 1.3],
  ] as [ColorAdjustment, number][]) {
    it(`${adjustment} ${factor} equals Pillow's ImageEnhance byte for byte`, () => {
      assert.deepEqual(adjustColor(card(), adjustment, factor).data, bytes(PILLOW[`${adjustment}${factor}`]!));
    });
  }

  it('leaves the image as it is at factor 1', () => {
    for (const adjustment of ['brightness', 'contrast', 'saturation'] as const)
      assert.deepEqual(adjustColor(card(), adjustment, 1).data, card().data);
  });
});

describe('crop box', () => {
  it("cuts [left, top, right, bottom] as PIL's Image.crop, black outside the image", () => {
    const cropped = cropToBox(card(), [-2, 1, 5, 7]);
    assert.deepEqual([cropped.width, cropped.height], [7, 6]);
    assert.deepEqual(cropped.data, bytes(PILLOW['crop']!));
  });

  it('keeps exactly the pixels inside the box', () => {
    const cropped = cropToBox(grid(10, 8), [2, 3, 6, 5]);
    assert.deepEqual([cropped.width, cropped.height], [4, 2]);
    assert.deepEqual(pixelAt(cropped, 0, 0), [2, 3, 23]);
    assert.deepEqual(pixelAt(cropped, 3, 1), [5, 4, 54]);
  });

  it('refuses an empty box', () => {
    assert.throws(() => cropToBox(card(), [3, 0, 3, 2]), /right > left/);
  });
});

describe('random resized crop', () => {
  const settings = { scale: [0.25, 0.5], ratio: [0.75, 4 / 3] } as const;

  it('picks regions inside the image with an area within scale and a ratio within ratio', () => {
    for (let seed = 0; seed < 200; seed++) {
      const random = drawRandom(seed);
      const region = randomResizedCropRegion(100, 80, settings, random);
      assert.ok(
        region.left >= 0 && region.top >= 0 && region.left + region.width <= 100 && region.top + region.height <= 80,
        JSON.stringify(region),
      );
      const area = (region.width * region.height) / 8000;
      assert.ok(area > 0.22 && area < 0.53, `area ${area}`);
      const ratio = region.width / region.height;
      assert.ok(ratio > 0.7 && ratio < 1.4, `ratio ${ratio}`);
    }
  });

  it("falls back to torchvision's central crop within ratio when no try fits", () => {
    // A 100×10 strip cannot hold a near-square region of 90% of its area.
    const region = randomResizedCropRegion(100, 10, { scale: [0.9, 1], ratio: [0.75, 4 / 3] }, drawRandom(1));
    assert.deepEqual(region, { left: 43, top: 0, width: 13, height: 10 });
  });

  it("rounds as Python's round()", () => {
    assert.deepEqual([0.5, 1.5, 2.5, 2.4, 2.6, 13.333].map(roundHalfEven), [0, 2, 2, 2, 3, 13]);
  });
});

function drawRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = mixSeed(state, 7);
    return state / 2 ** 32;
  };
}

describe('augmentation draws', () => {
  const all: ImageAugmentSettings = {
    horizontalFlip: 0.5,
    verticalFlip: 0.5,
    rotation: 15,
    randomResizedCrop: { scale: [0.08, 1], ratio: [0.75, 4 / 3] },
    colorJitter: { brightness: 0.2, contrast: 0.2, saturation: 0.2 },
  };
  const summary = (settings: ImageAugmentSettings, seed: number, epoch: number, index: number) => {
    const draw = drawAugmentation(settings, seed, epoch, index);
    return { ...draw, cropRegion: draw.cropRegion?.(64, 48) };
  };

  it('are a pure function of (seed, epoch, index)', () => {
    assert.deepEqual(summary(all, 42, 3, 17), summary(all, 42, 3, 17));
    assert.notDeepEqual(summary(all, 42, 3, 17), summary(all, 42, 4, 17));
    assert.notDeepEqual(summary(all, 42, 3, 17), summary(all, 42, 3, 18));
    assert.notDeepEqual(summary(all, 42, 3, 17), summary(all, 43, 3, 17));
    // Swapping epoch and index gives another draw.
    assert.notDeepEqual(summary(all, 42, 1, 2), summary(all, 42, 2, 1));
  });

  it('do not change when another operation is switched on or off', () => {
    const flipOnly: ImageAugmentSettings = { horizontalFlip: 0.5, verticalFlip: 0, rotation: 0 };
    for (let index = 0; index < 50; index++)
      assert.equal(drawAugmentation(flipOnly, 42, 0, index).flipHorizontal, drawAugmentation(all, 42, 0, index).flipHorizontal);
  });

  it('flip with the probability asked, rotate within ±rotation, and jitter within [1 − x, 1 + x]', () => {
    let flips = 0;
    const angles: number[] = [];
    for (let index = 0; index < 4000; index++) {
      const draw = drawAugmentation(all, 7, 0, index);
      if (draw.flipHorizontal) flips++;
      angles.push(draw.degrees);
      assert.equal(draw.colorSteps.length, 3);
      for (const step of draw.colorSteps) assert.ok(step.factor >= 0.8 && step.factor <= 1.2);
    }
    assert.ok(flips > 1850 && flips < 2150, `${flips} flips in 4000 at p = 0.5`);
    assert.ok(Math.min(...angles) >= -15 && Math.max(...angles) <= 15);
    assert.ok(Math.min(...angles) < -14 && Math.max(...angles) > 14, 'the whole range is drawn');
    const never = drawAugmentation({ horizontalFlip: 0, verticalFlip: 0, rotation: 0 }, 7, 0, 0);
    assert.deepEqual([never.flipHorizontal, never.flipVertical, never.degrees, never.colorSteps], [false, false, 0, []]);
  });

  it('apply flips, then rotation, then the color steps in their drawn order', () => {
    const image = card();
    const draw = { flipHorizontal: true, flipVertical: false, degrees: 30, colorSteps: [{ adjustment: 'contrast' as const, factor: 0.6 }] };
    assert.deepEqual(applyAugmentation(image, draw).data, adjustColor(rotateBilinear(flipHorizontal(image), 30), 'contrast', 0.6).data);
  });
});
