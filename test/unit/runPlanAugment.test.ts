import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { formatRunPlan, runPlanTitle, type RunPlan } from '../../src/shared/config/runPlan';
import { planFromValidation, validateConfigText } from '../../src/shared/config/validateConfig';
import { runPreviewData } from '../../src/trainer/cli/previewDataCommand';
import { BatchIterator } from '../../src/trainer/data/batchIterator';
import { loadTrainingData } from '../../src/trainer/data/loadTrainingData';
import type { Example } from '../../src/trainer/data/trainingExamples';
import { TempWorkspace } from '../helpers/tempWorkspace';

const CLASSIFICATION = resolve(__dirname, '../../examples/classification/classification.embedtune.yaml');

function planOf(configPath: string): RunPlan {
  return planFromValidation(validateConfigText(readFileSync(configPath, 'utf8'), { configPath }));
}

/** What the trainer itself trains on for the config: its training rows and optimizer steps per epoch. */
async function trainerCounts(configPath: string): Promise<{ rows: number; added: number; stepsPerEpoch: number }> {
  const written = validateConfigText(readFileSync(configPath, 'utf8'), { configPath }).parsed.value as EmbedTuneConfig;
  const config = resolveConfig(written);
  const data = await loadTrainingData(config, dirname(configPath));
  const batches = new BatchIterator<Example>(data.train, { batchSize: config.training.batch_size, seed: config.training.seed });
  return {
    rows: data.train.length,
    added: data.summary.preprocess.rows_augmented,
    stepsPerEpoch: Math.max(1, Math.ceil(batches.batchesPerEpoch / config.training.gradient_accumulation_steps)),
  };
}

describe('the dry run counts the augmented copies the trainer adds', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  workspace.write(
    'data/validation.jsonl',
    `${JSON.stringify({ text: 'a held-out ticket', label: 'a' })}\n${JSON.stringify({ text: 'another held-out ticket', label: 'b' })}\n`,
  );

  it('plans the classification example on the rows and steps that training uses', async () => {
    const plan = planOf(CLASSIFICATION);
    const trainer = await trainerCounts(CLASSIFICATION);
    // 205 tickets less the 20% validation split leave 164; synonym replacement and random deletion add one copy each.
    assert.equal(plan.trainRows, 164);
    assert.equal(plan.augmentedCopies, 328);
    assert.equal(plan.approximate, true);
    assert.equal(plan.trainRows! + plan.augmentedCopies!, trainer.rows);
    assert.equal(plan.augmentedCopies, trainer.added);
    assert.equal(plan.stepsPerEpoch, trainer.stepsPerEpoch);
    assert.equal(plan.stepsPerEpoch, 31);
    assert.equal(plan.totalSteps, 310);
    // What `embedtune preview-data` reports for the example.
    const printed: string[] = [];
    assert.equal(
      await runPreviewData([CLASSIFICATION, '--rows', '1'], { out: (line) => printed.push(line), err: (line) => printed.push(line) }),
      0,
    );
    assert.match(
      printed.join('\n'),
      new RegExp(`training rows: ${plan.trainRows! + plan.augmentedCopies!}; validation rows: ${plan.validationRows}`),
    );
    const lines = formatRunPlan(plan);
    assert.match(lines[2]!, /^rows 164 train \+ up to 328 augmented copies \(about 492 training rows\) · 41 validation/);
    assert.match(lines[3]!, /^steps about 31 per epoch · about 310 total · 31 warmup$/);
    assert.equal(
      runPlanTitle(plan),
      'Dry run: 164 rows + up to 328 augmented · batch 16 · about 31 steps/epoch · about 310 total · 31 warmup',
    );
  });

  it('counts one copy for an operation written without a count, none for count 0, and is exact without augmentation', () => {
    const rows = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ text: `ticket number ${i} about the invoice`, label: i % 2 ? 'a' : 'b' }),
    );
    workspace.write('data/rows.jsonl', `${rows.join('\n')}\n`);
    const header =
      'task: classification\nmodel:\n  base: x\ndata:\n  train: data/rows.jsonl\n  validation: data/validation.jsonl\ntraining:\n  batch_size: 8\n';
    const plain = planOf(workspace.write('plain.embedtune.yaml', header));
    assert.equal(plain.augmentedCopies, undefined);
    assert.equal(plain.approximate, undefined);
    assert.equal(plain.stepsPerEpoch, 5);
    assert.match(formatRunPlan(plain)[3]!, /^steps 5 per epoch · 5 total/);
    const augmented = planOf(
      workspace.write(
        'augmented.embedtune.yaml',
        `${header}preprocess:\n  augment:\n    random_swap: {}\n    random_deletion: { count: 2 }\n    synonym_replacement: { count: 0 }\n`,
      ),
    );
    assert.equal(augmented.augmentedCopies, 120);
    assert.equal(augmented.stepsPerEpoch, 20);
  });

  it('checks that epoch checkpoints fall on evaluations with the augmented steps per epoch', () => {
    const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `alpha${i} beta${i} gamma${i}`, label: i % 2 ? 'a' : 'b' }));
    workspace.write('data/forty.jsonl', `${rows.join('\n')}\n`);
    const base =
      'task: classification\nloss:\n  type: softmax\nmodel:\n  base: x\ndata:\n  train: data/forty.jsonl\n  validation: data/validation.jsonl\ntraining:\n  batch_size: 8\nevaluation:\n  every: 10\n  metrics: [accuracy]\n  primary: accuracy\ncheckpoints:\n  every: epoch\n';
    const codes = (text: string) =>
      validateConfigText(text, { configPath: workspace.write('check.embedtune.yaml', text) }).diagnostics.map((d) => d.code);
    // 40 rows are 5 steps an epoch, off the every-10 evaluations; with one copy each, 80 rows are 10 steps, on them.
    assert.ok(codes(base).includes('checkpoint-interval-mismatch'));
    assert.ok(!codes(`${base}preprocess:\n  augment:\n    random_deletion: { count: 1 }\n`).includes('checkpoint-interval-mismatch'));
  });

  it('is an upper estimate when some rows cannot be changed, as the trainer drops their copies', async () => {
    // Random deletion cannot change a one-word ticket, so the trainer drops those copies.
    const rows = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ text: i < 10 ? `word${i}` : `alpha${i} beta${i} gamma${i} delta${i}`, label: i % 2 ? 'a' : 'b' }),
    );
    workspace.write('data/short.jsonl', `${rows.join('\n')}\n`);
    const configPath = workspace.write(
      'short.embedtune.yaml',
      'task: classification\nloss:\n  type: softmax\nmodel:\n  base: x\ndata:\n  train: data/short.jsonl\n  validation: data/validation.jsonl\ntraining:\n  batch_size: 8\npreprocess:\n  augment:\n    random_deletion: { count: 1 }\n',
    );
    const plan = planOf(configPath);
    const trainer = await trainerCounts(configPath);
    assert.equal(plan.augmentedCopies, 30);
    assert.equal(trainer.added, 20);
    assert.ok(plan.trainRows! + plan.augmentedCopies! > trainer.rows);
    assert.equal(plan.stepsPerEpoch, 8);
    assert.equal(trainer.stepsPerEpoch, 7);
    assert.match(formatRunPlan(plan)[3]!, /^steps about 8 per epoch/);
  });
});
