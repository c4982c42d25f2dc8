import assert from 'node:assert/strict';
import { appendFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { parseConfigText } from '../../src/shared/config/parsedConfig';
import { COMPARE_RUNS_COMMAND, historyAt, historyLenses, historyTitle, outputDirOf } from '../../src/server/service/hyperparameterHistory';
import { RunHistory } from '../../src/server/service/runHistory';
import { writePastRun } from '../helpers/pastRuns';
import { TempWorkspace } from '../helpers/tempWorkspace';

const CONFIG = `name: faq
task: embedding
model:
  base: sentence-transformers/all-MiniLM-L6-v2
data:
  train: train.jsonl
training:
  epochs: 1
  batch_size: 16
  learning_rate: 0.00002
output_dir: out
`;

const workspace = new TempWorkspace();
after(() => workspace.dispose());

function setUp(name: string) {
  const configPath = workspace.write(`${name}/faq.embedtune.yaml`, CONFIG);
  const outputDir = workspace.path(`${name}/out`);
  return { configPath, outputDir };
}

test('runs of this config are grouped by learning rate, best value first, with metric and date', async () => {
  const { configPath, outputDir } = setUp('grouped');
  writePastRun(configPath, CONFIG, outputDir, {
    overrides: { training: { learning_rate: 5e-5 } },
    evals: [0.7, 0.79],
    startedAt: new Date('2026-12-02T10:00:00Z'),
  });
  writePastRun(configPath, CONFIG, outputDir, {
    overrides: { training: { learning_rate: 2e-5 } },
    evals: [0.8, 0.82, 0.81],
    startedAt: new Date('2026-12-03T09:00:00Z'),
  });
  writePastRun(configPath, CONFIG, outputDir, {
    overrides: { training: { learning_rate: 2e-5 } },
    evals: [0.75],
    startedAt: new Date('2026-12-01T09:00:00Z'),
  });
  // Another config's run in the same output_dir is not this config's history.
  const other = workspace.write('grouped/other.embedtune.yaml', CONFIG);
  writePastRun(other, CONFIG, outputDir, {
    overrides: { training: { learning_rate: 1e-3 } },
    evals: [0.99],
    startedAt: new Date('2026-12-03T11:00:00Z'),
  });

  const runs = await new RunHistory().runsOf(configPath, outputDirOf(configPath, { output_dir: 'out' }));
  assert.equal(runs.length, 3);
  const history = historyAt(runs, ['training', 'learning_rate']);
  assert.deepEqual(
    history.map((group) => [group.value, group.runs.length]),
    [
      ['2e-5', 2],
      ['5e-5', 1],
    ],
  );
  assert.equal(historyTitle(history), '2e-5 → ndcg@10 0.82 (Dec 3) · 5e-5 → 0.79 (Dec 2)');
  // Every run used batch size 16: one value, its best run's metric.
  assert.equal(historyTitle(historyAt(runs, ['training', 'batch_size'])), '16 → ndcg@10 0.82 (Dec 3)');
});

test('a run without run_finished counts its best evaluation; one with no evaluation says so', async () => {
  const { configPath, outputDir } = setUp('unfinished');
  writePastRun(configPath, CONFIG, outputDir, {
    overrides: { training: { epochs: 3 } },
    evals: [0.6, 0.9, 0.5],
    finished: false,
    startedAt: new Date('2026-11-30T10:00:00Z'),
  });
  writePastRun(configPath, CONFIG, outputDir, {
    overrides: { training: { epochs: 1 } },
    evals: [],
    finished: false,
    startedAt: new Date('2026-12-01T10:00:00Z'),
  });
  const runs = await new RunHistory().runsOf(configPath, outputDir);
  assert.equal(historyTitle(historyAt(runs, ['training', 'epochs'])), '3 → ndcg@10 0.9 (Nov 30) · 1 → no metric yet (Dec 1)');
});

test('lower is better when the resolved early_stopping.mode says min', async () => {
  const { configPath, outputDir } = setUp('min');
  const early = { enabled: true, mode: 'min' };
  writePastRun(configPath, CONFIG, outputDir, {
    overrides: { training: { batch_size: 8 }, early_stopping: early },
    evals: [0.3],
    metric: 'loss',
    startedAt: new Date('2026-12-01T10:00:00Z'),
  });
  writePastRun(configPath, CONFIG, outputDir, {
    overrides: { training: { batch_size: 32 }, early_stopping: early },
    evals: [0.2],
    metric: 'loss',
    startedAt: new Date('2026-12-02T10:00:00Z'),
  });
  const runs = await new RunHistory().runsOf(configPath, outputDir);
  assert.equal(historyTitle(historyAt(runs, ['training', 'batch_size'])), '32 → loss 0.2 (Dec 2) · 8 → 0.3 (Dec 1)');
});

test('a lens sits on each hyperparameter line and opens the best run compared with the best of each other value', async () => {
  const { configPath, outputDir } = setUp('lenses');
  const worse = writePastRun(configPath, CONFIG, outputDir, {
    overrides: { training: { learning_rate: 5e-5 } },
    evals: [0.79],
    startedAt: new Date('2026-12-02T10:00:00Z'),
  });
  const best = writePastRun(configPath, CONFIG, outputDir, { evals: [0.82], startedAt: new Date('2026-12-03T10:00:00Z') });
  const document = TextDocument.create(`file://${configPath}`, 'embedtune', 1, CONFIG);
  const lenses = historyLenses(document, parseConfigText(CONFIG), await new RunHistory().runsOf(configPath, outputDir));
  const byLine = new Map(lenses.map((lens) => [lens.range.start.line, lens.command!]));
  const learningRate = byLine.get(CONFIG.split('\n').indexOf('  learning_rate: 0.00002'))!;
  assert.equal(learningRate.title, '2e-5 → ndcg@10 0.82 (Dec 3) · 5e-5 → 0.79 (Dec 2)');
  assert.equal(learningRate.command, COMPARE_RUNS_COMMAND);
  assert.deepEqual(learningRate.arguments, [[best.path, worse.path]]);
  assert.ok(byLine.has(CONFIG.split('\n').indexOf('  base: sentence-transformers/all-MiniLM-L6-v2')), 'model.base has a lens');
  // strategy is not in the document: no line to put its lens on.
  assert.equal(lenses.length, 4, lenses.map((lens) => lens.command?.title).join('\n'));
});

test('a run folder is read again only when one of its files changes', async () => {
  const { configPath, outputDir } = setUp('cache');
  const run = writePastRun(configPath, CONFIG, outputDir, { evals: [0.5], finished: false, startedAt: new Date('2026-12-03T10:00:00Z') });
  const history = new RunHistory();
  const first = (await history.runsOf(configPath, outputDir))[0]!;
  assert.equal((await history.runsOf(configPath, outputDir))[0], first, 'unchanged folder: the same object from the cache');
  const finished = {
    type: 'run_finished',
    time: new Date().toISOString(),
    run_id: run.runId,
    seq: 99,
    reason: 'completed',
    step: 1,
    best_checkpoint: null,
    best_metric: { name: 'ndcg@10', value: 0.6 },
    duration_seconds: 1,
  };
  appendFileSync(run.eventsPath, `${JSON.stringify(finished)}\n`);
  assert.equal((await history.runsOf(configPath, outputDir))[0]!.best?.value, 0.6);
});

test('torn files read as unknown, never throw', async () => {
  const { configPath, outputDir } = setUp('torn');
  const run = writePastRun(configPath, CONFIG, outputDir, { evals: [0.5], startedAt: new Date('2026-12-03T10:00:00Z') });
  writeFileSync(join(run.path, 'config.resolved.yaml'), 'training: [unclosed\n');
  // A plain file beside the run folders is no run, and does not stop the others being read.
  writeFileSync(join(outputDir, 'notes.txt'), 'tried a higher learning rate\n');
  appendFileSync(run.eventsPath, '{"type":"eval", half');
  const runs = await new RunHistory().runsOf(configPath, outputDir);
  assert.equal(runs.length, 1);
  assert.deepEqual(historyAt(runs, ['training', 'learning_rate']), []);
});

test('a long log is read from its tail, and a run without run.json is matched by its run_started event', async () => {
  const { configPath, outputDir } = setUp('long');
  const long = writePastRun(configPath, CONFIG, outputDir, {
    evals: [0.4, 0.71, 0.6],
    stepsPerEval: 500,
    startedAt: new Date('2026-12-03T10:00:00Z'),
  });
  const bare = writePastRun(configPath, CONFIG, outputDir, {
    overrides: { training: { batch_size: 8 } },
    evals: [0.65],
    startedAt: new Date('2026-12-02T10:00:00Z'),
  });
  rmSync(join(bare.path, 'run.json'));
  assert.ok(statSync(long.eventsPath).size > 100_000, 'the log is longer than the tail read first');
  const runs = await new RunHistory().runsOf(configPath, outputDir);
  // Without run.json the date is run_started's time, which the writer sets to now.
  assert.deepEqual(
    runs.map((run) => [run.dir, run.best?.value]),
    [
      [bare.path, 0.65],
      [long.path, 0.71],
    ],
  );
});
