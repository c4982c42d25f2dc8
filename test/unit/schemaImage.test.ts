import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import type { ConfigDiagnostic } from '../../src/shared/config/configDiagnostic';
import { metricFamily, requiredRoles, suggestedMetrics } from '../../src/shared/config/taskRequirements';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { withRange } from '../helpers/markedText';

/*
 * The config language of task: image-classification: its defaults as resolveConfig applies them, and the checks that
 * reject image keys on text tasks, text keys on image tasks, a crop larger than the size and an empty crop box.
 */

const IMAGE: EmbedTuneConfig = { task: 'image-classification', model: { base: './models/tiny-resnet' }, data: { train: './images/train' } };
const HEADER = 'task: image-classification\nmodel:\n  base: ./models/tiny-resnet\ndata:\n  train: ./images/train\n';
const TEXT_HEADER = 'task: classification\nmodel:\n  base: x\ndata:\n  train: t.jsonl\n';

/** No configPath: the data and model files are not looked for, only the keys are checked. */
function diagnose(text: string): ConfigDiagnostic[] {
  return validateConfigText(text).diagnostics;
}

/** Asserts one `code` on the `[[marked]]` range (or, for a flow list, on `onText`), and returns it. */
function expectDiagnostic(marked: string, code: string, onText?: string): ConfigDiagnostic {
  const { text, range } = onText
    ? { text: marked, range: { start: marked.indexOf(onText), end: marked.indexOf(onText) + onText.length } }
    : withRange(marked);
  const found = diagnose(text).filter((d) => d.code === code);
  assert.equal(found.length, 1, `expected one ${code}, got: ${JSON.stringify(diagnose(text), null, 1)}`);
  assert.deepEqual(found[0]!.range, range, `${code} is on "${text.slice(found[0]!.range.start, found[0]!.range.end)}"`);
  return found[0]!;
}

describe('image-classification defaults', () => {
  it('trains softmax and evaluates [map, accuracy, f1] with map primary', () => {
    const resolved = resolveConfig(IMAGE);
    assert.equal(resolved.loss.type, 'softmax');
    assert.deepEqual(resolved.evaluation.metrics, ['map', 'accuracy', 'f1']);
    assert.equal(resolved.evaluation.primary, 'map');
  });

  it('reads the image column "image", keeps BatchNorm training, and augments nothing', () => {
    const resolved = resolveConfig(IMAGE);
    assert.equal(resolved.data.columns.image, 'image');
    assert.equal(resolved.data.columns.label, 'label');
    assert.equal(resolved.strategy.freeze_batch_norm, false);
    const { horizontal_flip, vertical_flip, rotation, random_resized_crop, color_jitter } = resolved.preprocess.augment;
    assert.deepEqual(
      { horizontal_flip, vertical_flip, rotation, random_resized_crop, color_jitter },
      {
        horizontal_flip: 0,
        vertical_flip: 0,
        rotation: 0,
        random_resized_crop: undefined,
        color_jitter: undefined,
      },
    );
  });

  it('leaves preprocess.image empty, so that every key comes from the model', () => {
    assert.deepEqual(resolveConfig(IMAGE).preprocess.image, {});
    const written = resolveConfig({ ...IMAGE, preprocess: { image: { size: 256, crop_box: [1, 2, 30, 40] } } });
    assert.deepEqual(written.preprocess.image, { size: 256, crop_box: [1, 2, 30, 40] });
  });

  it('keeps a size or crop written as an object as written, with nothing of the other forms filled in', () => {
    const resolved = resolveConfig({
      ...IMAGE,
      preprocess: { image: { size: { shortest_edge: 256 }, crop: { height: 200, width: 100 } } },
    });
    assert.deepEqual(resolved.preprocess.image, { size: { shortest_edge: 256 }, crop: { height: 200, width: 100 } });
    const exact = resolveConfig({ ...IMAGE, preprocess: { image: { size: { height: 240, width: 320 } } } });
    assert.deepEqual(exact.preprocess.image.size, { height: 240, width: 320 });
  });

  it("fills random_resized_crop and color_jitter once written, with torchvision's defaults and no jitter", () => {
    const resolved = resolveConfig({ ...IMAGE, preprocess: { augment: { random_resized_crop: {}, color_jitter: { brightness: 0.2 } } } });
    assert.deepEqual(resolved.preprocess.augment.random_resized_crop, { scale: [0.08, 1], ratio: [0.75, 4 / 3] });
    assert.deepEqual(resolved.preprocess.augment.color_jitter, { brightness: 0.2, contrast: 0, saturation: 0 });
  });

  it('needs image and label columns, and counts map (no cutoff) as a classification metric', () => {
    assert.deepEqual(requiredRoles('image-classification', 'softmax'), ['image', 'label']);
    assert.deepEqual(requiredRoles('image-classification', 'focal'), ['image', 'label']);
    assert.equal(requiredRoles('image-classification', 'mnrl'), undefined);
    assert.equal(metricFamily('map'), 'classification');
    assert.equal(metricFamily('map@100'), 'ranking');
    assert.equal(suggestedMetrics('image-classification', 'softmax')[0], 'map');
  });
});

describe('the schema takes the image keys', () => {
  it("accepts the contract's config", () => {
    const text = `${HEADER}  columns: { image: path, label: label }
  on_bad_row: skip
preprocess:
  image:
    size: { shortest_edge: 256 }
    crop: 224
    crop_box: [0, 0, 400, 300]
    mean: [0.485, 0.456, 0.406]
    std: [0.229, 0.224, 0.225]
  augment:
    horizontal_flip: 0.5
    vertical_flip: 0
    rotation: 15
    random_resized_crop: { scale: [0.08, 1.0], ratio: [0.75, 1.3333] }
    color_jitter: { brightness: 0.2, contrast: 0.2, saturation: 0.2 }
strategy:
  type: freeze
  freeze_layers: 2
  freeze_batch_norm: true
loss:
  type: focal
evaluation:
  metrics: [map, accuracy, f1]
`;
    assert.deepEqual(diagnose(text), []);
  });

  it('rejects a flip probability above 1, a negative std, crop_box of three numbers and crop: true', () => {
    const codes = (text: string) => diagnose(`${HEADER}preprocess:\n${text}`).map((d) => d.code);
    assert.deepEqual(codes('  augment:\n    horizontal_flip: 1.5\n'), ['out-of-range']);
    assert.ok(codes('  image:\n    std: [0.2, -0.1, 0.2]\n').length > 0);
    assert.ok(codes('  image:\n    crop_box: [0, 0, 10]\n').length > 0);
    assert.ok(codes('  image:\n    crop: true\n').length > 0);
  });

  it('refuses losses other than softmax and focal on the loss', () => {
    const d = expectDiagnostic(`${HEADER}loss:\n  type: [[mnrl]]\n`, 'loss-task-mismatch');
    assert.match(d.message, /softmax, focal/);
  });
});

describe('image checks', () => {
  it('warns on each image key of a text task, on the key', () => {
    const d = expectDiagnostic(`${TEXT_HEADER}preprocess:\n  [[image]]:\n    size: 224\n`, 'image-key-on-text-task');
    assert.match(d.message, /preprocess\.image applies to task image-classification only/);
    expectDiagnostic(`${TEXT_HEADER}preprocess:\n  augment:\n    [[rotation]]: 10\n`, 'image-key-on-text-task');
    expectDiagnostic(`${TEXT_HEADER}strategy:\n  [[freeze_batch_norm]]: true\n`, 'image-key-on-text-task');
    expectDiagnostic(
      `task: classification\nmodel:\n  base: x\ndata:\n  train: t.jsonl\n  columns:\n    [[image]]: path\n`,
      'image-key-on-text-task',
    );
  });

  it('warns on text-only keys of an image task, and refuses LoRA and adapters', () => {
    const d = expectDiagnostic(`${HEADER}  columns:\n    [[anchor]]: q\n`, 'text-key-on-image-task');
    assert.equal(d.severity, 'warning');
    assert.equal(
      expectDiagnostic(`task: image-classification\nmodel:\n  base: x\n  [[pooling]]: cls\ndata:\n  train: t\n`, 'text-key-on-image-task')
        .severity,
      'warning',
    );
    const lora = expectDiagnostic(`${HEADER}strategy:\n  type: [[lora]]\n`, 'text-key-on-image-task');
    assert.equal(lora.severity, 'error');
    assert.match(lora.message, /strategy\.type lora/);
    expectDiagnostic(`${HEADER}preprocess:\n  augment:\n    [[random_swap]]: { count: 1 }\n`, 'text-key-on-image-task');
  });

  it('lets a text task that writes nothing of images pass, and an image task with none of text', () => {
    assert.deepEqual(diagnose(`${TEXT_HEADER}preprocess:\n  augment:\n    seed: 3\n`), []);
    assert.deepEqual(diagnose(`${HEADER}preprocess:\n  augment:\n    seed: 3\n    horizontal_flip: 0.5\n`), []);
  });

  it('refuses a crop larger than a written size, square, rectangular or against the shortest edge', () => {
    const d = expectDiagnostic(`${HEADER}preprocess:\n  image:\n    size: 224\n    crop: [[256]]\n`, 'image-crop-larger-than-size');
    assert.match(d.message, /crop \(256×256\) is larger than preprocess\.image\.size \(224×224\)/);
    expectDiagnostic(
      `${HEADER}preprocess:\n  image:\n    size: { height: 100, width: 300 }\n    crop: [[{ height: 120, width: 120 }]]\n`,
      'image-crop-larger-than-size',
    );
    expectDiagnostic(
      `${HEADER}preprocess:\n  image:\n    size: { shortest_edge: 200 }\n    crop: [[224]]\n`,
      'image-crop-larger-than-size',
    );
    assert.deepEqual(diagnose(`${HEADER}preprocess:\n  image:\n    size: { shortest_edge: 256 }\n    crop: 224\n`), []);
    assert.deepEqual(diagnose(`${HEADER}preprocess:\n  image:\n    size: 224\n    crop: false\n`), []);
  });

  it('refuses a crop box with right <= left or bottom <= top', () => {
    const d = expectDiagnostic(
      `${HEADER}preprocess:\n  image:\n    crop_box: [50, 0, 50, 10]\n`,
      'image-crop-box-empty',
      '[50, 0, 50, 10]',
    );
    assert.match(d.message, /right \(50\) must be greater than left \(50\)/);
    const both = expectDiagnostic(
      `${HEADER}preprocess:\n  image:\n    crop_box: [5, 20, 1, 10]\n`,
      'image-crop-box-empty',
      '[5, 20, 1, 10]',
    );
    assert.match(both.message, /and bottom \(10\) must be greater than top \(20\)/);
    assert.deepEqual(diagnose(`${HEADER}preprocess:\n  image:\n    crop_box: [0, 0, 1, 1]\n`), []);
  });

  it('refuses a random_resized_crop range written [max, min], with the fix', () => {
    const d = expectDiagnostic(
      `${HEADER}preprocess:\n  augment:\n    random_resized_crop:\n      scale: [1.0, 0.5]\n`,
      'image-augment-range',
      '[1.0, 0.5]',
    );
    assert.deepEqual(d.data?.fixes?.[0]?.set, [{ path: ['preprocess', 'augment', 'random_resized_crop', 'scale'], value: [0.5, 1] }]);
  });

  it('refuses freeze_layers beyond the 4 stages of a ResNet, and lets 4 pass', () => {
    const d = expectDiagnostic(`${HEADER}strategy:\n  type: freeze\n  freeze_layers: [[5]]\n`, 'image-freeze-layers-range');
    assert.match(d.message, /a ResNet has 4/);
    assert.deepEqual(
      diagnose(`${HEADER}strategy:\n  type: freeze\n  freeze_layers: 4\n`).filter((found) => found.code === 'image-freeze-layers-range'),
      [],
    );
    assert.deepEqual(
      diagnose(`${TEXT_HEADER}strategy:\n  type: freeze\n  freeze_layers: 8\n`).filter(
        (found) => found.code === 'image-freeze-layers-range',
      ),
      [],
    );
  });

  it('warns on map without a cutoff for a text task', () => {
    const d = expectDiagnostic(`${TEXT_HEADER}evaluation:\n  metrics: [f1, [[map]]]\n`, 'metric-task-mismatch');
    assert.match(d.message, /image-classification only/);
  });
});
