import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { CHECKPOINTS_DIR, EVAL_RESULTS_FILE, EVENTS_FILE, EXPORTED_MODEL_DIR } from '../../src/shared/run/runFolder';
import { buildRandomResNetFolder } from '../../src/trainer/model/resnet/randomResNetFolder';
import { TempWorkspace } from '../helpers/tempWorkspace';

const CLI = resolve(__dirname, '../../dist/cli.js');

/** Three imbalanced colour classes with pixel noise, and a sibling validation/ folder. */
const CLASSES: Record<string, { colour: [number, number, number]; train: number; validation: number }> = {
  crack: { colour: [190, 60, 60], train: 8, validation: 4 },
  dent: { colour: [60, 170, 60], train: 4, validation: 3 },
  ok: { colour: [80, 80, 170], train: 12, validation: 5 },
};

/** Augmentation is on for training: evaluation must not apply it. crop_box must apply, as the run's evaluation did. */
const CONFIG = `name: defects
task: image-classification
model: {base: ./tiny-resnet}
data: {train: ./images/train}
preprocess:
  image: {crop_box: [1, 1, 23, 19]}
  augment: {horizontal_flip: 0.5, rotation: 10}
loss: {type: focal, gamma: 2}
training: {epochs: 1, batch_size: 8, learning_rate: 0.005, warmup: 1}
evaluation: {every: 3}
checkpoints: {every: 3, keep: 10}
engine: {backend: cpu}
output_dir: runs
`;

function writeImages(root: string): void {
  let state = 11;
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
        writeFileSync(join(root, 'images', split, name, `${name}-${i}.png`), PNG.sync.write(png));
      }
    }
}

function cli(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
}

type Eval = Extract<RunEvent, { type: 'eval' }>;

interface EvalReport {
  model: string;
  examples: number;
  metrics: Record<string, number | null>;
  confusion_matrix: { labels: string[]; matrix: number[][] };
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number; average_precision: number | null }>;
  misclassified: { file: string; label: string; predicted: string; confidence: number }[];
}

function close(actual: number | null | undefined, expected: number | null | undefined, what: string): void {
  assert.equal(typeof actual, 'number', what);
  assert.ok(Math.abs(actual! - expected!) < 1e-6, `${what}: ${actual} vs ${expected}`);
}

describe('embedtune eval of an image-classification checkpoint or model/ (tiny random ResNet, tfjs cpu)', () => {
  let ws: TempWorkspace;
  let runDir: string;
  let evals: Eval[];
  let summary: string;

  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built (npm run build)');
    ws = new TempWorkspace();
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
    const trained = cli(ws.root, ['train', 'run.embedtune.yaml']);
    assert.equal(trained.status, 0, trained.stderr + trained.stdout);
    runDir = join(ws.root, 'runs', readdirSync(join(ws.root, 'runs'))[0]!);
    summary = trained.stdout;
    evals = readFileSync(join(runDir, EVENTS_FILE), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RunEvent)
      .filter((e): e is Eval => e.type === 'eval');
  });
  after(() => ws?.dispose());

  it("train's end summary names model/ as a transformers image-classification model", () => {
    assert.match(summary, /^transformers image-classification model: runs\/[^/\n]+\/model$/m);
    assert.doesNotMatch(summary, /sentence-transformers/);
    // Images are counted as images, with no text cleaning words, and the head learns as the backbone does.
    assert.match(summary, /^data: 36 images read, 0 skipped \(unreadable or bad rows\)$/m);
    assert.match(summary, /^task head learning rate: 0\.005 \(as the backbone\)$/m);
  });

  it('validate --summary counts the images, without the text cleaning note', () => {
    const result = cli(ws.root, ['validate', 'run.embedtune.yaml', '--summary']);
    assert.equal(result.status, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /^run\.embedtune\.yaml: images 24 train · 12 validation$/m);
    assert.doesNotMatch(result.stdout, /rows|dedupe/);
  });

  it("reports a checkpoint's accuracy, F1, mAP, per-class AP, confusion matrix and mistakes as the run's eval event at that step", () => {
    const checkpoint = join(runDir, CHECKPOINTS_DIR, 'step-3');
    const result = cli(ws.root, ['eval', checkpoint, '--config', 'run.embedtune.yaml']);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as EvalReport;
    assert.deepEqual(JSON.parse(readFileSync(join(checkpoint, EVAL_RESULTS_FILE), 'utf8')), report);
    const event = evals.find((e) => e.step === 3)!;
    assert.equal(report.examples, 12);
    assert.deepEqual(Object.keys(report.metrics), ['map', 'accuracy', 'f1']);
    for (const name of ['map', 'accuracy', 'f1']) close(report.metrics[name], event.metrics[name], name);
    assert.deepEqual(report.confusion_matrix, event.confusion_matrix);
    assert.deepEqual(Object.keys(report.per_class), ['crack', 'dent', 'ok']);
    for (const [name, scores] of Object.entries(report.per_class)) {
      const expected = event.per_class![name]!;
      close(scores.average_precision, expected.average_precision, `${name} AP`);
      close(scores.f1, expected.f1, `${name} F1`);
      assert.equal(scores.support, expected.support);
    }
    assert.deepEqual(
      report.misclassified.map((m) => [m.file, m.label, m.predicted]),
      event.misclassified!.map((m) => [m.file, m.label, m.predicted]),
    );
    assert.ok(report.misclassified.every((m) => !('thumbnail' in m)));
  });

  it("evaluates the exported model/ as the run's best evaluation measured it", () => {
    const result = cli(ws.root, ['eval', join(runDir, EXPORTED_MODEL_DIR), '--config', 'run.embedtune.yaml']);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as EvalReport;
    const best = evals.filter((e) => e.is_best).at(-1)!;
    for (const name of ['map', 'accuracy', 'f1']) close(report.metrics[name], best.metrics[name], name);
    assert.deepEqual(report.confusion_matrix, best.confusion_matrix);
  });

  it('evaluates on --data instead of the validation folder', () => {
    const result = cli(ws.root, ['eval', join(runDir, EXPORTED_MODEL_DIR), '--config', 'run.embedtune.yaml', '--data', 'images/train']);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as EvalReport;
    assert.equal(report.examples, 24);
    assert.equal(
      report.confusion_matrix.matrix.flat().reduce((sum, n) => sum + n, 0),
      24,
    );
  });

  it('refuses a model without a head, and an image model with a text config, saying why', () => {
    const backbone = cli(ws.root, ['eval', 'tiny-resnet', '--config', 'run.embedtune.yaml']);
    assert.equal(backbone.status, 1);
    assert.match(backbone.stderr, /head predicts cat, dog, but the validation images include the class\(es\) crack, dent, ok/);
    ws.write('text.yaml', 'task: classification\nmodel: {base: ./tiny-resnet}\ndata: {train: ./rows.jsonl}\n');
    ws.write('rows.jsonl', '{"text": "a", "label": "x"}\n');
    const text = cli(ws.root, ['eval', join(runDir, EXPORTED_MODEL_DIR), '--config', 'text.yaml']);
    assert.equal(text.status, 1);
    assert.match(text.stderr, /is an image model; evaluate it with a config of task: image-classification, not classification/);
  });
});
