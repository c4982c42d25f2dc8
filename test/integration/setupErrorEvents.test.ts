import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import eventsSchema from '../../schemas/events.schema.json';
import { CHECKPOINTS_DIR, EVENTS_FILE, RUN_INFO_FILE, TRAINER_STATE_FILE } from '../../src/shared/run/runFolder';
import { NO_RUN_FOLDER_ID, type ErrorEvent, type RunEvent } from '../../src/shared/events/runEvents';
import { readSafetensors, writeSafetensors } from '../../src/trainer/model/safetensors';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');
const EXAMPLES = resolve(__dirname, '../../examples/retrieval/data');
const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(eventsSchema);

const CONFIG = `name: refused
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: query, positive: passage}
training:
  epochs: 1
  batch_size: 16
  learning_rate: 0.001
checkpoints:
  keep: 2
output_dir: runs
`;

function firstLines(file: string, count: number): string {
  return `${readFileSync(join(EXAMPLES, file), 'utf8').split('\n').slice(0, count).join('\n')}\n`;
}

function workspaceWith(config: string): TempWorkspace {
  const workspace = new TempWorkspace();
  buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 32, heads: 4, intermediate: 64 });
  workspace.write('data/train.jsonl', firstLines('train.jsonl', 32));
  workspace.write('data/validation.jsonl', firstLines('validation.jsonl', 16));
  workspace.write('run.embedtune.yaml', config);
  return workspace;
}

function train(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml', ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
}

/** Every stdout line, each of which must be a valid event. */
function stdoutEvents(stdout: string): RunEvent[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const event = JSON.parse(line) as RunEvent;
      assert.ok(validateEvent(event), `${line}: ${JSON.stringify(validateEvent.errors)}`);
      return event;
    });
}

function onlyError(stdout: string): ErrorEvent {
  const events = stdoutEvents(stdout);
  assert.equal(events.length, 1, `one event on stdout, got ${stdout}`);
  assert.equal(events[0]!.type, 'error');
  return events[0] as ErrorEvent;
}

describe('embedtune train --events stdout, when it fails before it has a run folder', () => {
  before(() => assert.ok(existsSync(CLI), 'dist/cli.js is built'));

  describe('a config with two errors', () => {
    let workspace: TempWorkspace;
    let result: ReturnType<typeof train>;

    before(() => {
      workspace = workspaceWith(CONFIG.replace('learning_rate: 0.001', 'lerning_rate: 0.001').replace('keep: 2', 'keep: 0'));
      result = train(workspace.root, ['--events', 'stdout']);
    });
    after(() => workspace.dispose());

    it('prints one error event on stdout with each error’s line, column, key and code', () => {
      assert.equal(result.status, 1);
      const error = onlyError(result.stdout);
      assert.equal(error.run_id, NO_RUN_FOLDER_ID);
      assert.equal(error.seq, 0);
      assert.deepEqual(error.where, { file: 'run.embedtune.yaml', phase: 'config' });
      assert.match(error.message, /run\.embedtune\.yaml has 2 error\(s\); fix them before training/);
      assert.deepEqual(
        (error.problems ?? []).map(({ file, line, column, code }) => ({ file, line, column, code })),
        [
          { file: 'run.embedtune.yaml', line: 12, column: 3, code: 'unknown-key' },
          { file: 'run.embedtune.yaml', line: 14, column: 9, code: 'out-of-range' },
        ],
      );
      assert.deepEqual(
        error.problems?.map((problem) => problem.key),
        ['training.lerning_rate', 'checkpoints.keep'],
      );
      assert.ok(!existsSync(workspace.path('runs')), 'no run folder');
    });

    it('still says it in words on stderr, as without --events', () => {
      assert.match(result.stderr, /run\.embedtune\.yaml:12:3 error unknown-key Unknown key "lerning_rate"/);
      const plain = train(workspace.root, []);
      assert.equal(plain.status, 1);
      assert.equal(plain.stdout, '', 'no event without --events stdout');
      assert.equal(plain.stderr, result.stderr);
    });
  });

  it('a --resume that names no checkpoint is an error event of phase resume', () => {
    const workspace = workspaceWith(CONFIG);
    try {
      const result = train(workspace.root, ['--resume', 'runs/nothing-here', '--events', 'stdout']);
      assert.equal(result.status, 1);
      const error = onlyError(result.stdout);
      assert.deepEqual(error.where, { phase: 'resume' });
      assert.match(error.message, /--resume runs\/nothing-here: no EmbedTune checkpoint there/);
      assert.match(result.stderr, /embedtune train: --resume runs\/nothing-here: no EmbedTune checkpoint there/);
    } finally {
      workspace.dispose();
    }
  });

  it('a --resume of a checkpoint this engine cannot read fails before touching that run', () => {
    const workspace = workspaceWith(CONFIG);
    try {
      assert.equal(train(workspace.root, []).status, 0);
      const [runId] = readdirSync(workspace.path('runs'));
      const runFolder = workspace.path(`runs/${runId}`);
      const [checkpoint] = readdirSync(join(runFolder, CHECKPOINTS_DIR));
      const statePath = join(runFolder, CHECKPOINTS_DIR, checkpoint!, TRAINER_STATE_FILE);
      writeFileSync(statePath, JSON.stringify({ format: 'hf-trainer-state', global_step: 2 }));
      const before = {
        info: readFileSync(join(runFolder, RUN_INFO_FILE), 'utf8'),
        events: readFileSync(join(runFolder, EVENTS_FILE), 'utf8'),
      };

      const result = train(workspace.root, ['--resume', `runs/${runId}`, '--events', 'stdout']);
      assert.equal(result.status, 1);
      const error = onlyError(result.stdout);
      assert.equal(error.run_id, NO_RUN_FOLDER_ID);
      assert.match(error.message, /has format "hf-trainer-state", which this EmbedTune cannot read/);
      assert.equal(readFileSync(join(runFolder, RUN_INFO_FILE), 'utf8'), before.info, 'run.json still says finished');
      assert.equal(readFileSync(join(runFolder, EVENTS_FILE), 'utf8'), before.events, 'nothing appended to the finished run');
    } finally {
      workspace.dispose();
    }
  });

  it('a config file that does not exist is an error event too', () => {
    const workspace = new TempWorkspace();
    try {
      const result = train(workspace.root, ['--events', 'stdout']);
      assert.equal(result.status, 1);
      const error = onlyError(result.stdout);
      assert.deepEqual(error.where, { phase: 'config' });
      assert.match(error.message, /The config run\.embedtune\.yaml does not exist\./);
    } finally {
      workspace.dispose();
    }
  });

  it('a failure after the run folder exists is reported once, in the run’s own events', () => {
    const workspace = workspaceWith(CONFIG);
    try {
      // NaN weights: the loss is not finite at the first step, after the run folder was made.
      const weightsPath = workspace.path('tiny/model.safetensors');
      const weights = readSafetensors(weightsPath).tensors;
      const layerNorm = weights.get('embeddings.LayerNorm.weight')!;
      const poisoned = new Map(weights);
      poisoned.set('embeddings.LayerNorm.weight', { ...layerNorm, data: new Float32Array(layerNorm.data.length).fill(Number.NaN) });
      writeSafetensors(weightsPath, poisoned);
      const result = train(workspace.root, ['--events', 'stdout']);
      assert.equal(result.status, 1);
      const errors = stdoutEvents(result.stdout).filter((event): event is ErrorEvent => event.type === 'error');
      const [runId] = readdirSync(workspace.path('runs'));
      assert.deepEqual(
        errors.map((event) => [event.run_id, event.where?.phase]),
        [[runId, 'training']],
      );
    } finally {
      workspace.dispose();
    }
  });
});
