import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Ajv2020 } from 'ajv/dist/2020';
import { PNG } from 'pngjs';
import { runEventsSchema, type RunEvent } from '../../src/shared/events/runEvents';
import { BEST_POINTER_FILE, CHECKPOINTS_DIR, EVENTS_FILE, EXPORTED_MODEL_DIR } from '../../src/shared/run/runFolder';
import { scoredClassificationReport } from '../../src/trainer/evaluation/scoredClassificationMetrics';
import { readImageProcessorSettings } from '../../src/trainer/images/imageProcessorConfig';
import { ImagePipeline } from '../../src/trainer/images/imagePipeline';
import { buildRandomResNetFolder } from '../../src/trainer/model/resnet/randomResNetFolder';
import { loadResNetFolder } from '../../src/trainer/model/resnet/resnetFolder';
import { readSafetensors } from '../../src/trainer/model/safetensors';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');

/** Four imbalanced classes, each a colour with heavy pixel noise; a sibling validation/ folder. */
const CLASSES: Record<string, { colour: [number, number, number]; train: number; validation: number }> = {
  crack: { colour: [190, 60, 60], train: 12, validation: 4 },
  dent: { colour: [60, 170, 60], train: 4, validation: 3 },
  ok: { colour: [80, 80, 170], train: 20, validation: 5 },
  scratch: { colour: [170, 170, 70], train: 8, validation: 4 },
};

/**
 * 44 training images in batches of 8: six steps an epoch, so the checkpoint at step 3 is mid-epoch. Horizontal flips
 * and rotation make each epoch's pixels differ, and a resume must replay them; focal loss with balanced class weights.
 */
const CONFIG = `name: defects
task: image-classification
model: {base: ./tiny-resnet}
data: {train: ./images/train}
preprocess:
  augment: {horizontal_flip: 0.5, rotation: 10}
loss: {type: focal, gamma: 2, class_weights: balanced}
training: {epochs: 2, batch_size: 8, learning_rate: 0.005, warmup: 1}
evaluation: {every: 3}
checkpoints: {every: 3, keep: 10}
engine: {backend: cpu}
output_dir: runs
`;

function writeImages(root: string): void {
  let state = 7;
  const noise = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return Math.round((state / 2147483648 - 0.5) * 220);
  };
  for (const split of ['train', 'validation'] as const)
    for (const [name, spec] of Object.entries(CLASSES)) {
      mkdirSync(join(root, 'images', split, name), { recursive: true });
      for (let i = 0; i < spec[split]; i++) {
        const png = new PNG({ width: 24, height: 20 });
        for (let pixel = 0; pixel < 24 * 20; pixel++) {
          for (let channel = 0; channel < 3; channel++)
            png.data[pixel * 4 + channel] = Math.max(0, Math.min(255, spec.colour[channel]! + noise()));
          png.data[pixel * 4 + 3] = 255;
        }
        // A file name that a dashboard must escape.
        writeFileSync(join(root, 'images', split, name, `${name} <img src=x onerror=${i}>.png`), PNG.sync.write(png));
      }
    }
}

function workspace(): TempWorkspace {
  const ws = new TempWorkspace();
  writeImages(ws.root);
  buildRandomResNetFolder(ws.path('tiny-resnet'), {
    config: { layer_type: 'basic', embedding_size: 8, hidden_sizes: [8, 16], depths: [1, 1] },
    labels: ['cat', 'dog'],
    seed: 3,
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
  ws.write('run.embedtune.yaml', CONFIG);
  return ws;
}

function train(cwd: string, args: string[] = []) {
  return spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml', '--events', 'stdout', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
  });
}

function eventsOf(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, EVENTS_FILE), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
}

type Eval = Extract<RunEvent, { type: 'eval' }>;
type Progress = Extract<RunEvent, { type: 'progress' }>;

/** Softmax probabilities of a transformers ResNet folder on the validation images, preprocessed as its own file says. */
function probabilitiesOf(modelFolder: string, root: string): { labels: string[]; gold: string[]; rows: number[][]; logits: number[][] } {
  const { model } = loadResNetFolder(modelFolder);
  const pipeline = new ImagePipeline({
    processor: readImageProcessorSettings(modelFolder),
    augment: { horizontalFlip: 0, verticalFlip: 0, rotation: 0 },
    cacheBytes: 0,
  });
  const examples = Object.keys(CLASSES).flatMap((name) =>
    readdirSync(join(root, 'images', 'validation', name))
      .sort()
      .map((file, index) => ({ image: join(root, 'images', 'validation', name, file), label: name, source: file, index })),
  );
  const pixels = pipeline.pixels(examples, { augment: false });
  const logits = tf.tidy(() => model.forward(tf.tensor4d(pixels.data, pixels.shape)).logits!);
  const rows = tf.tidy(() => tf.softmax(logits)).arraySync() as number[][];
  const result = { labels: [...model.config.labels], gold: examples.map((e) => e.label), rows, logits: logits.arraySync() as number[][] };
  logits.dispose();
  model.dispose();
  return result;
}

describe('image classification end to end (tiny random ResNet, four imbalanced classes, tfjs cpu)', () => {
  let full: TempWorkspace;
  let fullRun: string;
  let stdoutEvents: RunEvent[];
  let resumedCopy: TempWorkspace;
  let resumedRun: string;
  let resumed: ReturnType<typeof train>;

  before(async () => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built (npm run build)');
    await tf.setBackend('cpu');
    full = workspace();
    const uninterrupted = train(full.root);
    assert.equal(uninterrupted.status, 0, uninterrupted.stderr + uninterrupted.stdout);
    stdoutEvents = uninterrupted.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as RunEvent);
    fullRun = join(full.root, 'runs', readdirSync(join(full.root, 'runs'))[0]!);
    resumedCopy = workspace();
    resumedRun = join(resumedCopy.root, 'runs', 'resumed');
    mkdirSync(join(resumedRun, CHECKPOINTS_DIR), { recursive: true });
    cpSync(join(fullRun, CHECKPOINTS_DIR, 'step-3'), join(resumedRun, CHECKPOINTS_DIR, 'step-3'), { recursive: true });
    resumed = train(resumedCopy.root, ['--resume', join(resumedRun, CHECKPOINTS_DIR, 'step-3')]);
  });
  after(() => {
    full?.dispose();
    resumedCopy?.dispose();
  });

  it('streams schema-valid events to stdout, the same as events.jsonl', () => {
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(runEventsSchema);
    assert.ok(stdoutEvents.length > 10);
    for (const event of stdoutEvents) assert.ok(validate(event), JSON.stringify(validate.errors));
    assert.deepEqual(stdoutEvents, eventsOf(fullRun));
    const started = stdoutEvents[0] as Extract<RunEvent, { type: 'run_started' }>;
    assert.equal(started.task, 'image-classification');
    assert.deepEqual(started.dataset, { train_rows: 44, validation_rows: 16, skipped_rows: 0 });
    // Running statistics are buffers, not parameters: PyTorch's count of this ResNet with a 4-class head.
    assert.equal(started.total_parameters, 6_124);
  });

  it('evaluates mAP, accuracy and F1 with the confusion matrix, per-class AP and misclassified thumbnails', () => {
    const evals = stdoutEvents.filter((e): e is Eval => e.type === 'eval');
    assert.deepEqual(
      evals.map((e) => e.step),
      [0, 3, 6, 9, 12],
    );
    for (const evaluation of evals) {
      assert.deepEqual(Object.keys(evaluation.metrics), ['map', 'accuracy', 'f1']);
      assert.equal(evaluation.primary.name, 'map');
      assert.deepEqual(evaluation.confusion_matrix!.labels.length <= 4, true);
      const counted = evaluation.confusion_matrix!.matrix.flat().reduce((sum, n) => sum + n, 0);
      assert.equal(counted, 16);
      const aps = Object.values(evaluation.per_class!).map((scores) => scores.average_precision);
      assert.ok(aps.every((ap) => typeof ap === 'number'));
      const wrong = 16 - evaluation.confusion_matrix!.matrix.reduce((sum, row, i) => sum + row[i]!, 0);
      assert.equal(evaluation.misclassified!.length, Math.min(12, wrong));
      assert.ok(Math.abs(evaluation.metrics['accuracy']! - (16 - wrong) / 16) < 1e-12);
    }
    const baseline = evals[0]!;
    assert.ok(baseline.misclassified!.length > 0, 'the random head gets some validation images wrong');
    const first = baseline.misclassified![0]!;
    assert.match(first.file, /^images\/validation\/[a-z]+\/[a-z]+ <img src=x onerror=\d+>\.png$/);
    assert.notEqual(first.label, first.predicted);
    assert.deepEqual([first.thumbnail.width, first.thumbnail.height], [48, 48]);
    assert.equal(Buffer.from(first.thumbnail.rgb, 'base64').length, 48 * 48 * 3);
    const confidences = baseline.misclassified!.map((m) => m.confidence);
    assert.deepEqual(
      confidences,
      [...confidences].sort((a, b) => b - a),
    );
    const best = evals.filter((e) => e.step > 0).reduce((a, b) => ((b.metrics['map'] ?? 0) > (a.metrics['map'] ?? 0) ? b : a));
    assert.ok(best.metrics['map']! > baseline.metrics['map']!, `training raised mAP (${baseline.metrics['map']} → ${best.metrics['map']})`);
  });

  it('checkpoints transformers folders with the optimizer state, and points best at the best mAP', () => {
    const checkpoints = readdirSync(join(fullRun, CHECKPOINTS_DIR)).sort();
    assert.deepEqual(checkpoints, ['step-12', 'step-3', 'step-6', 'step-9']);
    assert.deepEqual(readdirSync(join(fullRun, CHECKPOINTS_DIR, 'step-3')).sort(), [
      'config.json',
      'model.safetensors',
      'optimizer.safetensors',
      'preprocessor_config.json',
      'trainer_state.json',
    ]);
    const config = JSON.parse(readFileSync(join(fullRun, CHECKPOINTS_DIR, 'step-3', 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(config['id2label'], { 0: 'crack', 1: 'dent', 2: 'ok', 3: 'scratch' });
    assert.deepEqual(config['architectures'], ['ResNetForImageClassification']);
    const evals = eventsOf(fullRun).filter((e): e is Eval => e.type === 'eval' && e.is_best);
    const bestPointer = readFileSync(join(fullRun, BEST_POINTER_FILE), 'utf8').trim();
    assert.equal(bestPointer, `${CHECKPOINTS_DIR}/step-${evals.at(-1)!.step}`);
  });

  it('exports the best checkpoint as a transformers folder that predicts what the best evaluation measured', () => {
    const model = join(fullRun, EXPORTED_MODEL_DIR);
    assert.deepEqual(readdirSync(model).sort(), ['config.json', 'model.safetensors', 'preprocessor_config.json']);
    const best = readFileSync(join(fullRun, BEST_POINTER_FILE), 'utf8').trim();
    const exported = probabilitiesOf(model, full.root);
    const checkpoint = probabilitiesOf(join(fullRun, best), full.root);
    assert.deepEqual(exported.logits, checkpoint.logits);
    const report = scoredClassificationReport(exported.labels, exported.gold, exported.rows);
    const bestEval = eventsOf(fullRun).filter((e): e is Eval => e.type === 'eval' && `${CHECKPOINTS_DIR}/step-${e.step}` === best)[0]!;
    for (const name of ['map', 'accuracy', 'f1'] as const)
      assert.ok(Math.abs(report.metrics[name]! - bestEval.metrics[name]!) < 1e-6, name);
  });

  it('embedtune export writes an image checkpoint as its transformers folder, without the optimizer state', () => {
    const checkpoint = join(fullRun, CHECKPOINTS_DIR, 'step-6');
    const result = spawnSync(process.execPath, [CLI, 'export', checkpoint, '--out', 'exported'], {
      cwd: full.root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(readdirSync(full.path('exported')).sort(), ['config.json', 'model.safetensors', 'preprocessor_config.json']);
    for (const file of readdirSync(full.path('exported')))
      assert.deepEqual(readFileSync(full.path(`exported/${file}`)), readFileSync(join(checkpoint, file)));
    const adapter = spawnSync(process.execPath, [CLI, 'export', checkpoint, '--out', 'adapter', '--adapter-only'], {
      cwd: full.root,
      encoding: 'utf8',
    });
    assert.equal(adapter.status, 1);
    assert.match(adapter.stderr, /image model, which trains no LoRA adapter/);
  });

  it('refuses a text model for an image task, naming model.base and what it needs', () => {
    buildTinyBert(full.path('tiny-bert'));
    full.write('text-model.yaml', CONFIG.replace('./tiny-resnet', './tiny-bert'));
    const result = spawnSync(process.execPath, [CLI, 'train', 'text-model.yaml'], { cwd: full.root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /model\.base \.\/tiny-bert: task image-classification trains a ResNet .*"model_type" is "bert", not "resnet"/,
    );
  });

  it('resumed mid-epoch, trains to exactly what the uninterrupted run did', () => {
    assert.equal(resumed.status, 0, resumed.stderr + resumed.stdout);
    const evalsAfter = (run: string) =>
      eventsOf(run)
        .filter((e): e is Eval => e.type === 'eval' && e.step > 3)
        .map(({ step, metrics, is_best, confusion_matrix, misclassified }) => ({
          step,
          metrics,
          is_best,
          confusion_matrix,
          misclassified,
        }));
    assert.equal(evalsAfter(fullRun).length, 3);
    assert.deepEqual(evalsAfter(resumedRun), evalsAfter(fullRun));
    for (const file of ['model.safetensors', 'optimizer.safetensors']) {
      const expected = readSafetensors(join(fullRun, CHECKPOINTS_DIR, 'step-12', file)).tensors;
      const actual = readSafetensors(join(resumedRun, CHECKPOINTS_DIR, 'step-12', file)).tensors;
      assert.equal(actual.size, expected.size);
      for (const [name, tensor] of expected) assert.deepEqual(actual.get(name)!.data, tensor.data, `${file}: ${name} differs after resume`);
    }
    const losses = (run: string) =>
      new Map(eventsOf(run).flatMap((e) => (e.type === 'progress' ? [[(e as Progress).step, (e as Progress).loss]] : [])));
    const fullLosses = losses(fullRun);
    const resumedLosses = losses(resumedRun);
    assert.ok(resumedLosses.has(4));
    for (const [step, loss] of resumedLosses) if (fullLosses.has(step)) assert.equal(loss, fullLosses.get(step), `loss at step ${step}`);
  });
});
