import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeErrorEvent } from '../../src/shared/events/errorDescription';
import { NO_RUN_FOLDER_ID, parseRunEventLine, type ErrorEvent } from '../../src/shared/events/runEvents';
import { DataFileError, DataRowError } from '../../src/trainer/data/dataErrors';
import { setupErrorEvent } from '../../src/trainer/cli/setupErrorEvent';
import { CheckpointNotFound } from '../../src/trainer/training/checkpointStore';

/** The event as a reader gets it: through JSON and the schema. */
function roundTrip(event: ErrorEvent): ErrorEvent {
  const read = parseRunEventLine(JSON.stringify(event));
  assert.ok(read, `${JSON.stringify(event)} is a valid event`);
  return read as ErrorEvent;
}

test('a bad data row is an error event at its file, line and column key', () => {
  const error = new DataRowError('data/train.jsonl', 7, { reason: 'empty_value', detail: 'is empty', role: 'anchor', column: 'query' });
  const event = roundTrip(setupErrorEvent(error, new Date('2026-12-03T19:00:00Z')));
  assert.equal(event.run_id, NO_RUN_FOLDER_ID);
  assert.equal(event.time, '2026-12-03T19:00:00.000Z');
  assert.deepEqual(event.where, { file: 'data/train.jsonl', line: 7, key: 'data.columns.anchor', phase: 'data' });
  assert.match(event.message, /^data\/train\.jsonl:7: column "query" \(data\.columns\.anchor\) is empty/);
  assert.equal(event.stack, undefined, 'a known problem needs no stack');
});

test('an unusable data file names the key to fix', () => {
  const event = roundTrip(setupErrorEvent(new DataFileError('data/train.csv', 'has no column "query"', 1, 'data.columns.anchor')));
  assert.deepEqual(event.where, { file: 'data/train.csv', line: 1, key: 'data.columns.anchor', phase: 'data' });
});

test('a --resume without a checkpoint is phase resume; an unknown failure carries its stack', () => {
  assert.deepEqual(setupErrorEvent(new CheckpointNotFound('--resume x: no EmbedTune checkpoint there')).where, { phase: 'resume' });
  const unknown = roundTrip(setupErrorEvent(new Error('tfjs-node could not load')));
  assert.deepEqual(unknown.where, { phase: 'setup' });
  assert.match(unknown.stack ?? '', /tfjs-node could not load\n\s+at /);
});

test('an error in words: each located problem first, in the CLI’s form, then the message', () => {
  const problems = Array.from({ length: 7 }, (_, i) => ({
    message: `problem ${i}`,
    file: 'a.yaml',
    line: i + 1,
    column: 3,
    code: 'unknown-key',
  }));
  const text = describeErrorEvent({ message: 'a.yaml has 7 error(s); fix them before training.', problems });
  assert.deepEqual(text.split('\n'), [
    'a.yaml:1:3 error unknown-key problem 0',
    'a.yaml:2:3 error unknown-key problem 1',
    'a.yaml:3:3 error unknown-key problem 2',
    'a.yaml:4:3 error unknown-key problem 3',
    'a.yaml:5:3 error unknown-key problem 4',
    '… and 2 more',
    'a.yaml has 7 error(s); fix them before training.',
  ]);
  assert.equal(describeErrorEvent({ message: 'data/t.jsonl:7: column "query" is empty' }), 'data/t.jsonl:7: column "query" is empty');
});
