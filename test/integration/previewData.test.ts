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

/** 40 clean pairs from the retrieval example, then rows that exercise each preprocessing step. */
const EXAMPLE_ROWS = readFileSync(resolve(__dirname, '../../examples/retrieval/data/train.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .slice(0, 40);
const FIRST = JSON.parse(EXAMPLE_ROWS[0]!) as { query: string; passage: string };
const PREPARED_ROWS = [
  JSON.stringify({ query: `<p>${FIRST.query.toUpperCase()}</p>`, passage: `<div>${FIRST.passage}</div><script>track("x")</script>` }),
  JSON.stringify({ query: '<style>p { color: red }</style>', passage: 'a row that cleaning empties' }),
  JSON.stringify({ query: 'a row without a passage' }),
  JSON.stringify({ query: 'Which   cars do the   children buy?', passage: 'Families with children often buy larger cars &amp; vans.' }),
];
const TRAIN = [...EXAMPLE_ROWS, ...PREPARED_ROWS].join('\n');
const VALIDATION = readFileSync(resolve(__dirname, '../../examples/retrieval/data/validation.jsonl'), 'utf8')
  .split('\n')
  .slice(0, 16)
  .join('\n');

const CONFIG = `name: preprocessed
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: query, positive: passage}
  on_bad_row: skip
preprocess:
  clean:
    strip_html: true
    lowercase: true
    unicode_normalization: NFKC
  dedupe: true
  augment:
    seed: 9
    synonym_replacement: { count: 1, probability: 0.2 }
    random_swap: { count: 1, probability: 0.1 }
strategy:
  type: full
training:
  epochs: 1
  batch_size: 16
  learning_rate: 0.001
  warmup: 1
output_dir: runs
`;

function cli(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 240_000 });
}

/** The value after `label:` on its own line of the preview's summary. */
function count(stdout: string, label: string): number {
  const match = new RegExp(`^${label}:\\s+(\\d+)`, 'm').exec(stdout);
  assert.ok(match, `"${label}:" in\n${stdout}`);
  return Number(match[1]);
}

describe('embedtune preview-data and train with preprocess, as real child processes', () => {
  let workspace: TempWorkspace;
  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    workspace = new TempWorkspace();
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 32, heads: 4, intermediate: 64 });
    workspace.write('data/train.jsonl', `${TRAIN}\n`);
    workspace.write('data/validation.jsonl', `${VALIDATION}\n`);
    workspace.write('run.embedtune.yaml', CONFIG);
    workspace.write('broken.embedtune.yaml', CONFIG.replace('lowercase: true', 'lowercase: sometimes'));
    workspace.write('missing-data.embedtune.yaml', CONFIG.replace('data/train.jsonl', 'data/absent.jsonl'));
  });
  after(() => workspace.dispose());

  it('prints rows before and after cleaning and augmentation, what became of each, and the counts', () => {
    const result = cli(workspace.root, ['preview-data', 'run.embedtune.yaml', '--rows', '2']);
    assert.equal(result.status, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, /^First 2 row\(s\) of data\/train\.jsonl:$/m);
    assert.match(out, /^line 1$/m);
    assert.match(out, /^line 2$/m);
    assert.doesNotMatch(out, /^line 3$/m);
    // The preview cuts each text at 160 characters.
    const shown = (text: string) => (text.length > 160 ? `${text.slice(0, 160)}…` : text);
    const original = JSON.stringify({ anchor: FIRST.query, positive: shown(FIRST.passage) });
    assert.ok(out.includes(`  before    ${original}`), 'the row as written');
    const cleaned = JSON.stringify({ anchor: FIRST.query.toLowerCase(), positive: shown(FIRST.passage.toLowerCase()) });
    assert.ok(out.includes(`  cleaned   ${cleaned}`), 'the row as cleaned');
    assert.match(out, /^ {2}used for {2}training$/m);
    assert.match(out, /^ {2}\+ (synonym_replacement|random_swap) +\{"anchor":/m);

    assert.equal(count(out, 'rows read'), 44 + 16);
    assert.equal(count(out, 'skipped'), 2);
    assert.match(out, /^skipped:\s+2 \(1 emptied by cleaning\)$/m);
    assert.equal(count(out, 'deduplicated'), 1);
    const augmented = count(out, 'augmented');
    assert.ok(augmented > 41 && augmented <= 2 * 41, `${augmented} copies of 41 rows, one per operation at most`);
    assert.equal(count(out, 'training rows'), 41 + augmented);
    assert.match(out, /^WordNet opened in [\d.]+ ms$/m);
  });

  it('shows duplicates and skipped rows for what they are', () => {
    const result = cli(workspace.root, ['preview-data', 'run.embedtune.yaml', '--rows', '44']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /^line 41\n {2}before .*\n {2}cleaned .*\n {2}used for {2}dropped: duplicate of an earlier row after cleaning$/m,
    );
    assert.match(
      result.stdout,
      /^line 42\n {2}before .*\n {2}skipped {3}.*train\.jsonl:42: column "query" \(data\.columns\.anchor\) is empty after preprocess\.clean/m,
    );
    assert.match(result.stdout, /^line 43\n {2}skipped {3}.*train\.jsonl:43: column "passage" \(data\.columns\.positive\) is missing$/m);
    assert.match(
      result.stdout,
      /^line 44\n.*\n {2}cleaned {3}\{"anchor":"which cars do the children buy\?","positive":"families with children often buy larger cars & vans\."\}$/m,
    );
  });

  it('fails clearly, with a non-zero exit, on bad arguments, a broken config and missing data', () => {
    const noConfig = cli(workspace.root, ['preview-data']);
    assert.equal(noConfig.status, 2);
    assert.match(noConfig.stderr, /preview-data needs exactly one config file/);
    const badRows = cli(workspace.root, ['preview-data', 'run.embedtune.yaml', '--rows', '0']);
    assert.equal(badRows.status, 2);
    assert.match(badRows.stderr, /--rows must be a whole number of at least 1, not "0"/);
    const unknownOption = cli(workspace.root, ['preview-data', 'run.embedtune.yaml', '--colour']);
    assert.equal(unknownOption.status, 2);
    const absent = cli(workspace.root, ['preview-data', 'nowhere.embedtune.yaml']);
    assert.equal(absent.status, 1);
    assert.match(absent.stderr, /nowhere\.embedtune\.yaml does not exist/);
    const broken = cli(workspace.root, ['preview-data', 'broken.embedtune.yaml']);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /^broken\.embedtune\.yaml:13:\d+ error /m);
    const missingData = cli(workspace.root, ['preview-data', 'missing-data.embedtune.yaml']);
    assert.equal(missingData.status, 1);
    assert.match(missingData.stderr, /absent\.jsonl/);
  });

  it('trains on the prepared rows and reports the same counts in run_started, which validates against the schema', () => {
    const preview = cli(workspace.root, ['preview-data', 'run.embedtune.yaml']);
    const result = cli(workspace.root, ['train', 'run.embedtune.yaml']);
    assert.equal(result.status, 0, result.stderr + result.stdout);
    const runs = readdirSync(join(workspace.root, 'runs'));
    assert.equal(runs.length, 1);
    const events = readFileSync(join(workspace.root, 'runs', runs[0]!, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RunEvent);
    for (const event of events) assert.ok(validateEvent(event), `${JSON.stringify(event)}: ${JSON.stringify(validateEvent.errors)}`);
    const started = events[0] as Extract<RunEvent, { type: 'run_started' }>;
    assert.equal(started.type, 'run_started');
    const report = started.preprocess;
    assert.ok(report, 'run_started reports preprocess');
    assert.deepEqual(report.clean, {
      strip_html: true,
      lowercase: true,
      unicode_normalization: 'NFKC',
      remove_special_characters: false,
      collapse_whitespace: true,
    });
    assert.deepEqual(report.augment, {
      seed: 9,
      synonym_replacement: { count: 1, probability: 0.2 },
      random_swap: { count: 1, probability: 0.1 },
      random_deletion: { count: 0, probability: 0.1 },
    });
    assert.equal(report.dedupe, true);
    assert.equal(report.rows_read, count(preview.stdout, 'rows read'));
    assert.equal(report.rows_skipped, count(preview.stdout, 'skipped'));
    assert.equal(report.rows_emptied_by_cleaning, 1);
    assert.equal(report.rows_deduplicated, count(preview.stdout, 'deduplicated'));
    assert.equal(report.rows_augmented, count(preview.stdout, 'augmented'), 'training augments exactly as the preview showed');
    assert.equal(report.rows_augmented, report.augmented_by_operation.synonym_replacement + report.augmented_by_operation.random_swap);
    assert.equal(started.dataset.train_rows, 41 + report.rows_augmented);
    assert.equal(started.dataset.skipped_rows, 2);
    assert.ok(report.wordnet_load_ms !== undefined && report.wordnet_load_ms > 0);
    assert.ok(!events.some((event) => event.type === 'log' && /not applied/.test(event.message)), 'no warning that preprocess is ignored');
    assert.equal(events.at(-1)?.type, 'run_finished');
    assert.match(result.stdout, /data: 60 rows read, 2 skipped, 1 duplicates dropped, \d+ augmented copies added/);
  });
});
