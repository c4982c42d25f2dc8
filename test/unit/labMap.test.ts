import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLabMapResult } from '../../src/shared/lab/labMapResult';
import { labMap, MAP_TEXT_CHARACTERS } from '../../src/trainer/lab/labMap';
import type { CorpusVectors } from '../../src/trainer/lab/labCorpusVectors';

test('labMap cuts long texts, lists each model’s clusters, and stores and reuses each projection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-map-'));
  try {
    const texts = ['short', 'x'.repeat(MAP_TEXT_CHARACTERS + 5), 'third', 'fourth'];
    const rows = [
      [1, 0, 0],
      [0.9, 0.1, 0],
      [0, 1, 0],
      [0, 0.9, 0.1],
    ].map((row) => Float32Array.from(row));
    const vectors = (name: string): CorpusVectors => ({ vectors: rows, cache: 'hit', cacheFile: join(dir, `${name}.f32`) });
    const request = {
      corpus: { file: 'c.txt', texts, sha256: 'ab' },
      models: ['a', 'b'] as const,
      vectors: [vectors('a'), vectors('b')] as const,
      method: 'pca' as const,
      seed: 3,
      columns: [],
    };
    const result = labMap(request);
    assert.ok(isLabMapResult(result));
    assert.equal(result.texts[1], `${'x'.repeat(MAP_TEXT_CHARACTERS)}…`);
    assert.equal(result.texts[0], 'short');
    assert.deepEqual(
      result.colourings.map((colouring) => colouring.name),
      ['clusters of the first model', 'clusters of the second model'],
    );
    const stored = join(dir, 'a.pca-3.json');
    assert.ok(existsSync(stored));
    // A stored projection is served as it is (here altered, to tell it from a recomputed one); a damaged one is not.
    const altered = JSON.parse(readFileSync(stored, 'utf8')) as { x: number[] };
    altered.x[0] = 123;
    writeFileSync(stored, JSON.stringify(altered));
    assert.equal(labMap(request).models[0].x[0], 123);
    writeFileSync(stored, '{"x": [1]}');
    assert.equal(labMap(request).models[0].x[0], result.models[0].x[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
