/**
 * `embedtune mine-negatives` as a user runs it: the built CLI as a child process, on a tiny random BERT written in the
 * real on-disk format. The scores it reports are checked against the vectors `embedtune encode` gives, so the miner's
 * own encoding, prompts and similarity are tested against the CLI's other encode path, not against themselves.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');

function embedtune(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const TOPICS = ['river', 'mountain', 'music', 'bird', 'school', 'ocean', 'paper', 'horse', 'king', 'island'];
/** 20 pairs over 10 topics, so that each anchor has a close non-positive to mine. */
const PAIRS = TOPICS.flatMap((topic, i) => [
  { question: `what is a ${topic}`, answer: `a ${topic} is a thing people know` },
  { question: `where is the ${topic} near the ${TOPICS[(i + 1) % 10]}`, answer: `the ${topic} is by the ${TOPICS[(i + 1) % 10]}` },
]);

interface MinedRow {
  readonly anchor: string;
  readonly positive: string;
  readonly negative: string;
  readonly scores: [number, number];
}

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as T);
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((value, i) => {
    dot += value * b[i]!;
    aa += value * value;
    bb += b[i]! * b[i]!;
  });
  return dot / Math.sqrt(aa * bb);
}

describe('embedtune mine-negatives', () => {
  const workspace = new TempWorkspace();
  let model: string;

  before(() => {
    model = buildTinyBert(workspace.path('tiny-model'), { withPoolingModules: true }).folder;
    writeFileSync(
      join(model, 'config_sentence_transformers.json'),
      JSON.stringify({ prompts: { query: 'query: ', document: 'passage: ' }, default_prompt_name: null }),
    );
    workspace.write('pairs.jsonl', PAIRS.map((pair) => JSON.stringify({ anchor: pair.question, positive: pair.answer })).join('\n') + '\n');
    workspace.write('qa.csv', `question,answer\n${PAIRS.map((pair) => `${pair.question},"${pair.answer}"`).join('\n')}\n`);
  });
  after(() => workspace.dispose());

  it('mines the most similar other positives of a model folder, with scores equal to the cosines of embedtune encode and the model’s prompts', () => {
    const mined = embedtune(
      [
        'mine-negatives',
        model,
        '--data',
        'pairs.jsonl',
        '--out',
        'mined.jsonl',
        '--num-negatives',
        '2',
        '--output-scores',
        '--backend',
        'cpu',
      ],
      workspace.root,
    );
    assert.equal(mined.code, 0, mined.stderr);
    const rows = readJsonl<MinedRow>(workspace.path('mined.jsonl'));
    assert.equal(rows.length, 40, 'two triplets per anchor');

    // The same texts through `embedtune encode`, with the prompts encode_query and encode_document would use.
    const encode = (texts: string[], prompt: string, name: string) => {
      workspace.write(`${name}.txt`, `${texts.join('\n')}\n`);
      const encoded = embedtune(
        ['encode', model, '--in', `${name}.txt`, '--out', `${name}.jsonl`, '--prompt', prompt, '--backend', 'cpu'],
        workspace.root,
      );
      assert.equal(encoded.code, 0, encoded.stderr);
      return new Map(
        readJsonl<{ text: string; embedding: number[] }>(workspace.path(`${name}.jsonl`)).map((row) => [row.text, row.embedding]),
      );
    };
    const anchors = encode(
      PAIRS.map((pair) => pair.question),
      'query',
      'anchors',
    );
    const corpus = encode(
      PAIRS.map((pair) => pair.answer),
      'document',
      'corpus',
    );

    for (const pair of PAIRS) {
      const own = rows.filter((row) => row.anchor === pair.question);
      assert.ok(
        own.every((row) => row.positive === pair.answer && row.negative !== pair.answer),
        `no anchor gets its positive as a negative: ${JSON.stringify(own)}`,
      );
      const ranked = PAIRS.filter((other) => other.answer !== pair.answer)
        .map((other) => ({ text: other.answer, score: cosine(anchors.get(pair.question)!, corpus.get(other.answer)!) }))
        .sort((a, b) => b.score - a.score);
      assert.deepEqual(
        own.map((row) => row.negative),
        ranked.slice(0, 2).map((candidate) => candidate.text),
        `the two best-scoring other positives of "${pair.question}"`,
      );
      for (const row of own) {
        assert.ok(Math.abs(row.scores[0] - cosine(anchors.get(pair.question)!, corpus.get(pair.answer)!)) < 1e-5, 'positive score');
        assert.ok(Math.abs(row.scores[1] - cosine(anchors.get(pair.question)!, corpus.get(row.negative)!)) < 1e-5, 'negative score');
      }
    }

    assert.match(mined.stdout, /^20 pairs: 20 anchors, 20 distinct positives as the corpus$/m);
    assert.match(mined.stdout, /^encoded with the prompts: anchor "query: ", corpus "passage: "$/m);
    assert.match(mined.stdout, /^anchors with all 2 negatives: 20 \(100\.0%\); with fewer: 0; with none: 0$/m);
    assert.match(mined.stdout, /^40 triplets written to .*mined\.jsonl$/m);
    // Not a terminal: plain progress lines, no carriage returns.
    assert.match(mined.stderr, /^encoding: 40\/40 texts \(100%, [\d.]+ s\)$/m);
    assert.match(mined.stderr, /^mining: 20\/20 anchors \(100%, [\d.]+ s\)$/m);
    assert.doesNotMatch(mined.stderr, /\r/);
    const report = JSON.parse(readFileSync(workspace.path('mined.report.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(report['anchors'], 20);
    assert.equal(report['anchors_with_enough_negatives'], 20);
    assert.equal(report['rows_written'], 40);
    assert.deepEqual(report['prompts'], { anchor: 'query: ', corpus: 'passage: ' });
    const scores = report['scores'] as Record<string, { count: number; max: number }>;
    assert.equal(scores['positive']!.count, 20);
    assert.equal(scores['negative']!.count, 40);
    assert.equal(scores['negative']!.max, Math.max(...rows.map((row) => row.scores[1])));
  });

  it('with a config, reads its data and columns and writes CSV that a triplet-loss config validates', () => {
    workspace.write(
      'mine.embedtune.yaml',
      `model:\n  base: ./tiny-model\ndata:\n  train: qa.csv\n  columns: {anchor: question, positive: answer, negative: hard}\nengine:\n  backend: cpu\n`,
    );
    const mined = embedtune(
      ['mine-negatives', 'mine.embedtune.yaml', '--out', 'triplets.csv', '--range-min', '1', '--num-negatives', '1'],
      workspace.root,
    );
    assert.equal(mined.code, 0, mined.stderr);
    const csv = readFileSync(workspace.path('triplets.csv'), 'utf8').split('\n');
    assert.equal(csv[0], 'question,answer,hard');
    assert.equal(csv.length, 1 + 20 + 1, 'a header, one row per pair, and the final newline');
    workspace.write(
      'train.embedtune.yaml',
      `model:\n  base: ./tiny-model\ndata:\n  train: triplets.csv\n  columns: {anchor: question, positive: answer, negative: hard}\nloss:\n  type: triplet\n`,
    );
    const validated = embedtune(['validate', 'train.embedtune.yaml'], workspace.root);
    assert.equal(validated.code, 0, validated.stdout + validated.stderr);
  });

  it('names the file and line of a bad row, and skips it when asked to', () => {
    workspace.write(
      'bad.jsonl',
      '{"anchor": "a b", "positive": "c d"}\n{"anchor": "e f", "positive": "g h"}\n{"anchor": "broken\n{"anchor": "i j"}\n',
    );
    const failed = embedtune(['mine-negatives', model, '--data', 'bad.jsonl', '--out', 'x.jsonl', '--num-negatives', '1'], workspace.root);
    assert.equal(failed.code, 1);
    assert.match(
      failed.stderr,
      /^embedtune mine-negatives: .*bad\.jsonl:3: the row is not valid JSON \(.*\)\. Fix the row, or pass --on-bad-row skip\.$/m,
    );
    const skipped = embedtune(
      ['mine-negatives', model, '--data', 'bad.jsonl', '--out', 'x.jsonl', '--num-negatives', '1', '--on-bad-row', 'skip'],
      workspace.root,
    );
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stdout, /^2 pairs: 2 anchors, 2 distinct positives as the corpus \(2 bad rows skipped\)$/m);
    assert.equal((JSON.parse(readFileSync(workspace.path('x.report.json'), 'utf8')) as { rows_skipped: number }).rows_skipped, 2);
  });

  it('says what is wrong with a missing file, a missing column, a config with errors and impossible settings', () => {
    const missing = embedtune(['mine-negatives', model, '--data', 'nowhere.jsonl', '--out', 'x.jsonl'], workspace.root);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^embedtune mine-negatives: The data file .*nowhere\.jsonl does not exist\.$/m);

    const column = embedtune(['mine-negatives', model, '--data', 'qa.csv', '--out', 'x.jsonl'], workspace.root);
    assert.equal(column.code, 1);
    assert.match(column.stderr, /qa\.csv:1: the header has no column "anchor" for data\.columns\.anchor \(columns: question, answer\)/);

    workspace.write('broken.embedtune.yaml', 'model:\n  base: ./tiny-model\ndata:\n  train: qa.csv\n  colums: {}\n');
    const config = embedtune(['mine-negatives', 'broken.embedtune.yaml', '--out', 'x.jsonl'], workspace.root);
    assert.equal(config.code, 1);
    assert.match(config.stderr, /^broken\.embedtune\.yaml:5:3 error unknown-key /m);

    const range = embedtune(
      ['mine-negatives', model, '--data', 'pairs.jsonl', '--out', 'x.jsonl', '--range-min', '5', '--range-max', '5'],
      workspace.root,
    );
    assert.equal(range.code, 2);
    assert.match(range.stderr, /^embedtune mine-negatives: --range-min \(5\) must be smaller than --range-max \(5\)\.$/m);
    assert.match(range.stderr, /Usage|embedtune mine-negatives CONFIG\|MODEL --data PAIRS --out FILE/);

    const out = embedtune(['mine-negatives', model, '--data', 'pairs.jsonl', '--out', 'x.txt'], workspace.root);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /--out must end in \.jsonl, \.csv or \.tsv, not "x\.txt"\./);

    execFileSync('mkfifo', [workspace.path('pipe.embedtune.yaml'), workspace.path('pipe.jsonl')]);
    const pipeConfig = embedtune(['mine-negatives', 'pipe.embedtune.yaml', '--out', 'x.jsonl'], workspace.root);
    assert.equal(pipeConfig.code, 1, 'a named pipe as the config is refused, not read');
    assert.match(
      pipeConfig.stderr,
      /^embedtune mine-negatives: The config .*pipe\.embedtune\.yaml is not a regular file but a named pipe\.$/m,
    );
    const pipeData = embedtune(['mine-negatives', model, '--data', 'pipe.jsonl', '--out', 'x.jsonl'], workspace.root);
    assert.equal(pipeData.code, 1, 'a named pipe as the data is refused, not read');
    assert.match(pipeData.stderr, /^embedtune mine-negatives: The data file .*pipe\.jsonl is not a regular file but a named pipe\.$/m);

    const same = embedtune(['mine-negatives', model, '--data', 'pairs.jsonl', '--out', 'pairs.jsonl'], workspace.root);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /--out is the data file .*pairs\.jsonl; write the mined rows to a new file\./);
    assert.ok(readFileSync(workspace.path('pairs.jsonl'), 'utf8').startsWith('{"anchor":"what is a river"'), 'the data file is untouched');

    workspace.write('empty.jsonl', '\n\n');
    const empty = embedtune(['mine-negatives', model, '--data', 'empty.jsonl', '--out', 'x.jsonl'], workspace.root);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^embedtune mine-negatives: .*empty\.jsonl: nothing to mine: it has no data rows$/m);

    const number = embedtune(['mine-negatives', model, '--data', 'pairs.jsonl', '--out', 'x.jsonl', '--max-score', 'high'], workspace.root);
    assert.equal(number.code, 2);
    assert.match(number.stderr, /--max-score must be a number, not "high"\./);
  });

  it('is listed in the CLI’s usage', () => {
    const usage = embedtune(['--help'], workspace.root);
    assert.match(usage.stdout, /^ {2}embedtune mine-negatives CONFIG\|MODEL --data PAIRS --out FILE \[options\]$/m);
  });
});
