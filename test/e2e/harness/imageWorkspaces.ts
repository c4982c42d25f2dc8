import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { buildRandomResNetFolder } from '../../../src/trainer/model/resnet/randomResNetFolder';
import { TempWorkspace } from '../../helpers/tempWorkspace';

/** The defect classes of the image workspace, each a colour that noise blurs; `scratch` is the one left empty. */
const COLOURS: Record<string, [number, number, number]> = {
  crack: [190, 60, 60],
  ok: [70, 90, 180],
  scratch: [170, 170, 60],
};

export const IMAGE_CONFIG = 'defects.embedtune.yaml';
export const EMPTY_CLASS = 'scratch';
const TRAIN_PER_CLASS = 16;
const VALIDATION_PER_CLASS = 6;

/**
 * A folder for the image scenario: a tiny random transformers ResNet (two stages, 8 and 16 channels, 32×32 input),
 * an ImageFolder of noisy colour PNGs (images/train and a sibling images/validation) whose training folder for
 * `scratch` is empty, as when a user has made the class folder but not copied its images yet, and a config that
 * trains in a few seconds (48 images in batches of 8, 4 epochs, evaluated every 3 steps).
 */
export function imageWorkspace(): TempWorkspace {
  const workspace = new TempWorkspace();
  buildRandomResNetFolder(workspace.path('tiny-resnet'), {
    config: { layer_type: 'basic', embedding_size: 8, hidden_sizes: [8, 16], depths: [1, 1] },
    labels: ['cat', 'dog'],
    seed: 5,
    randomBatchNorm: true,
    preprocessor: {
      image_processor_type: 'ViTImageProcessor',
      do_resize: true,
      size: { height: 32, width: 32 },
      resample: 2,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    },
  });
  for (const name of Object.keys(COLOURS)) {
    writeClassImages(workspace.root, 'validation', name, VALIDATION_PER_CLASS);
    if (name === EMPTY_CLASS) mkdirSync(workspace.path(`images/train/${name}`), { recursive: true });
    else writeClassImages(workspace.root, 'train', name, TRAIN_PER_CLASS);
  }
  workspace.write(IMAGE_CONFIG, IMAGE_TRAINING_CONFIG);
  return workspace;
}

/** What the user does to fix the empty class: copies its training images in. */
export function fillEmptyClass(workspace: TempWorkspace): void {
  writeClassImages(workspace.root, 'train', EMPTY_CLASS, TRAIN_PER_CLASS);
}

const IMAGE_TRAINING_CONFIG = `name: defects
task: image-classification
model:
  base: ./tiny-resnet
data:
  train: ./images/train
preprocess:
  augment:
    horizontal_flip: 0.5
loss:
  type: focal
  gamma: 2
training:
  epochs: 4
  batch_size: 8
  learning_rate: 0.005
  warmup: 1
evaluation:
  every: 3
checkpoints:
  every: 6
  keep: 2
early_stopping:
  enabled: false
output_dir: runs
`;

/** `count` 24×20 PNGs of the class's colour with seeded pixel noise, in images/<split>/<name>/. */
function writeClassImages(root: string, split: 'train' | 'validation', name: string, count: number): void {
  const colour = COLOURS[name]!;
  let state = name.length * 7919 + (split === 'train' ? 1 : 2);
  const noise = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return Math.round((state / 2147483648 - 0.5) * 160);
  };
  const folder = join(root, 'images', split, name);
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < count; i++) {
    const png = new PNG({ width: 24, height: 20 });
    for (let pixel = 0; pixel < 24 * 20; pixel++) {
      for (let channel = 0; channel < 3; channel++) png.data[pixel * 4 + channel] = Math.max(0, Math.min(255, colour[channel]! + noise()));
      png.data[pixel * 4 + 3] = 255;
    }
    writeFileSync(join(folder, `${name}-${String(i).padStart(2, '0')}.png`), PNG.sync.write(png));
  }
}
