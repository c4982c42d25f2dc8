import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { Ajv2020 } from 'ajv/dist/2020';
import {
  RUN_EVENT_TYPES,
  parseRunEventLine,
  runEventsSchema,
  type CheckpointEvent,
  type BaselineNotBeatenEvent,
  type EarlyStopEvent,
  type ErrorEvent,
  type EvalEvent,
  type LogEvent,
  type ProgressEvent,
  type RunEvent,
  type RunEventType,
  type RunFinishedEvent,
  type RunStartedEvent,
} from '../../src/shared/events/runEvents';
import { EventLogReader, readEventLog } from '../../src/shared/events/eventLogReader';
import { EventLogWriter } from '../../src/shared/events/eventLogWriter';
import { TempWorkspace } from '../helpers/tempWorkspace';

interface EventSchema {
  oneOf: Array<{ $ref: string }>;
  $defs: Record<string, { properties: Record<string, { const?: string; description?: string; $ref?: string }>; required: string[] }>;
}

const schema = runEventsSchema as EventSchema;
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(runEventsSchema);

const envelope = { time: '2025-03-01T10:15:30.123Z', run_id: 'retrieval-lora-20250301-101500', seq: 0 };

// `Required<...>` makes each example set every optional field too, so that validating them
// proves the schema knows every field of the TypeScript types.
const runStarted: Required<RunStartedEvent> = {
  ...envelope,
  type: 'run_started',
  config_hash: 'a'.repeat(64),
  config_path: 'examples/retrieval/retrieval.embedtune.yaml',
  engine: 'tfjs',
  backend: 'wasm',
  backend_reason: 'tfjs-node is not installed; wasm with SIMD and 8 threads is the fastest backend available',
  device: 'Apple M2 (8 cores)',
  threads: 8,
  task: 'embedding',
  model: 'sentence-transformers/all-MiniLM-L6-v2',
  strategy: 'lora',
  trainable_parameters: 73_728,
  total_parameters: 22_713_216,
  dataset: { train_rows: 241, validation_rows: 61, skipped_rows: 0 },
  preprocess: {
    clean: {
      strip_html: true,
      lowercase: false,
      unicode_normalization: 'NFKC',
      remove_special_characters: false,
      collapse_whitespace: true,
    },
    dedupe: true,
    augment: {
      seed: 42,
      synonym_replacement: { count: 1, probability: 0.1 },
      random_swap: { count: 0, probability: 0.1 },
      random_deletion: { count: 0, probability: 0.1 },
    },
    rows_read: 310,
    rows_skipped: 2,
    rows_cleaned: 40,
    rows_emptied_by_cleaning: 1,
    rows_deduplicated: 6,
    rows_augmented: 120,
    augmented_by_operation: { synonym_replacement: 120, random_swap: 0, random_deletion: 0 },
    wordnet_load_ms: 140.5,
  },
  epochs: 5,
  steps_per_epoch: 8,
  total_steps: 40,
  effective_batch_size: 32,
  num_processes: 1,
  resumed_from: 'checkpoints/step-16',
  pid: 4242,
};
const progress: Required<ProgressEvent> = {
  ...envelope,
  type: 'progress',
  step: 12,
  epoch: 1.5,
  loss: 0.4812,
  lr: 9.2e-5,
  examples_per_second: 41.7,
  eta_seconds: 25.3,
  memory_mb: { rss: 812.5, wasm_heap: 256 },
  grad_norm: 1.93,
};
const evaluation: Required<EvalEvent> = {
  ...envelope,
  type: 'eval',
  step: 16,
  epoch: 2,
  metrics: { accuracy: 0.9, f1: 0.85, spearman: null },
  primary: { name: 'f1', value: 0.85 },
  is_best: true,
  confusion_matrix: {
    labels: ['billing', 'bug'],
    matrix: [
      [9, 1],
      [1, 9],
    ],
  },
  per_class: {
    billing: { precision: 0.9, recall: 0.9, f1: 0.9, support: 10, average_precision: 0.95 },
    bug: { precision: 0.9, recall: 0.9, f1: 0.9, support: 10, average_precision: null },
  },
  misclassified: [
    {
      file: 'images/validation/bug/<img src=x>.png',
      label: 'bug',
      predicted: 'billing',
      confidence: 0.81,
      thumbnail: { width: 2, height: 1, rgb: Buffer.from([255, 0, 0, 0, 255, 0]).toString('base64') },
    },
  ],
};
const checkpoint: Required<CheckpointEvent> = {
  ...envelope,
  type: 'checkpoint',
  step: 16,
  epoch: 2,
  path: 'checkpoints/step-16',
  size_bytes: 301_245,
  metrics: { 'ndcg@10': 0.71 },
  is_best: true,
  reason: 'epoch',
  deleted: ['checkpoints/step-8'],
};
const earlyStop: Required<EarlyStopEvent> = { ...envelope, type: 'early_stop', step: 40, metric: 'ndcg@10', best: 0.74, patience: 2 };
const baselineNotBeaten: Required<BaselineNotBeatenEvent> = {
  ...envelope,
  type: 'baseline_not_beaten',
  metric: 'spearman',
  baseline: 0.408,
  best: 0.384,
  mode: 'max',
};
const log: Required<LogEvent> = { ...envelope, type: 'log', level: 'warning', message: 'Skipped 3 bad rows in data/train.jsonl' };
const runFinished: Required<RunFinishedEvent> = {
  ...envelope,
  type: 'run_finished',
  reason: 'early_stopped',
  step: 40,
  best_checkpoint: 'checkpoints/step-24',
  best_metric: { name: 'ndcg@10', value: 0.74 },
  duration_seconds: 95.2,
  ranks: [
    { rank: 0, examples: 640, batches: 40 },
    { rank: 1, examples: 640, batches: 40 },
  ],
};
const error: Required<ErrorEvent> = {
  ...envelope,
  type: 'error',
  message: 'data/train.jsonl:7: column "query" (data.columns.anchor) is missing',
  where: { file: 'data/train.jsonl', line: 7, key: 'data.columns.anchor', phase: 'data' },
  problems: [
    {
      message: 'column "query" is missing',
      file: 'data/train.jsonl',
      line: 7,
      column: 1,
      key: 'data.columns.anchor',
      code: 'missing-column',
    },
  ],
  stack: 'DataRowError: ...\n    at readExamples',
};

const examples: { [T in RunEventType]: Required<Extract<RunEvent, { type: T }>> } = {
  run_started: runStarted,
  progress,
  eval: evaluation,
  checkpoint,
  early_stop: earlyStop,
  baseline_not_beaten: baselineNotBeaten,
  log,
  run_finished: runFinished,
  error,
};

/** The schema errors of the last `validate` call, for assertion messages. */
function lastErrors(): string {
  return ajv.errorsText(validate.errors);
}

test('a hand-written example of every event type validates against the schema', () => {
  for (const [type, example] of Object.entries(examples)) {
    assert.ok(validate(example), `${type}: ${lastErrors()}`);
  }
});

test('an event may leave out its optional fields', () => {
  const minimal: RunEvent[] = [
    {
      ...envelope,
      type: 'progress',
      step: 0,
      epoch: 0,
      loss: null,
      lr: 0,
      examples_per_second: 0,
      eta_seconds: null,
      memory_mb: { rss: 1 },
    },
    { ...envelope, type: 'error', message: 'out of memory' },
    { ...envelope, type: 'run_finished', reason: 'failed', step: 0, best_checkpoint: null, best_metric: null, duration_seconds: 1 },
  ];
  for (const event of minimal) assert.ok(validate(event), `${event.type}: ${lastErrors()}`);
});

test('the schema lists exactly the fields of the TypeScript types, each with a description', () => {
  for (const [type, example] of Object.entries(examples)) {
    const definition = schema.$defs[type]!;
    assert.deepEqual(Object.keys(definition.properties).sort(), Object.keys(example).sort(), type);
    for (const [field, property] of Object.entries(definition.properties)) {
      assert.ok(property.description ?? property.$ref, `${type}.${field} has no description`);
    }
  }
});

test('the schema has one oneOf branch per event type, discriminated by a type const', () => {
  const branchTypes = schema.oneOf.map((branch) => {
    const name = branch.$ref.replace('#/$defs/', '');
    return schema.$defs[name]!.properties['type']!.const;
  });
  assert.deepEqual(branchTypes, [...RUN_EVENT_TYPES]);
});

test('unknown fields are rejected in every event type and in nested objects', () => {
  for (const [type, example] of Object.entries(examples)) {
    assert.equal(validate({ ...example, surprise: 1 }), false, type);
  }
  assert.equal(validate({ ...runStarted, dataset: { ...runStarted.dataset, test_rows: 3 } }), false);
  assert.equal(validate({ ...progress, memory_mb: { rss: 1, gpu: 2, vram: 2 } }), false);
  assert.equal(validate({ ...error, where: { column: 3 } }), false);
});

test('wrong types and values are rejected', () => {
  const wrong: Array<[string, unknown]> = [
    ['seq as a string', { ...log, seq: '0' }],
    ['negative seq', { ...log, seq: -1 }],
    ['fractional seq', { ...log, seq: 1.5 }],
    ['time without a zone', { ...log, time: '2025-03-01 10:15:30' }],
    ['unknown type', { ...log, type: 'heartbeat' }],
    ['missing run_id', { type: 'log', time: envelope.time, seq: 0, level: 'info', message: 'x' }],
    ['unknown log level', { ...log, level: 'fatal' }],
    ['short config hash', { ...runStarted, config_hash: 'abc' }],
    ['unknown engine', { ...runStarted, engine: 'jax' }],
    ['loss as a string', { ...progress, loss: '0.4' }],
    ['eta missing', { ...progress, eta_seconds: undefined }],
    ['metric as a string', { ...evaluation, metrics: { f1: '0.8' } }],
    ['fractional confusion count', { ...evaluation, confusion_matrix: { labels: ['a'], matrix: [[1.5]] } }],
    [
      'average precision above 1',
      { ...evaluation, per_class: { a: { precision: 1, recall: 1, f1: 1, support: 1, average_precision: 1.5 } } },
    ],
    ['13 misclassified images', { ...evaluation, misclassified: Array.from({ length: 13 }, () => evaluation.misclassified[0]) }],
    ['thumbnail without bytes', { ...evaluation, misclassified: [{ ...evaluation.misclassified[0], thumbnail: { width: 1, height: 1 } }] }],
    ['is_best as a number', { ...checkpoint, is_best: 1 }],
    ['unknown checkpoint reason', { ...checkpoint, reason: 'manual' }],
    ['deleted as a string', { ...checkpoint, deleted: 'checkpoints/step-8' }],
    ['unknown finish reason', { ...runFinished, reason: 'crashed' }],
    ['best_metric without a value', { ...runFinished, best_metric: { name: 'f1' } }],
    ['error line 0', { ...error, where: { line: 0 } }],
    ['problem without a message', { ...error, problems: [{ file: 'a.yaml', line: 2 }] }],
    ['problem column 0', { ...error, problems: [{ message: 'x', column: 0 }] }],
  ];
  for (const [what, event] of wrong) assert.equal(validate(event), false, what);
});

test('the event union is exhaustive: every type has a case, checked at compile time', () => {
  function describe(event: RunEvent): string {
    switch (event.type) {
      case 'run_started':
        return `started ${event.model}`;
      case 'progress':
        return `step ${event.step}`;
      case 'eval':
        return `${event.primary.name}=${event.primary.value}`;
      case 'checkpoint':
        return `saved ${event.path}`;
      case 'early_stop':
        return `stopped on ${event.metric}`;
      case 'baseline_not_beaten':
        return `${event.metric} ${event.best} after training, ${event.baseline} before`;
      case 'log':
        return event.message;
      case 'run_finished':
        return event.reason;
      case 'error':
        return event.message;
      default: {
        // Adding a type to the union without a case above fails to compile here.
        const unhandled: never = event;
        return unhandled;
      }
    }
  }
  // And RUN_EVENT_TYPES must list every type of the union.
  type Unlisted = Exclude<RunEventType, (typeof RUN_EVENT_TYPES)[number]>;
  const noneUnlisted: [Unlisted] extends [never] ? true : false = true;
  assert.ok(noneUnlisted);
  assert.deepEqual(
    Object.values(examples).map((example) => describe(example)),
    [
      'started sentence-transformers/all-MiniLM-L6-v2',
      'step 12',
      'f1=0.85',
      'saved checkpoints/step-16',
      'stopped on ndcg@10',
      'spearman 0.384 after training, 0.408 before',
      'Skipped 3 bad rows in data/train.jsonl',
      'early_stopped',
      'data/train.jsonl:7: column "query" (data.columns.anchor) is missing',
    ],
  );
});

test('parseRunEventLine returns valid events and undefined, without throwing, for anything else', () => {
  const line = JSON.stringify(checkpoint);
  assert.deepEqual(parseRunEventLine(line), checkpoint);
  assert.deepEqual(parseRunEventLine(`${line}\r`), checkpoint);
  // A run killed mid-write leaves a truncated last line.
  assert.equal(parseRunEventLine(line.slice(0, line.length - 5)), undefined);
  assert.equal(parseRunEventLine(''), undefined);
  assert.equal(parseRunEventLine('null'), undefined);
  assert.equal(parseRunEventLine('[1,2]'), undefined);
  assert.equal(parseRunEventLine(JSON.stringify({ ...log, level: 'fatal' })), undefined);
});

const lineOf = (event: RunEvent): string => `${JSON.stringify(event)}\n`;

test('the reader ignores a trailing partial line until its newline arrives', (t) => {
  const workspace = new TempWorkspace();
  t.after(() => workspace.dispose());
  const path = workspace.write('run/events.jsonl', lineOf(runStarted));
  const second = lineOf({ ...progress, seq: 1 });
  appendFileSync(path, second.slice(0, 20));

  const first = readEventLog(path, 0);
  assert.deepEqual(
    first.events.map((event) => event.seq),
    [0],
  );
  assert.equal(first.nextOffset, Buffer.byteLength(lineOf(runStarted)));
  assert.equal(first.invalidLines, 0);

  appendFileSync(path, second.slice(20));
  const rest = readEventLog(path, first.nextOffset);
  assert.deepEqual(rest.events, [{ ...progress, seq: 1 }]);
  assert.equal(rest.nextOffset, readFileSync(path).length);
});

test('the reader accepts CRLF line endings and multi-byte text', (t) => {
  const workspace = new TempWorkspace();
  t.after(() => workspace.dispose());
  const message = { ...log, message: 'Données: 3 lignes ignorées — 日本語' };
  const path = workspace.write('events.jsonl', `${JSON.stringify(runStarted)}\r\n${JSON.stringify(message)}\r\n`);
  const chunk = readEventLog(path);
  assert.deepEqual(chunk.events, [runStarted, message]);
  assert.equal(chunk.nextOffset, readFileSync(path).length);
});

test('the reader follows a file that grows between reads, counting lines that are not events', (t) => {
  const workspace = new TempWorkspace();
  t.after(() => workspace.dispose());
  const path = workspace.path('run/events.jsonl');
  const reader = new EventLogReader(path);
  assert.deepEqual(reader.readNew(), [], 'a run that has not started yet reads as empty');

  workspace.write('run/events.jsonl', lineOf(runStarted));
  assert.deepEqual(
    reader.readNew().map((event) => event.type),
    ['run_started'],
  );
  assert.deepEqual(reader.readNew(), []);

  appendFileSync(path, `${lineOf({ ...progress, seq: 1 })}{"type":"progress","oops":true}\n${lineOf({ ...log, seq: 2 })}`);
  assert.deepEqual(
    reader.readNew().map((event) => event.seq),
    [1, 2],
  );
  assert.equal(reader.invalidLines, 1);
  assert.equal(reader.position, readFileSync(path).length);

  // A new run writing a shorter file in its place is read from the start.
  writeFileSync(path, lineOf(log));
  assert.deepEqual(reader.readNew(), [log]);
  assert.equal(reader.invalidLines, 0);
});

test('events written by the writer read back identically, with seq, time and run_id filled in', (t) => {
  const workspace = new TempWorkspace();
  t.after(() => workspace.dispose());
  const path = workspace.path('runs/run-1/events.jsonl');
  const mirror = new PassThrough();
  const mirrored: string[] = [];
  mirror.on('data', (chunk: Buffer) => mirrored.push(chunk.toString('utf8')));

  const writer = new EventLogWriter({ path, runId: 'run-1', mirror });
  const reader = new EventLogReader(path);
  const written = [
    writer.write({ type: 'log', level: 'info', message: 'loading data' }),
    writer.write({ type: 'early_stop', step: 40, metric: 'ndcg@10', best: 0.74, patience: 2 }),
  ];
  assert.deepEqual(reader.readNew(), written, 'each event is readable as soon as write returns');
  assert.deepEqual(
    written.map((event) => [event.seq, event.run_id]),
    [
      [0, 'run-1'],
      [1, 'run-1'],
    ],
  );
  for (const event of written) assert.ok(validate(event), lastErrors());
  // A non-finite loss is written as null, which the schema allows.
  writer.write({ ...stripEnvelope(progress), loss: Number.NaN });
  const [diverged] = reader.readNew();
  assert.equal(diverged?.type === 'progress' && diverged.loss, null);
  writer.close();

  assert.equal(mirrored.join(''), readFileSync(path, 'utf8'));
  assert.throws(() => writer.write({ type: 'log', level: 'info', message: 'late' }), /closed/);
});

test('a writer reopening a log continues its seq and ends a line a killed run left half-written', (t) => {
  const workspace = new TempWorkspace();
  t.after(() => workspace.dispose());
  const path = workspace.path('events.jsonl');
  const first = new EventLogWriter({ path, runId: 'run-1' });
  first.write({ type: 'log', level: 'info', message: 'one' });
  first.write({ type: 'log', level: 'info', message: 'two' });
  first.close();
  appendFileSync(path, '{"type":"progress","ti');

  const resumed = new EventLogWriter({ path, runId: 'run-1' });
  resumed.write({ type: 'log', level: 'info', message: 'three' });
  resumed.close();

  const chunk = readEventLog(path);
  assert.deepEqual(
    chunk.events.map((event) => [event.seq, event.type === 'log' ? event.message : '']),
    [
      [0, 'one'],
      [1, 'two'],
      [2, 'three'],
    ],
  );
  assert.equal(chunk.invalidLines, 1, 'the truncated line stays visible as one invalid line');
});

function stripEnvelope(event: ProgressEvent): Omit<ProgressEvent, 'time' | 'run_id' | 'seq'> {
  const { time: _time, run_id: _runId, seq: _seq, ...rest } = event;
  return rest;
}
