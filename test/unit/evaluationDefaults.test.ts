import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { evaluationSchedule } from '../../src/shared/config/evaluationSchedule';
import { formatRunPlan } from '../../src/shared/config/runPlan';
import { planFromValidation, validateConfigText } from '../../src/shared/config/validateConfig';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { baselineNotBeaten, describeBaselineNotBeaten } from '../../src/shared/monitor/baselineWarning';
import { RunProgress } from '../../src/shared/monitor/runProgress';
import { DivergedError } from '../../src/trainer/training/trainingRun';
import { TempWorkspace } from '../helpers/tempWorkspace';

const base = (extra: Partial<EmbedTuneConfig> = {}): EmbedTuneConfig => ({ model: { base: 'x' }, data: { train: 't.jsonl' }, ...extra });

describe('defaults that follow the task', () => {
  it('give each task a loss that fits it, and metrics that task and loss can compute, the first one primary', () => {
    const cases: Array<[Partial<EmbedTuneConfig>, string, string[]]> = [
      [{}, 'mnrl', ['ndcg@10']],
      [{ loss: { type: 'cosent' } }, 'cosent', ['spearman', 'pearson']],
      [{ loss: { type: 'contrastive' } }, 'contrastive', ['f1', 'accuracy']],
      [{ task: 'classification' }, 'softmax', ['f1', 'accuracy']],
      [{ task: 'token-classification' }, 'softmax', ['f1', 'precision', 'recall']],
      [{ task: 'token-classification', loss: { type: 'crf' } }, 'crf', ['f1', 'precision', 'recall']],
    ];
    for (const [extra, loss, metrics] of cases) {
      const resolved = resolveConfig(base(extra));
      assert.equal(resolved.loss.type, loss, JSON.stringify(extra));
      assert.deepEqual(resolved.evaluation.metrics, metrics, JSON.stringify(extra));
      assert.equal(resolved.evaluation.primary, metrics[0]);
    }
  });

  it('turn evaluation and early stopping on unless the config turns them off', () => {
    const resolved = resolveConfig(base());
    assert.equal(resolved.evaluation.enabled, true);
    assert.equal(resolved.early_stopping.enabled, true);
    assert.equal(resolveConfig(base({ evaluation: { enabled: false } })).evaluation.enabled, false);
  });
});

describe('evaluationSchedule, which both engines and the dry run ask', () => {
  const switches = (evaluation: boolean, earlyStopping: boolean) => ({
    evaluation: { enabled: evaluation },
    early_stopping: { enabled: earlyStopping },
  });

  it('evaluates and stops early by default wherever there are validation rows', () => {
    assert.deepEqual(evaluationSchedule(resolveConfig(base()), 12), { evaluates: true, stopsEarly: true });
    assert.deepEqual(evaluationSchedule(resolveConfig(base()), undefined), { evaluates: true, stopsEarly: true });
  });

  it('is off, with the reason, when evaluation is disabled or there is nothing to evaluate on', () => {
    assert.deepEqual(evaluationSchedule(switches(false, true), 12), {
      evaluates: false,
      stopsEarly: false,
      why: 'evaluation.enabled is false',
    });
    assert.deepEqual(evaluationSchedule(switches(true, true), 0), {
      evaluates: false,
      stopsEarly: false,
      why: 'there are no validation rows',
    });
    assert.deepEqual(evaluationSchedule(switches(true, false), 12), {
      evaluates: true,
      stopsEarly: false,
      why: 'early_stopping.enabled is false',
    });
  });
});

describe('the dry run says what evaluation will do', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `ticket ${i}`, label: i % 2 === 0 ? 'billing' : 'bug' })).join(
    '\n',
  );
  workspace.write('data/labels.jsonl', `${rows}\n`);
  const configPath = workspace.path('run.embedtune.yaml');
  const planLines = (text: string) => formatRunPlan(planFromValidation(validateConfigText(text, { configPath })));
  const CLASSIFIER = 'task: classification\nmodel:\n  base: x\ndata:\n  train: data/labels.jsonl\nstrategy:\n  type: lora\n';

  it('with no evaluation or early_stopping section: the task default loss and metrics, every epoch, early stopping on', () => {
    const lines = planLines(CLASSIFIER);
    assert.match(lines[0]!, /task classification · loss softmax/);
    assert.equal(
      lines.at(-1),
      'evaluation before training and every epoch on f1, accuracy (primary f1) · early stopping after 3 evaluations without improvement',
    );
  });

  it('with evaluation.enabled false or early_stopping.enabled false, says what is off', () => {
    assert.equal(
      planLines(`${CLASSIFIER}evaluation:\n  enabled: false\n`).at(-1),
      'evaluation off (evaluation.enabled is false) · no early stopping · the final weights are exported',
    );
    assert.equal(
      planLines(`${CLASSIFIER}evaluation:\n  every: 2\n  metrics: [accuracy]\nearly_stopping:\n  enabled: false\n`).at(-1),
      'evaluation before training and every 2 steps on accuracy (primary accuracy) · no early stopping (early_stopping.enabled is false)',
    );
  });
});

describe('the checks read the same defaults', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  const rows = Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `ticket ${i}`, label: i % 2 === 0 ? 'billing' : 'bug' })).join(
    '\n',
  );
  workspace.write('data/labels.jsonl', `${rows}\n`);
  const configPath = workspace.path('run.embedtune.yaml');
  const diagnose = (text: string) => validateConfigText(text, { configPath }).diagnostics;
  const CLASSIFIER = 'task: classification\nmodel:\n  base: x\ndata:\n  train: data/labels.jsonl\nstrategy:\n  type: lora\n';

  it('a primary metric outside the task default metrics is named against those defaults', () => {
    const found = diagnose(`${CLASSIFIER}evaluation:\n  primary: ndcg@10\n`).find((d) => d.code === 'primary-metric-not-computed');
    assert.equal(
      found?.message,
      'evaluation.primary is "ndcg@10", but evaluation.metrics (the classification task\'s default) computes only f1, accuracy.',
    );
    assert.ok(!diagnose(`${CLASSIFIER}evaluation:\n  primary: accuracy\n`).some((d) => d.code === 'primary-metric-not-computed'));
  });

  it('early stopping asked for with evaluation off offers to disable it, or to turn evaluation back on', () => {
    const found = diagnose(`${CLASSIFIER}evaluation:\n  enabled: false\nearly_stopping:\n  patience: 2\n`).find(
      (d) => d.code === 'early-stopping-without-evaluation',
    );
    assert.deepEqual(
      found?.data?.fixes?.map((fix) => [fix.title, fix.set]),
      [
        ['Disable early stopping', [{ path: ['early_stopping', 'enabled'], value: false }]],
        ['Turn evaluation on', [{ path: ['evaluation', 'enabled'], value: true }]],
      ],
    );
  });
});

describe('a run that never beats the base model', () => {
  it('is told apart from one that does, in either mode, and only when both scores are known', () => {
    assert.deepEqual(baselineNotBeaten('spearman', 0.408, 0.384, 'max'), { metric: 'spearman', baseline: 0.408, best: 0.384, mode: 'max' });
    assert.deepEqual(baselineNotBeaten('spearman', 0.408, 0.408, 'max')?.best, 0.408, 'matching the base model is not beating it');
    assert.equal(baselineNotBeaten('spearman', 0.408, 0.41, 'max'), undefined);
    assert.equal(baselineNotBeaten('loss', 0.5, 0.4, 'min'), undefined);
    assert.ok(baselineNotBeaten('loss', 0.5, 0.6, 'min'));
    assert.equal(baselineNotBeaten('spearman', null, 0.3, 'max'), undefined);
    assert.equal(baselineNotBeaten('spearman', 0.4, null, 'max'), undefined);
  });

  it('is worded with both numbers', () => {
    assert.equal(
      describeBaselineNotBeaten({ metric: 'spearman', baseline: 0.408, best: 0.384, mode: 'max' }),
      'No trained checkpoint beat the base model: the best spearman after training is 0.3840, below 0.4080 before training. ' +
        'The exported model is that best trained checkpoint; lower training.learning_rate, train on more data, or keep the base model.',
    );
  });

  it('reaches the dashboard through RunProgress, as a warning and in the log, and a resume starts clean', () => {
    const envelope = { time: '2026-12-03T10:00:00.000Z', run_id: 'r', seq: 0 };
    const warning: RunEvent = { ...envelope, type: 'baseline_not_beaten', metric: 'spearman', baseline: 0.408, best: 0.384, mode: 'max' };
    const progress = new RunProgress().add([warning]);
    assert.deepEqual(progress.baselineWarning, { metric: 'spearman', baseline: 0.408, best: 0.384, mode: 'max' });
    assert.equal(progress.log.at(-1)?.level, 'warning');
    assert.match(progress.log.at(-1)!.message, /^No trained checkpoint beat the base model/);
    const started = { ...envelope, type: 'run_started' } as unknown as RunEvent;
    assert.equal(
      new RunProgress().add([warning, { ...started, dataset: { train_rows: 1, validation_rows: 1, skipped_rows: 0 } } as RunEvent])
        .baselineWarning,
      null,
    );
  });
});

describe('a loss that stops being finite', () => {
  it('names the checkpoint that was kept, or says that none had been saved', () => {
    assert.equal(
      new DivergedError(0, Number.NaN, null, null).message,
      'The loss became NaN at step 1; training stopped and no checkpoint had been saved yet, so there is nothing to resume from or export. Lower training.learning_rate or check the data.',
    );
    assert.match(
      new DivergedError(40, Number.NaN, 'step-40', 'checkpoints/step-20').message,
      /nothing after the newest checkpoint, checkpoints\/step-40, was saved \(the best is checkpoints\/step-20\); --resume continues from it/,
    );
    assert.doesNotMatch(new DivergedError(40, Number.NaN, 'step-40', 'checkpoints/step-40').message, /the best is/);
  });
});
