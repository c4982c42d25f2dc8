import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRunPlan, runPlanTitle, type RunPlan } from '../../src/shared/config/runPlan';

const plan = (task: string): RunPlan => ({
  task,
  loss: 'softmax',
  strategy: 'full',
  engine: 'tfjs',
  trainRows: 48,
  validationRows: 18,
  effectiveBatchSize: 8,
  epochs: 4,
  stepsPerEpoch: 6,
  totalSteps: 24,
  warmupSteps: 1,
  evaluation: {
    evaluates: false,
    stopsEarly: false,
    why: 'there are no validation rows',
    every: 'epoch',
    metrics: ['map'],
    primary: 'map',
    patience: 3,
  },
});

describe('the dry-run plan of an image run counts images, and text runs keep their rows', () => {
  it('names images in the code lens title and in validate --summary, without the text cleaning note', () => {
    assert.equal(runPlanTitle(plan('image-classification')), 'Dry run: 48 images · batch 8 · 6 steps/epoch · 24 total · 1 warmup');
    assert.equal(formatRunPlan(plan('image-classification'))[2], 'images 48 train · 18 validation');
  });

  it('keeps rows for text tasks', () => {
    assert.equal(runPlanTitle(plan('classification')), 'Dry run: 48 rows · batch 8 · 6 steps/epoch · 24 total · 1 warmup');
    assert.equal(formatRunPlan(plan('classification'))[2], 'rows 48 train · 18 validation (before cleaning and dedupe)');
  });
});
