import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import eventsSchema from '../../schemas/events.schema.json';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');
const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(eventsSchema);

/**
 * Pairs about a tool whose name (kubectl) and jargon (seperate, as this team writes it) no dictionary knows: both occur
 * three times or more, so they are vocabulary. The misspellings that occur once or twice are corrected; "tenantz" is
 * rare but protected by the protect file.
 */
const ROWS = [
  { query: 'How do I list pods with kubectl?', passage: 'Run kubectl get pods in the seperate namespace.' },
  { query: 'Which command shows logs?', passage: 'Use kubectl logs on the seperate pod.' },
  { query: 'How to restart a deployment', passage: 'The kubectl rollout restart command is definately the way.' },
  { query: 'Where is the enviroment set?', passage: 'Each seperate tenantz keeps its own enviroment file.' },
  { query: 'What happens when a pod crashes?', passage: 'The error has occured and the pod is restarted.' },
  { query: 'How are secrets stored?', passage: 'Secrets are base64 encoded in etcd.' },
  { query: 'Can I scale a deployment?', passage: 'Yes, with the scale command.' },
  { query: 'What is a node?', passage: 'A worker machine in the cluster.' },
];

const CONFIG = `name: spelling
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: data/train.jsonl
  validation_split: 0.25
  columns: {anchor: query, positive: passage}
preprocess:
  clean:
    spelling:
      enabled: true
      protect_file: protected.txt
strategy:
  type: full
training:
  epochs: 1
  batch_size: 4
  learning_rate: 0.001
  warmup: 1
output_dir: runs
`;

function cli(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 240_000 });
}

describe('preprocess.clean.spelling through embedtune preview-data and train, as real child processes', () => {
  let workspace: TempWorkspace;
  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    workspace = new TempWorkspace();
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 32, heads: 4, intermediate: 64 });
    workspace.write('data/train.jsonl', `${ROWS.map((row) => JSON.stringify(row)).join('\n')}\n`);
    workspace.write('protected.txt', '# our names\ntenantz\n');
    workspace.write('run.embedtune.yaml', CONFIG);
    workspace.write('unprotected.embedtune.yaml', CONFIG.replace('protected.txt', 'absent.txt'));
  });
  after(() => workspace.dispose());

  it('shows each row before and after correction, the corrections made and the counts; domain terms stay', () => {
    const result = cli(workspace.root, ['preview-data', 'run.embedtune.yaml', '--rows', '8']);
    assert.equal(result.status, 0, result.stderr);
    const out = result.stdout;
    assert.ok(out.includes(`  before    ${JSON.stringify({ anchor: ROWS[2]!.query, positive: ROWS[2]!.passage })}`));
    assert.ok(
      out.includes(
        `  cleaned   ${JSON.stringify({ anchor: ROWS[2]!.query, positive: 'The kubectl rollout restart command is definitely the way.' })}`,
      ),
      out,
    );
    assert.ok(
      out.includes(
        `  cleaned   ${JSON.stringify({ anchor: 'Where is the environment set?', positive: 'Each seperate tenantz keeps its own environment file.' })}`,
      ),
      'frequent "seperate" and protected "tenantz" are kept',
    );
    assert.match(out, /^ {2}cleaned {3}\(unchanged\)$/m, 'rows without misspellings are unchanged');
    assert.doesNotMatch(out, /separate|tenants/, 'domain terms are never corrected');
    assert.match(out, /^cleaned:\s+3 changed$/m);
    assert.match(
      out,
      /^spelling:\s+4 word\(s\) corrected \(3 distinct\), 8 unknown kept as vocabulary \(\d+ vocabulary words\), 3 left with no single close suggestion$/m,
    );
    assert.match(out, /^ {2}definately -> definitely$/m);
    assert.match(out, /^ {2}enviroment -> environment \(x2\)$/m);
    assert.match(out, /^ {2}occured -> occurred$/m);
  });

  it('fails clearly when the protect file is missing', () => {
    const validate = cli(workspace.root, ['validate', 'unprotected.embedtune.yaml']);
    assert.equal(validate.status, 1);
    assert.match(
      validate.stdout + validate.stderr,
      /error spelling-protect-file-missing preprocess\.clean\.spelling\.protect_file: no file at "absent\.txt"/,
    );
  });

  it('trains on the corrected rows and reports the same counts in run_started, valid against the events schema', () => {
    const result = cli(workspace.root, ['train', 'run.embedtune.yaml']);
    assert.equal(result.status, 0, result.stderr + result.stdout);
    const runs = readdirSync(join(workspace.root, 'runs'));
    const events = readFileSync(join(workspace.root, 'runs', runs[0]!, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RunEvent);
    const started = events[0] as Extract<RunEvent, { type: 'run_started' }>;
    assert.equal(started.type, 'run_started');
    assert.ok(validateEvent(started), JSON.stringify(validateEvent.errors));
    assert.deepEqual(started.preprocess?.clean.spelling, { enabled: true, min_frequency: 3, protect: [], protect_file: 'protected.txt' });
    const spelling = started.preprocess?.spelling;
    assert.ok(spelling, 'run_started reports spelling counts');
    assert.equal(spelling.words_corrected, 4);
    assert.equal(spelling.distinct_words_corrected, 3);
    // kubectl 4 times, seperate 3 times, tenantz once.
    assert.equal(spelling.words_kept_as_vocabulary, 8);
    // namespace, rollout and etcd: unknown, rare, and several dictionary words one edit away (or none).
    assert.equal(spelling.words_left_ambiguous, 3);
    assert.equal(started.preprocess?.rows_cleaned, 3);
    assert.equal(events.at(-1)?.type, 'run_finished');
  });
});
