import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CheckpointEvent, EvalEvent, RunEvent } from '../../src/shared/events/runEvents';
import { BEST_POINTER_FILE, CHECKPOINTS_DIR, checkpointRelativePath, EVENTS_FILE } from '../../src/shared/run/runFolder';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');
const EXAMPLES = resolve(__dirname, '../../examples/retrieval/data');
const KEEP = 2;
const STEPS = 6;

// min_delta is far above any change of ndcg@10, so the first evaluation after a step (step 1) stays the best and every
// later checkpoint is newer than it: rotation must delete around the best. Patience is high enough never to stop.
const CONFIG = `name: rotation
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: query, positive: passage}
strategy:
  type: full
training:
  epochs: 1
  batch_size: 16
  learning_rate: 0.001
evaluation:
  every: 1
  metrics: [ndcg@10]
early_stopping:
  patience: 50
  min_delta: 1000
checkpoints:
  every: 1
  keep: ${KEEP}
  keep_best: true
output_dir: runs
`;

function firstLines(file: string, count: number): string {
  return `${readFileSync(join(EXAMPLES, file), 'utf8').split('\n').slice(0, count).join('\n')}\n`;
}

describe('checkpoint rotation in the tfjs engine', () => {
  let workspace: TempWorkspace;
  let runDir: string;
  let events: RunEvent[];

  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    workspace = new TempWorkspace();
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 32, heads: 4, intermediate: 64 });
    workspace.write('data/train.jsonl', firstLines('train.jsonl', STEPS * 16));
    workspace.write('data/validation.jsonl', firstLines('validation.jsonl', 16));
    workspace.write('run.embedtune.yaml', CONFIG);
    const result = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], {
      cwd: workspace.root,
      encoding: 'utf8',
      timeout: 240_000,
    });
    assert.equal(result.status, 0, result.stderr + result.stdout);
    const runs = readdirSync(workspace.path('runs'));
    assert.equal(runs.length, 1);
    runDir = join(workspace.path('runs'), runs[0]!);
    events = readFileSync(join(runDir, EVENTS_FILE), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RunEvent);
  });
  after(() => workspace.dispose());

  it('checkpoints every step, and the best is the first evaluation after training began', () => {
    const saved = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint');
    assert.deepEqual(
      saved.map((e) => e.path),
      Array.from({ length: STEPS }, (_, i) => checkpointRelativePath(i + 1)),
    );
    const best = events.filter((e): e is EvalEvent => e.type === 'eval' && e.is_best);
    assert.deepEqual(
      best.map((e) => e.step),
      [1],
      'only step 1 is ever the best',
    );
  });

  it('keeps exactly the newest `keep` checkpoints plus the best on disk, and `best` points at it', () => {
    const onDisk = readdirSync(join(runDir, CHECKPOINTS_DIR)).sort();
    assert.deepEqual(onDisk, ['step-1', `step-${STEPS - 1}`, `step-${STEPS}`]);
    assert.equal(readFileSync(join(runDir, BEST_POINTER_FILE), 'utf8'), `${checkpointRelativePath(1)}\n`);
    const finished = events.at(-1);
    assert.equal(finished?.type, 'run_finished');
    assert.equal(finished.type === 'run_finished' && finished.best_checkpoint, checkpointRelativePath(1));
  });

  it("lists in each checkpoint event's `deleted` exactly the checkpoints that fell out of the newest `keep`, never the best", () => {
    // The rule, replayed independently over the checkpoint events: after each save, everything older than the newest
    // KEEP is deleted except the best.
    const present: string[] = [];
    for (const event of events.filter((e): e is CheckpointEvent => e.type === 'checkpoint')) {
      present.push(event.path);
      const expected = present.slice(0, Math.max(0, present.length - KEEP)).filter((path) => path !== checkpointRelativePath(1));
      assert.deepEqual(event.deleted, expected, `deleted after saving ${event.path}`);
      for (const path of expected) present.splice(present.indexOf(path), 1);
    }
    assert.deepEqual(present, [checkpointRelativePath(1), checkpointRelativePath(STEPS - 1), checkpointRelativePath(STEPS)]);
    const deletedByStep = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint').map((e) => e.deleted);
    assert.deepEqual(deletedByStep, [[], [], [], ['checkpoints/step-2'], ['checkpoints/step-3'], ['checkpoints/step-4']]);
  });
});
