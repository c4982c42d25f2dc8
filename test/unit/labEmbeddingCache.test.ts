import assert from 'node:assert/strict';
import { readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputFileError } from '../../src/trainer/cli/cliIo';
import { defaultLabCacheDir, EmbeddingCache, modelFingerprint } from '../../src/trainer/lab/embeddingCache';
import { readLabCorpus } from '../../src/trainer/lab/labCorpus';
import { TempWorkspace } from '../helpers/tempWorkspace';

describe('the Embedding Lab cache and corpus', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('gives back the stored vectors, and nothing for another corpus or a damaged entry', () => {
    const cache = new EmbeddingCache(workspace.path('cache-a'));
    const vectors = [Float32Array.from([1, 0, 0]), Float32Array.from([0, 0.6, 0.8])];
    cache.write('m', 'fp', 'corpus1', vectors);
    const read = cache.read('fp', 'corpus1', 2);
    assert.deepEqual(
      read?.vectors.map((vector) => Array.from(vector)),
      [
        [1, 0, 0],
        [0, Math.fround(0.6), Math.fround(0.8)],
      ],
    );
    assert.equal(cache.read('fp', 'corpus2', 2), undefined, 'another corpus');
    assert.equal(cache.read('other', 'corpus1', 2), undefined, 'another model');
    assert.equal(cache.read('fp', 'corpus1', 3), undefined, 'another count');
    truncateSync(read!.file, 8);
    assert.equal(cache.read('fp', 'corpus1', 2), undefined, 'a truncated vector file is a miss, not wrong vectors');
    assert.ok(!readdirSync(workspace.path('cache-a')).some((name) => name.endsWith('.tmp')), 'no temporary file is left');
  });

  it('fingerprints a model folder by its files, so retraining into it is a miss; a hub id by its name', () => {
    workspace.write('model/config.json', '{}');
    workspace.write('model/model.safetensors', 'weights');
    const before = modelFingerprint('model', workspace.root);
    assert.equal(modelFingerprint(workspace.path('model'), '/elsewhere'), before, 'the same folder by an absolute path');
    writeFileSync(workspace.path('model/model.safetensors'), 'other weights');
    assert.notEqual(modelFingerprint('model', workspace.root), before);
    assert.equal(modelFingerprint('org/name', workspace.root), 'id:org/name');
    assert.equal(defaultLabCacheDir({ XDG_CACHE_HOME: '/xdg' }), join('/xdg', 'embedtune', 'lab'));
  });

  it('reads a CSV corpus by its column, each text once, and names the columns it has when the default is missing', async () => {
    workspace.write('c.csv', 'id,body\n1,"a river, and the sea"\n2,a bird\n3,a bird\n');
    const corpus = await readLabCorpus(workspace.path('c.csv'), 'body');
    assert.deepEqual(corpus.texts, ['a river, and the sea', 'a bird']);
    const other = await readLabCorpus(workspace.path('c.csv'), 'id');
    assert.notEqual(other.sha256, corpus.sha256, 'another column is another corpus');
    await assert.rejects(
      readLabCorpus(workspace.path('c.csv')),
      (error: Error) =>
        error instanceof InputFileError && /c\.csv:1: has none of the columns text, positive.*\(it has id, body\)/.test(error.message),
    );
  });
});
