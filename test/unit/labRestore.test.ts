/**
 * What the Embedding Lab kept for a window reload, checked again before the Lab reopens on it: the shape, the run
 * still in the library, the models and the corpus still on disk.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkSavedLab, parseSavedLab, type RunNow } from '../../src/extension/lab/labRestore';
import { TempWorkspace } from '../helpers/tempWorkspace';

describe('the Embedding Lab kept across a window reload', () => {
  const workspace = new TempWorkspace();
  let run: RunNow;
  let saved: { run: string; first: string; second: string; corpus: string };

  before(() => {
    workspace.write('train.embedtune.yaml', 'model:\n  base: org/base-model\n');
    workspace.write('runs/r1/model/config.json', '{}');
    workspace.write('data/val.jsonl', '{"query": "q", "passage": "p"}\n');
    run = {
      entry: {
        key: workspace.path('runs/r1'),
        runId: 'r1',
        configPath: workspace.path('train.embedtune.yaml'),
        startedAt: null,
        lifecycle: 'completed',
        live: false,
      },
      defaults: {
        first: 'org/base-model',
        second: workspace.path('runs/r1/model'),
        corpus: workspace.path('data/val.jsonl'),
        column: 'passage',
      },
    };
    saved = {
      run: run.entry.key,
      first: 'org/base-model',
      second: workspace.path('runs/r1/model'),
      corpus: workspace.path('data/val.jsonl'),
    };
  });
  after(() => workspace.dispose());

  it('reopens on the same models, corpus and run, with the run’s column and config', () => {
    assert.deepEqual(checkSavedLab(saved, run), {
      ok: true,
      setup: { first: 'org/base-model', second: workspace.path('runs/r1/model'), corpus: workspace.path('data/val.jsonl'), runId: 'r1' },
      column: 'passage',
      config: workspace.path('train.embedtune.yaml'),
    });
  });

  it('reopens picked models and corpus with no run, read by lab-search’s own column defaults', () => {
    const picked = { run: null, first: workspace.path('runs/r1/model'), second: workspace.path('runs/r1/model'), corpus: saved.corpus };
    const restored = checkSavedLab(picked, undefined);
    assert.ok(restored.ok, JSON.stringify(restored));
    assert.deepEqual(restored.setup, { first: picked.first, second: picked.second, corpus: picked.corpus, runId: null });
    assert.equal(restored.column, undefined);
    assert.equal(restored.config, undefined);
  });

  it('keeps only its own fields, and refuses anything of the wrong kind', () => {
    assert.deepEqual(parseSavedLab({ ...saved, extra: '<img src=x onerror=alert(1)>' }), saved);
    for (const tampered of [
      undefined,
      null,
      'runs/r1',
      [],
      { ...saved, first: 42 },
      { ...saved, second: '' },
      { ...saved, corpus: null },
      { ...saved, run: 7 },
      { ...saved, run: '' },
      { ...saved, first: `${workspace.path('base')}\0` },
      { ...saved, corpus: `/${'x'.repeat(5000)}` },
      { run: saved.run, first: saved.first, second: saved.second },
    ]) {
      assert.equal(parseSavedLab(tampered), undefined, JSON.stringify(tampered));
      const restored = checkSavedLab(tampered, run);
      assert.ok(!restored.ok);
      assert.match(restored.message, /did not keep its models and corpus across the reload\. Run EmbedTune: Open Embedding Lab/);
    }
  });

  it('says so when the run is no longer in the workspace’s runs', () => {
    const restored = checkSavedLab(saved, undefined);
    assert.ok(!restored.ok);
    assert.equal(
      restored.message,
      `The run this Embedding Lab compared (${saved.run}) is no longer in the workspace. Run EmbedTune: Open Embedding Lab to open it again.`,
    );
  });

  it('refuses a model or corpus that is gone, a relative path that is not a hub id, and a folder as the corpus', () => {
    const cases: [Record<string, unknown>, RunNow | undefined, RegExp][] = [
      [{ ...saved, second: workspace.path('runs/r1/checkpoints/step-4') }, run, /second model is gone: .*step-4\./],
      [{ ...saved, first: workspace.path('gone') }, run, /first model is gone/],
      // A relative value is a hub id only by the owner/name shape the chooser accepts (or as the run's own base).
      [{ ...saved, first: 'org/other/model' }, run, /first model is gone: org\/other\/model/],
      [{ ...saved, first: '-org/model' }, run, /first model is gone: -org\/model/],
      [{ ...saved, run: null, first: 'org/..' }, undefined, /first model is gone: org\/\.\./],
      [{ ...saved, run: null, second: 'runs\\r1' }, undefined, /second model is gone: runs\\r1/],
      [{ ...saved, second: '../../runs/r1/model' }, run, /second model is gone/],
      [{ ...saved, corpus: workspace.path('data/gone.jsonl') }, run, /corpus is gone/],
      [{ ...saved, corpus: workspace.path('data') }, run, /corpus is gone/],
      [{ ...saved, corpus: 'data/val.jsonl' }, run, /corpus is gone/],
    ];
    for (const [value, runNow, message] of cases) {
      const restored = checkSavedLab(value, runNow);
      assert.ok(!restored.ok, JSON.stringify(value));
      assert.match(restored.message, message);
    }
  });

  it('reopens on a hub id typed in the model chooser, with or without a run', () => {
    for (const [value, runNow] of [
      [{ ...saved, first: 'org/other-model' }, run],
      [{ ...saved, run: null, second: 'sentence-transformers/all-MiniLM-L6-v2' }, undefined],
    ] as const) {
      const restored = checkSavedLab(value, runNow);
      assert.ok(restored.ok, JSON.stringify(restored));
      assert.deepEqual(restored.setup, { first: value.first, second: value.second, corpus: value.corpus, runId: runNow ? 'r1' : null });
    }
  });

  it('reads no column when the kept corpus is not the run’s validation file', () => {
    const other = workspace.write('data/other.txt', 'a\nb\n');
    const restored = checkSavedLab({ ...saved, corpus: other }, run);
    assert.ok(restored.ok);
    assert.equal(restored.column, undefined);
  });
});
