/**
 * A 4-class, imbalanced ImageFolder from Fashion-MNIST (Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist,
 * IDX files, MIT licence), for the image real-data check (issue 17, bench/realImages/realImagesReport.ts).
 *
 * The seed's case is defect detection with 4 imbalanced classes. The four upper-body garments stand in for it: they are
 * the dataset's most confusable classes (a shirt looks like a T-shirt, a coat like a pullover), so the scores are not
 * at ceiling after a few epochs and the imbalance matters. Counts fall by half and more, the rarest (shirt, the hardest
 * class) last; the validation split is drawn from t10k in the same proportions.
 *
 * Each 28×28 grayscale image is zero-padded by 2 pixels to 32×32 and written as an RGB PNG (gray in every channel):
 * - padding, not resizing: the pixels stay exactly as shipped, the background is already black, and the model's
 *   preprocessor (size 32) then has nothing to resample, so both engines see identical input;
 * - 32×32: a ResNet's stem divides by 4 and its stages by 8 more, so 32 pixels leave a 1×1 map in the last stage,
 *   the smallest input the shape accepts, and keep a step cheap on 2 cores (64×64 would cost 4 times as much);
 * - RGB: ResNets take 3 channels, as ImageNet ResNets would if pretrained weights could be loaded here.
 * The subset is seeded (seededPermutation over each class's images), so every run trains on the same files.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { seededPermutation } from '../../src/trainer/data/seededRandom';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's label index, the folder name, and the training and validation counts. */
export const SUBSET: readonly { readonly index: number; readonly name: string; readonly train: number; readonly validation: number }[] = [
  { index: 0, name: 't-shirt', train: 600, validation: 200 },
  { index: 2, name: 'pullover', train: 300, validation: 100 },
  { index: 4, name: 'coat', train: 120, validation: 40 },
  { index: 6, name: 'shirt', train: 60, validation: 20 },
];

const SIDE = 28;
const PAD = 2;
export const IMAGE_SIDE = SIDE + 2 * PAD;

interface Idx {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** An IDX file's payload after its magic number and dimensions, checked against what the file says it holds. */
function readIdx(file: string, magic: number, dimensions: number): { data: Uint8Array; count: number } {
  const bytes = gunzipSync(readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${file}: magic number ${view.getUint32(0)}, expected ${magic} (an IDX file).`);
  const sizes = Array.from({ length: dimensions }, (_, i) => view.getUint32(4 + 4 * i));
  const header = 4 + 4 * dimensions;
  const expected = sizes.reduce((a, b) => a * b, 1);
  if (bytes.byteLength - header !== expected)
    throw new Error(`${file}: ${bytes.byteLength - header} bytes of data, its header says ${expected}.`);
  if (dimensions === 3 && (sizes[1] !== SIDE || sizes[2] !== SIDE))
    throw new Error(`${file}: images are ${sizes[1]}×${sizes[2]}, not 28×28.`);
  return { data: bytes.subarray(header), count: sizes[0]! };
}

function readSplit(prefix: 'train' | 't10k'): Idx {
  const images = readIdx(join(FASHION_MNIST_DIR, `${prefix}-images-idx3-ubyte.gz`), 2051, 3);
  const labels = readIdx(join(FASHION_MNIST_DIR, `${prefix}-labels-idx1-ubyte.gz`), 2049, 1);
  if (images.count !== labels.count) throw new Error(`${prefix}: ${images.count} images but ${labels.count} labels.`);
  return { images: images.data, labels: labels.data, count: images.count };
}

function writePng(file: string, idx: Idx, row: number): void {
  const png = new PNG({ width: IMAGE_SIDE, height: IMAGE_SIDE });
  png.data.fill(0);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      const value = idx.images[row * SIDE * SIDE + y * SIDE + x]!;
      const at = ((y + PAD) * IMAGE_SIDE + x + PAD) * 4;
      png.data[at] = png.data[at + 1] = png.data[at + 2] = value;
    }
  for (let at = 3; at < png.data.length; at += 4) png.data[at] = 255;
  writeFileSync(file, PNG.sync.write(png));
}

/** Writes `<root>/train/<class>/*.png` and `<root>/validation/<class>/*.png`; returns the counts written. */
export function buildFashionSubset(root: string, seed: number): Record<string, { train: number; validation: number }> {
  if (!existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')))
    throw new Error(`No Fashion-MNIST in ${FASHION_MNIST_DIR}: apt-get install dataset-fashion-mnist.`);
  rmSync(root, { recursive: true, force: true });
  const counts: Record<string, { train: number; validation: number }> = {};
  for (const [split, prefix] of [
    ['train', 'train'],
    ['validation', 't10k'],
  ] as const) {
    const idx = readSplit(prefix);
    for (const [position, spec] of SUBSET.entries()) {
      const rows = [...Array(idx.count).keys()].filter((row) => idx.labels[row] === spec.index);
      const wanted = spec[split];
      if (rows.length < wanted) throw new Error(`${prefix} has ${rows.length} ${spec.name} images; the subset needs ${wanted}.`);
      const folder = join(root, split, spec.name);
      mkdirSync(folder, { recursive: true });
      const chosen = seededPermutation(rows.length, seed + position).slice(0, wanted);
      // The file name keeps the row in the source file, so a misclassified thumbnail can be traced back.
      for (const pick of chosen) writePng(join(folder, `${prefix}-${String(rows[pick]).padStart(5, '0')}.png`), idx, rows[pick]!);
      counts[spec.name] = { ...counts[spec.name]!, [split]: wanted } as { train: number; validation: number };
    }
  }
  return counts;
}

if (require.main === module) {
  const root = process.argv[2] ?? join(__dirname, '../.cache/real-images/fashion-4');
  const counts = buildFashionSubset(root, 17);
  console.log(`wrote ${root}: ${JSON.stringify(counts)}`);
}
