/**
 * `embedtune lab-search` as the Embedding Lab runs it: the built CLI as a child process, on two tiny random BERTs
 * written in the real on-disk format. Its rankings are checked against vectors from `embedtune encode`, the CLI's
 * other encode path, and its cache against what it reports and what it prints while encoding.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LabSearchResult } from '../../src/shared/lab/labSearchResult';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');

function embedtune(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const CORPUS = [
  'the river runs by the mountain',
  'a bird can sing a song',
  'the school is near the sea',
  'music and song in the morning',
  'the king has a horse',
  'paper and book on the table',
  'the ocean is deep and blue',
  'an island in the north sea',
  'the dog and the cat play',
  'a tree grows near the farm',
  'the city has a large street',
  'children study at the school',
];
const QUERY = 'where does the river meet the sea';

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

describe('embedtune lab-search', () => {
  const workspace = new TempWorkspace();
  const search = (extra: string[] = [], corpus = 'corpus.txt') =>
    embedtune(
      [
        'lab-search',
        '--model',
        'base',
        '--compare',
        'tuned',
        '--corpus',
        corpus,
        '--query',
        QUERY,
        '--top-k',
        '5',
        '--cache-dir',
        'cache',
        '--json',
        ...extra,
      ],
      workspace.root,
    );

  before(() => {
    buildTinyBert(workspace.path('base'), { withPoolingModules: true, seed: 1 });
    buildTinyBert(workspace.path('tuned'), { withPoolingModules: true, seed: 2 });
    workspace.write('corpus.txt', `${CORPUS.join('\n')}\n\n`);
    workspace.write('query.txt', `${QUERY}\n`);
  });
  after(() => workspace.dispose());

  /** The top-5 by cosine of `embedtune encode`'s vectors: what lab-search must find, computed without it. */
  function expectedTop(model: string): number[] {
    for (const [input, output] of [
      ['corpus.txt', `${model}-corpus.jsonl`],
      ['query.txt', `${model}-query.jsonl`],
    ]) {
      const encoded = embedtune(['encode', model, '--in', input!, '--out', output!], workspace.root);
      assert.equal(encoded.code, 0, encoded.stderr);
    }
    const read = (file: string) =>
      readFileSync(workspace.path(file), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { text: string; embedding: number[] });
    const query = read(`${model}-query.jsonl`)[0]!.embedding;
    const scores = read(`${model}-corpus.jsonl`)
      .filter((row) => row.text !== '')
      .map((row, index) => ({ index, score: cosine(query, row.embedding) }));
    return scores
      .sort((a, b) => b.score - a.score)
      .slice(0, 5)
      .map((hit) => hit.index);
  }

  it('ranks the corpus under both models as encode’s vectors do, and marks how each result moved', () => {
    const run = search();
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as LabSearchResult;
    assert.equal(result.corpus.entries, CORPUS.length, 'the blank lines are not entries');
    assert.deepEqual(
      result.models.map((model) => model.cache),
      ['miss', 'miss'],
    );
    const baseTop = expectedTop('base');
    const tunedTop = expectedTop('tuned');
    assert.deepEqual(
      result.first.map((hit) => hit.index),
      baseTop,
    );
    assert.deepEqual(
      result.second.filter((hit) => hit.rank !== null).map((hit) => hit.index),
      tunedTop,
    );
    assert.deepEqual(
      result.first.map((hit) => hit.text),
      baseTop.map((index) => CORPUS[index]),
    );
    // Each mark follows from the two independent rankings.
    for (const hit of result.second) {
      const before = baseTop.indexOf(hit.index) + 1 || null;
      const after = tunedTop.indexOf(hit.index) + 1 || null;
      assert.equal(hit.previousRank, before, hit.text);
      assert.equal(hit.rank, after, hit.text);
      const kind = after === null ? 'dropped' : before === null ? 'new' : before === after ? 'same' : before > after ? 'up' : 'down';
      assert.equal(hit.change.kind, kind, hit.text);
    }
    assert.ok(
      result.second.some((hit) => hit.change.kind !== 'same'),
      'two differently seeded models rank differently',
    );
    assert.match(run.stderr, /encoding 12\/12 with base/);
  });

  it('serves the second search of the same corpus from the cache, encoding only the query', () => {
    const first = JSON.parse(search().stdout) as LabSearchResult;
    const again = search(['--query', 'a song in the morning']);
    assert.equal(again.code, 0, again.stderr);
    const result = JSON.parse(again.stdout) as LabSearchResult;
    assert.deepEqual(
      result.models.map((model) => model.cache),
      ['hit', 'hit'],
    );
    assert.doesNotMatch(again.stderr, /encoding/, 'no corpus encoding was reported');
    assert.deepEqual(
      result.models.map((model) => model.cacheFile),
      first.models.map((model) => model.cacheFile),
    );
    assert.equal(result.query, 'a song in the morning');
  });

  it('encodes again when the corpus changes, and reads a JSONL corpus by its column', () => {
    workspace.write('corpus.txt', `${CORPUS.join('\n')}\na new line about the sea\n`);
    const changed = JSON.parse(search().stdout) as LabSearchResult;
    assert.deepEqual(
      changed.models.map((model) => model.cache),
      ['miss', 'miss'],
    );
    assert.equal(changed.corpus.entries, CORPUS.length + 1);
    workspace.write('pairs.jsonl', CORPUS.map((text, i) => JSON.stringify({ anchor: `q${i}`, positive: text })).join('\n') + '\n');
    const pairs = search([], 'pairs.jsonl');
    assert.equal(pairs.code, 0, pairs.stderr);
    const fromPairs = JSON.parse(pairs.stdout) as LabSearchResult;
    assert.equal(fromPairs.corpus.entries, CORPUS.length);
    assert.ok(
      fromPairs.first.every((hit) => CORPUS.includes(hit.text)),
      'the positive column is the corpus',
    );
  });

  it('names the file and line of a bad corpus row, and refuses a missing corpus', () => {
    workspace.write('bad.jsonl', `${JSON.stringify({ text: 'fine' })}\n{not json\n`);
    const bad = search([], 'bad.jsonl');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad\.jsonl:2: the row is not valid JSON/);
    const missing = search([], 'nowhere.txt');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /The corpus nowhere\.txt does not exist/);
  });
});
