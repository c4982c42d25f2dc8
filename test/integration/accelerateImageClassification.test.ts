import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import eventsSchema from '../../schemas/events.schema.json';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { resnetTrainable } from '../../src/trainer/model/resnet/resnetFreezing';
import { TempWorkspace } from '../helpers/tempWorkspace';

/**
 * task: image-classification on the accelerate engine, end to end: the real CLI launches `accelerate launch` on the
 * CPU, which trains a tiny random ResNetForImageClassification (built and saved by transformers itself, with a
 * preprocessor_config.json, test/integration/python/accelerate_images.py) on generated PNGs through transformers'
 * Trainer. The events, the checkpoints and the exported folder are read back; the export must load in transformers'
 * pipeline("image-classification") and predict. Needs the Python peers (bench/python/setup); without them it skips
 * and says why.
 */

const CLI = resolve(__dirname, '../../dist/cli.js');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
const PYTHON = join(PEERS, 'bin', 'python');
const HELPER = join(__dirname, 'python', 'accelerate_images.py');
const MODULES = ['torch', 'transformers', 'accelerate', 'PIL', 'numpy', 'safetensors', 'sklearn'];
const CLASSES = ['blue', 'green', 'red'];
const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(eventsSchema);

function missingPython(): string | undefined {
  if (!existsSync(PYTHON)) return `no Python peers at ${PEERS} (run bench/python/setup, or set EMBEDTUNE_PY_PEERS)`;
  const probe = spawnSync(
    PYTHON,
    ['-c', `import importlib.util as u, sys; print(",".join(m for m in sys.argv[1:] if not u.find_spec(m)))`, ...MODULES],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0) return `${PYTHON} does not run: ${probe.stderr}`;
  const missing = probe.stdout.trim();
  return missing ? `${PYTHON} lacks ${missing} (run bench/python/setup)` : undefined;
}

const COMMON = `task: image-classification
model:
  base: ./resnet
training:
  epochs: 3
  batch_size: 8
  learning_rate: 0.01
  warmup: 0
checkpoints:
  every: epoch
  keep: 2
early_stopping:
  enabled: false
engine:
  type: accelerate
  cpu: true
  num_processes: 1
  python: ${JSON.stringify(PYTHON)}
`;

/**
 * ImageFolder data (validation/ beside train/), BatchNorm frozen, focal loss, every augmentation, the head at 3x.
 * (strategy freeze on a ResNet is checked on the engine's own code below: validate still refuses it for accelerate.)
 */
const FROZEN = `${COMMON.replace('  learning_rate: 0.01\n', '  learning_rate: 0.01\n  head_learning_rate: 0.03\n')}data:
  train: ./images/train
  on_bad_row: skip
preprocess:
  image:
    crop_box: [2, 2, 42, 34]
  augment:
    horizontal_flip: 0.5
    vertical_flip: 0.5
    rotation: 15
    random_resized_crop: {scale: [0.6, 1.0]}
    color_jitter: {brightness: 0.2, contrast: 0.2, saturation: 0.2}
strategy:
  type: full
  freeze_batch_norm: true
loss:
  type: focal
  class_weights: balanced
output_dir: runs/frozen
`;

/** CSV rows whose image paths are relative to the CSV file; full fine-tuning, softmax, BatchNorm in train mode. */
const FULL = `${COMMON}data:
  train: ./tables/train.csv
  validation: ./tables/validation.csv
  columns: {image: picture, label: kind}
strategy:
  type: full
loss:
  type: softmax
output_dir: runs/full
`;

interface Inspection {
  optimizer_groups: [number, number][];
  changed: string[];
  unchanged: string[];
  stats_changed: string[];
  head_shape: number[];
  id2label: Record<string, string>;
  architectures: string[];
  predicted: string[];
  scores: number[];
}

interface Run {
  status: number | null;
  output: string;
  runDir: string;
  events: RunEvent[];
  inspection?: Inspection;
}

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

function python(args: string[]): string {
  const result = spawnSync(PYTHON, [HELPER, ...args], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim().split('\n').at(-1)!;
}

const skip = missingPython();
if (skip) console.log(`# skipped accelerate image-classification tests: ${skip}`);

describe('engine: accelerate trains an image classifier with transformers Trainer', { skip }, () => {
  const workspace = new TempWorkspace();
  const runs = new Map<string, Run>();
  const validationImages = CLASSES.flatMap((name) => [0, 2, 3].map((i) => workspace.path(`images/validation/${name}/${name}-${i}.png`)));

  function train(name: string, config: string): Run {
    workspace.write(`${name}.embedtune.yaml`, config);
    const result = spawnSync(process.execPath, [CLI, 'train', `${name}.embedtune.yaml`], {
      cwd: workspace.root,
      encoding: 'utf8',
      timeout: 400_000,
    });
    const output = `${result.stderr}${result.stdout}`;
    const outputDir = workspace.path(`runs/${name}`);
    assert.ok(existsSync(outputDir), `no run folder:\n${output}`);
    const runDir = join(outputDir, readdirSync(outputDir)[0]!);
    const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RunEvent);
    const run: Run = { status: result.status, output, runDir, events };
    if (result.status === 0) {
      const best = readFileSync(join(runDir, 'best'), 'utf8').trim();
      const request = {
        base: workspace.path('resnet'),
        export: join(runDir, 'model'),
        checkpoint: join(runDir, best),
        images: validationImages,
      };
      run.inspection = JSON.parse(python(['inspect', JSON.stringify(request)])) as Inspection;
    }
    return run;
  }

  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    python(['build', workspace.root]);
    for (const split of ['train', 'validation']) {
      const lines = ['picture,kind'];
      for (const name of CLASSES)
        for (const file of readdirSync(workspace.path(`images/${split}/${name}`))
          .filter((f) => f !== 'truncated.png')
          .sort())
          lines.push(`../images/${split}/${name}/${file},${name}`);
      workspace.write(`tables/${split}.csv`, `${lines.join('\n')}\n`);
    }
    runs.set('frozen', train('frozen', FROZEN));
    runs.set('full', train('full', FULL));
  });
  after(() => workspace.dispose());

  function finished(name: string): Run & { inspection: Inspection } {
    const run = runs.get(name)!;
    assert.equal(run.status, 0, run.output);
    const last = run.events.at(-1) as Of<'run_finished'>;
    assert.equal(last.type, 'run_finished');
    assert.equal(last.reason, 'completed', run.output);
    return run as Run & { inspection: Inspection };
  }

  const evals = (run: Run) => run.events.filter((event): event is Of<'eval'> => event.type === 'eval');

  it('writes events the events schema accepts, from run_started to run_finished', () => {
    for (const name of ['frozen', 'full']) {
      const { events } = finished(name);
      for (const event of events) assert.ok(validateEvent(event), `${event.type}: ${JSON.stringify(validateEvent.errors)}`);
      const started = events.find((event): event is Of<'run_started'> => event.type === 'run_started')!;
      assert.equal(started.engine, 'accelerate');
      assert.equal(started.task, 'image-classification');
      assert.ok(events.some((event) => event.type === 'progress'));
    }
  });

  it('evaluates map, accuracy and f1 with the confusion matrix and per-class average precision; mAP improves', () => {
    for (const name of ['frozen', 'full']) {
      const run = finished(name);
      const all = evals(run);
      assert.equal(all[0]!.step, 0, 'the evaluation before training');
      assert.equal(all.length, 4, 'step 0 and each of the 3 epochs');
      for (const event of all) {
        assert.deepEqual(Object.keys(event.metrics), ['map', 'accuracy', 'f1']);
        assert.equal(event.primary.name, 'map');
        assert.deepEqual(event.confusion_matrix!.labels, CLASSES);
        const matrix = event.confusion_matrix!.matrix;
        assert.equal(
          matrix.flat().reduce((sum, count) => sum + count, 0),
          12,
          'every validation image is scored',
        );
        const correct = matrix.reduce((sum, row, i) => sum + row[i]!, 0);
        assert.ok(Math.abs(event.metrics['accuracy']! - correct / 12) < 1e-12);
        const aps = CLASSES.map((label) => event.per_class![label]!.average_precision!);
        for (const ap of aps) assert.ok(ap > 0 && ap <= 1, `AP ${ap}`);
        assert.ok(Math.abs(event.metrics['map']! - aps.reduce((a, b) => a + b, 0) / 3) < 1e-12, 'map is the mean per-class AP');
      }
      assert.ok(
        all.at(-1)!.metrics['map']! > all[0]!.metrics['map']!,
        `${name}: mAP ${all[0]!.metrics['map']} -> ${all.at(-1)!.metrics['map']}`,
      );
    }
  });

  it('lists the most confident mistakes, at most 12, with 48x48 RGB thumbnails and paths relative to the config', () => {
    const run = finished('frozen');
    let mistakes = 0;
    for (const event of evals(run)) {
      const matrix = event.confusion_matrix!.matrix;
      const wrong = matrix.flat().reduce((sum, count) => sum + count, 0) - matrix.reduce((sum, row, i) => sum + row[i]!, 0);
      const shown = event.misclassified ?? [];
      assert.equal(shown.length, Math.min(12, wrong), `step ${event.step}`);
      mistakes += shown.length;
      shown.forEach((image, i) => {
        assert.match(image.file, /^images\/validation\/(blue|green|red)\/\1-\d+\.png$/);
        assert.equal(image.file.split('/')[2], image.label);
        assert.notEqual(image.predicted, image.label);
        assert.ok(image.confidence > 0 && image.confidence <= 1);
        if (i > 0) assert.ok(shown[i - 1]!.confidence >= image.confidence, 'most confident first');
        assert.equal(image.thumbnail.width, 48);
        assert.equal(image.thumbnail.height, 48);
        assert.equal(Buffer.from(image.thumbnail.rgb, 'base64').length, 48 * 48 * 3);
      });
    }
    assert.ok(mistakes > 0, 'the random head makes mistakes before training');
  });

  it('leaves the truncated PNG out under on_bad_row: skip; the engine itself names a bad file and stops under error', () => {
    const run = finished('frozen');
    const started = run.events.find((event): event is Of<'run_started'> => event.type === 'run_started')!;
    assert.equal(started.dataset.train_rows, 37, '12 images of each class and one grayscale, without the truncated one');
    assert.equal(started.dataset.skipped_rows, 1);
    // The CLI's loader drops it before launch; the engine checks the prepared rows again (a file may change since).
    const check = JSON.parse(python(['bad', workspace.path('images/train/red')])) as {
      kept: string[];
      problems: string[];
      stopped: string;
    };
    assert.deepEqual(check.kept, ['red-0.png', 'red-1.png']);
    assert.equal(check.problems.length, 2);
    assert.match(check.problems[0]!, /^training row t\.csv:3: .*truncated\.png cannot be decoded as an image/);
    assert.match(check.problems[1]!, /empty\.png is empty \(0 bytes\)/);
    assert.match(check.stopped, /truncated\.png .*data\.on_bad_row: skip/);
  });

  it('saves transformers checkpoints (id2label, preprocessor_config.json, optimizer) in the run-folder layout', () => {
    for (const name of ['frozen', 'full']) {
      const { runDir, events } = finished(name);
      const saved = events.filter((event): event is Of<'checkpoint'> => event.type === 'checkpoint');
      assert.deepEqual(
        saved.map((event) => event.path),
        ['checkpoints/step-5', 'checkpoints/step-10', 'checkpoints/step-15'],
      );
      const kept = readdirSync(join(runDir, 'checkpoints')).filter((entry) => entry.startsWith('step-'));
      assert.ok(kept.includes('step-15') && kept.includes('step-10'), kept.join(', '));
      const best = readFileSync(join(runDir, 'best'), 'utf8').trim();
      assert.ok(kept.includes(best.replace('checkpoints/', '')), 'the best checkpoint is kept');
      for (const file of [
        'config.json',
        'model.safetensors',
        'preprocessor_config.json',
        'optimizer.pt',
        'trainer_state.json',
        'embedtune_state.json',
      ])
        assert.ok(existsSync(join(runDir, 'checkpoints', 'step-15', file)), `${name}: step-15/${file}`);
      const config = JSON.parse(readFileSync(join(runDir, 'checkpoints', 'step-15', 'config.json'), 'utf8')) as { id2label: object };
      assert.deepEqual(config.id2label, { '0': 'blue', '1': 'green', '2': 'red' });
    }
  });

  it('exports a folder that pipeline("image-classification") loads and predicts the classes with', () => {
    for (const name of ['frozen', 'full']) {
      const { inspection, runDir } = finished(name);
      assert.ok(existsSync(join(runDir, 'model', 'preprocessor_config.json')));
      assert.deepEqual(inspection.architectures, ['ResNetForImageClassification']);
      assert.deepEqual(inspection.id2label, { '0': 'blue', '1': 'green', '2': 'red' });
      assert.deepEqual(inspection.head_shape, [3, 16], 'a new 3-class head replaced the 5-class one');
      const expected = validationImages.map((path) => path.split('/').at(-2)!);
      const right = inspection.predicted.filter((label, i) => label === expected[i]).length;
      assert.ok(right >= 7, `${name}: ${right} of 9 right (${inspection.predicted.join(', ')})`);
    }
  });

  it("the tfjs engine's embedtune eval of the export reproduces the best evaluation's metrics and confusion matrix", () => {
    const run = finished('frozen');
    const best = readFileSync(join(run.runDir, 'best'), 'utf8').trim();
    const step = Number(best.replace('checkpoints/step-', ''));
    const reported = evals(run).find((event) => event.step === step)!;
    workspace.write('frozen-tfjs.embedtune.yaml', FROZEN.replace(/^engine:\n(?: {2}.*\n)+/m, 'engine:\n  type: tfjs\n'));
    const result = spawnSync(process.execPath, [CLI, 'eval', join(run.runDir, 'model'), '--config', 'frozen-tfjs.embedtune.yaml'], {
      cwd: workspace.root,
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const evaluated = JSON.parse(result.stdout) as { metrics: Record<string, number>; confusion_matrix: { matrix: number[][] } };
    assert.deepEqual(evaluated.confusion_matrix.matrix, reported.confusion_matrix!.matrix);
    for (const name of ['map', 'accuracy', 'f1']) assert.ok(Math.abs(evaluated.metrics[name]! - reported.metrics[name]!) < 1e-6, name);
  });

  it('freeze_batch_norm keeps every running statistic as loaded while the weights train', () => {
    const { inspection } = finished('frozen');
    assert.deepEqual(inspection.stats_changed, [], 'BatchNorm running statistics stayed as loaded');
    assert.ok(inspection.changed.includes('resnet.embedder.embedder.convolution.weight'), inspection.changed.join(', '));
    assert.ok(inspection.changed.includes('resnet.encoder.stages.0.layers.0.layer.0.normalization.weight'), 'BatchNorm scale still trains');
    assert.ok(inspection.changed.includes('classifier.1.weight'));
  });

  it('strategy freeze (freeze_embeddings, freeze_layers 1) trains only stage 2 and the head; statistics move unless frozen', () => {
    const moved = JSON.parse(python(['freeze', workspace.path('resnet')])) as Record<'batch_norm_training' | 'batch_norm_frozen', string[]>;
    const weights = (names: string[]) => names.filter((name) => !/running_(mean|var)$/.test(name));
    const trainable = (name: string) => name.startsWith('resnet.encoder.stages.1.') || name.startsWith('classifier.');
    for (const names of Object.values(moved)) {
      assert.deepEqual(
        weights(names).filter((name) => !trainable(name)),
        [],
        'no frozen weight moved',
      );
      assert.equal(weights(names).length, 11, `stage 2's convolutions and BatchNorms, the shortcut, the head: ${names.join(', ')}`);
    }
    // As in PyTorch and the tfjs engine's resnetFreezing: a frozen stage's BatchNorm still updates its statistics.
    assert.ok(moved.batch_norm_training.includes('resnet.embedder.embedder.normalization.running_mean'));
    assert.ok(moved.batch_norm_training.includes('resnet.encoder.stages.0.layers.0.layer.0.normalization.running_var'));
    assert.deepEqual(
      moved.batch_norm_frozen.filter((name) => /running_(mean|var)$/.test(name)),
      [],
    );
  });

  it("freezes by stage exactly as the tfjs engine's resnetFreezing does, for every weight name", () => {
    const { inspection } = finished('frozen');
    const names = [...inspection.changed, ...inspection.unchanged].sort();
    for (const [freezeEmbeddings, freezeLayers] of [
      [true, 0],
      [false, 1],
      [true, 2],
    ] as const) {
      const strategy = { type: 'freeze', freeze_embeddings: freezeEmbeddings, freeze_layers: freezeLayers };
      const script =
        'import json, sys; sys.path.insert(0, sys.argv[1]); from embedtune_accelerate.image_model import IMAGE_LAYOUTS, is_frozen; ' +
        'names, strategy = json.loads(sys.argv[2]), json.loads(sys.argv[3]); ' +
        'print(json.dumps([not is_frozen(n, IMAGE_LAYOUTS["resnet"], strategy) for n in names]))';
      const result = spawnSync(
        PYTHON,
        ['-c', script, resolve(__dirname, '../../python'), JSON.stringify(names), JSON.stringify(strategy)],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(result.status, 0, result.stderr);
      const trainable = resnetTrainable({ freezeEmbeddings, freezeLayers }, 2);
      assert.deepEqual(JSON.parse(result.stdout) as boolean[], names.map(trainable), `${freezeEmbeddings} ${freezeLayers}`);
    }
  });

  it('without freezing, every stage trains and BatchNorm updates its running statistics', () => {
    const { inspection } = finished('full');
    assert.ok(inspection.changed.includes('resnet.embedder.embedder.convolution.weight'), inspection.changed.join(', '));
    assert.ok(inspection.changed.some((weight) => weight.startsWith('resnet.encoder.stages.0.')));
    assert.ok(inspection.stats_changed.length > 0, 'train-mode BatchNorm moved its statistics');
  });

  it('training.head_learning_rate: the new head learns at its own rate, the backbone at learning_rate', () => {
    // The Trainer's groups (weight decay or none), each split into backbone and head (classifier.1's weight and bias).
    const parameters = (groups: [number, number][], lr: number) =>
      groups.filter(([, rate]) => rate === lr).reduce((sum, [count]) => sum + count, 0);
    const frozen = finished('frozen').inspection.optimizer_groups;
    assert.equal(parameters(frozen, 0.03), 2, JSON.stringify(frozen));
    assert.equal(
      parameters(frozen, 0.01) + 2,
      frozen.reduce((sum, [count]) => sum + count, 0),
      'the rest at learning_rate',
    );
    assert.ok(parameters(frozen, 0.01) > 0);
    const full = finished('full').inspection.optimizer_groups;
    assert.equal(parameters(full, 0.01), 20, `without head_learning_rate all 20 weights learn at learning_rate: ${JSON.stringify(full)}`);
  });

  it('augments with seeded draws: the same seed, epoch and row replay, others differ; unaugmented is the processor', () => {
    const check = JSON.parse(python(['augment', workspace.path('resnet'), workspace.path('images/train/red/red-1.png')])) as Record<
      string,
      unknown
    >;
    assert.deepEqual(check, {
      shape: [3, 24, 24],
      plain_shape: [3, 24, 24],
      replayed: true,
      other_epoch_differs: true,
      other_seed_differs: true,
      plain_is_processor: true,
      off_by_default: true,
      streams_independent: true,
    });
  });

  it("trains with softmax as torch's CrossEntropyLoss(weight=balanced) and focal as −α_y (1 − p_y)^γ log p_y, weighted", () => {
    const check = JSON.parse(python(['loss'])) as Record<string, number | number[]>;
    assert.deepEqual(check['weights'], [10 / 18, 10 / 9, 10 / 3], "scikit-learn's balanced: n / (k · n_c)");
    for (const key of ['softmax_vs_torch', 'focal_vs_formula', 'focal_gamma0_vs_cross_entropy'])
      assert.ok((check[key] as number) < 1e-6, `${key}: ${String(check[key])}`);
  });

  it("computes average precision as scikit-learn's average_precision_score, ties included", () => {
    const { cases, absent } = JSON.parse(python(['ap'])) as { cases: { ours: number; sklearn: number }[]; absent: number | null };
    assert.equal(cases.length, 40);
    for (const { ours, sklearn } of cases) assert.ok(Math.abs(ours - sklearn) < 1e-12, `${ours} vs ${sklearn}`);
    assert.equal(absent, null, 'a class with no validation row has no AP (sklearn would say 0)');
  });
});
