/**
 * `embedtune lab-map` and `lab-neighbours` as the Embedding Lab's map runs them: the built CLI as a child process on
 * two tiny random BERTs. The points are checked against a PCA of `embedtune encode`'s vectors (the CLI's other encode
 * path), the neighbours against their cosine ranking, and both against the cache lab-search fills.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLabMapResult, isLabNeighboursResult, type LabMapResult, type LabNeighboursResult } from '../../src/shared/lab/labMapResult';
import { pca } from '../../src/trainer/lab/pca';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');

function embedtune(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const ROWS = [
  { text: 'the river runs by the mountain', label: 'nature', source: 'wiki' },
  { text: 'a bird can sing a song', label: 'music', source: 'news' },
  { text: 'the school is near the sea', label: 'place', source: 'wiki' },
  { text: 'music and song in the morning', label: 'music', source: 'wiki' },
  { text: 'the king has a horse', label: 'people', source: 'news' },
  { text: 'paper and book on the table', label: 'place', source: 'wiki' },
  { text: 'the ocean is deep and blue', label: 'nature', source: 'wiki' },
  { text: 'an island in the north sea', label: 'nature', source: 'news' },
  { text: 'the dog and the cat play', label: 'people', source: 'wiki' },
  { text: 'a tree grows near the farm', label: 'nature', source: 'wiki' },
  // A repeated text is one entry, coloured by its first row.
  { text: 'the river runs by the mountain', label: 'music', source: 'news' },
  { text: 'children study at the school', label: 'people', source: 'news' },
];
const TEXTS = [...new Set(ROWS.map((row) => row.text))];

describe('embedtune lab-map and lab-neighbours', () => {
  const workspace = new TempWorkspace();
  const common = ['--model', 'base', '--compare', 'tuned', '--corpus', 'corpus.jsonl', '--cache-dir', 'cache', '--json'];
  const map = (extra: string[] = []) => embedtune(['lab-map', ...common, ...extra], workspace.root);

  before(() => {
    buildTinyBert(workspace.path('base'), { withPoolingModules: true, seed: 1 });
    buildTinyBert(workspace.path('tuned'), { withPoolingModules: true, seed: 2 });
    workspace.write('corpus.jsonl', ROWS.map((row) => JSON.stringify(row)).join('\n') + '\n');
    workspace.write('texts.txt', TEXTS.join('\n') + '\n');
  });
  after(() => workspace.dispose());

  /** `embedtune encode`'s vectors of the corpus, made unit length as the Lab's are. */
  function encoded(model: string): Float32Array[] {
    const run = embedtune(['encode', model, '--in', 'texts.txt', '--out', `${model}.jsonl`], workspace.root);
    assert.equal(run.code, 0, run.stderr);
    return readFileSync(workspace.path(`${model}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const vector = Float32Array.from((JSON.parse(line) as { embedding: number[] }).embedding);
        const norm = Math.hypot(...vector);
        return vector.map((value) => value / norm);
      });
  }

  it('projects both models’ corpus embeddings with PCA, as a PCA of encode’s vectors, with label, source and cluster colourings', () => {
    const run = map();
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as LabMapResult;
    assert.ok(isLabMapResult(result), 'the Lab accepts what lab-map prints');
    assert.equal(result.method, 'pca');
    assert.deepEqual(result.texts, TEXTS);
    assert.deepEqual(
      result.models.map((model) => model.cache),
      ['miss', 'miss'],
    );
    ['base', 'tuned'].forEach((model, m) => {
      const expected = pca(encoded(model)).coordinates;
      const actual = [result.models[m]!.x, result.models[m]!.y];
      for (const c of [0, 1]) {
        const sign = Math.sign(actual[c]!.reduce((sum, value, i) => sum + value * expected[c]![i]!, 0));
        actual[c]!.forEach((value, i) => assert.ok(Math.abs(sign * value - expected[c]![i]!) < 1e-3, `${model} component ${c} point ${i}`));
      }
    });
    assert.notDeepEqual(result.models[0].x, result.models[1].x, 'each model has its own layout');
    assert.deepEqual(
      result.colourings.map((colouring) => colouring.name),
      ['label', 'source', 'clusters of the first model', 'clusters of the second model'],
    );
    const label = result.colourings[0]!;
    assert.deepEqual(
      label.codes.map((code) => label.categories[code]),
      TEXTS.map((text) => ROWS.find((row) => row.text === text)!.label),
    );
    assert.deepEqual(label.categories.slice(0, 1), ['nature'], 'the commonest value first');
    assert.match(run.stderr, /encoding 11\/11 with base/);
  });

  it('reads the second map from the cache and its stored projection, and gives the same UMAP for the same seed', () => {
    const first = JSON.parse(map().stdout) as LabMapResult;
    const again = map();
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /encoding/);
    assert.deepEqual(
      (JSON.parse(again.stdout) as LabMapResult).models.map((model) => model.cache),
      ['hit', 'hit'],
    );
    const umap = map(['--method', 'umap', '--seed', '7']);
    assert.equal(umap.code, 0, umap.stderr);
    const layout = JSON.parse(umap.stdout) as LabMapResult;
    assert.ok(isLabMapResult(layout));
    assert.equal(layout.method, 'umap');
    assert.notDeepEqual(layout.models[0].x, first.models[0].x);
    const cacheFiles = readdirCache(workspace.path('cache'));
    assert.ok(cacheFiles.some((name) => name.endsWith('.umap-7.json')) && cacheFiles.some((name) => name.endsWith('.pca-42.json')));
    const stored = map(['--method', 'umap', '--seed', '7']);
    assert.deepEqual(JSON.parse(stored.stdout), layout, 'the stored layout is served as computed');
  });

  it('lists an entry’s nearest entries under both models, itself left out, marked as a search is', () => {
    const run = embedtune(['lab-neighbours', ...common, '--index', '2', '--top-k', '3'], workspace.root);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as LabNeighboursResult;
    assert.ok(isLabNeighboursResult(result));
    assert.equal(result.text, TEXTS[2]);
    const vectors = encoded('tuned');
    const expected = vectors
      .map((vector, index) => ({ index, score: vector.reduce((sum, value, j) => sum + value * vectors[2]![j]!, 0) }))
      .filter((hit) => hit.index !== 2)
      .sort((a, b) => b.score - a.score)
      .slice(0, 3)
      .map((hit) => hit.index);
    assert.deepEqual(
      result.second.filter((hit) => hit.rank !== null).map((hit) => hit.index),
      expected,
    );
    assert.equal(result.first.length, 3);
    assert.ok(result.first.every((hit) => hit.index !== 2));
    const past = embedtune(['lab-neighbours', ...common, '--index', '11'], workspace.root);
    assert.equal(past.code, 1);
    assert.match(past.stderr, /--index 11 is past the end of corpus\.jsonl, which has 11 entries/);
    const badMethod = map(['--method', 'tsne']);
    assert.equal(badMethod.code, 2);
    assert.match(badMethod.stderr, /--method must be one of pca, umap, not "tsne"/);
  });
});

function readdirCache(dir: string): string[] {
  assert.ok(existsSync(dir));
  return readdirSync(dir);
}
