/**
 * The Embedding Lab across a window reload, without VS Code: a Lab opened on a run keeps its models, corpus and run in
 * the workspace's storage, and the Lab that the reload revives (LabSession.revive, what the panel serializer calls)
 * reopens on them with nothing asked for, searching through the real lab-search child process as before. What it
 * cannot reopen (a run gone, a model deleted, storage it did not write, an untrusted workspace) is said in the page.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LAB_UNTRUSTED_MESSAGE, LabSession } from '../../src/extension/lab/labSession';
import type { EngineCommand } from '../../src/extension/runs/engineProcess';
import { RunLibrary } from '../../src/extension/runs/runLibrary';
import { RunManager } from '../../src/extension/runs/runManager';
import { MemoryInVariable, openLab } from '../helpers/labSessionHarness';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from '../unit/support/recordingEditorHost';

const engine: EngineCommand = { nodePath: process.execPath, cliPath: resolve(__dirname, '../../dist/cli.js') };
const CORPUS = ['the river runs to the sea', 'a bird sings a song', 'the king has a horse', 'an island in the ocean', 'the school is big'];

describe('the Embedding Lab across a window reload', () => {
  const workspace = new TempWorkspace();
  const manager = new RunManager({ engine });
  const config = workspace.path('train.embedtune.yaml');
  const library = new RunLibrary(manager, async () => [config]);
  const savedCache = process.env.XDG_CACHE_HOME;
  const checkpoint = workspace.path('runs/r1/checkpoints/step-4');

  before(() => {
    process.env.XDG_CACHE_HOME = workspace.path('xdg-cache');
    buildTinyBert(workspace.path('base'), { withPoolingModules: true, seed: 1 });
    buildTinyBert(workspace.path('runs/r1/model'), { withPoolingModules: true, seed: 2 });
    buildTinyBert(checkpoint, { withPoolingModules: true, seed: 3 });
    const yaml =
      'model:\n  base: ./base\ndata:\n  train: data/train.jsonl\n  validation: data/qa.jsonl\n  columns: {anchor: question, positive: answer}\n';
    workspace.write('train.embedtune.yaml', yaml);
    workspace.write(
      'runs/r1/run.json',
      JSON.stringify({ run_id: 'r1', pid: 1, configPath: config, startedAt: '2026-12-04T10:00:00Z', state: 'finished' }),
    );
    // Validated on question/answer rows: lab-search reads the corpus only by the run's positive column.
    workspace.write('runs/r1/config.resolved.yaml', yaml);
    const rows = CORPUS.map((text, i) => JSON.stringify({ question: `q${i}`, answer: text })).join('\n') + '\n';
    workspace.write('data/qa.jsonl', rows);
    workspace.write('data/train.jsonl', rows);
  });
  after(() => {
    manager.dispose();
    workspace.dispose();
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCache;
  });

  it('reopens on the same run, models and corpus, asks for nothing, and searches with the run’s column and known positives', async () => {
    const memory = new MemoryInVariable();
    const host = new RecordingEditorHost();
    // The checkpoints panel's Lab: the run's base model against one checkpoint, not the trained model.
    const before = openLab((post) => new LabSession({ host, engine, library, memory }, post, workspace.path('runs/r1'), checkpoint));
    await before.session.handle({ command: 'ready' });
    const setup = {
      command: 'setup',
      first: workspace.path('base'),
      second: checkpoint,
      corpus: workspace.path('data/qa.jsonl'),
      runId: 'r1',
    };
    assert.deepEqual(before.posted, [setup]);
    assert.deepEqual(memory.value, { run: workspace.path('runs/r1'), first: setup.first, second: checkpoint, corpus: setup.corpus });
    await before.session.handle({ command: 'search', query: 'q1', k: 3 });
    const searched = before.posted.find((message) => message.command === 'results');
    assert.ok(searched?.command === 'results', JSON.stringify(before.posted));
    assert.deepEqual(searched.result.knownPositives, [1]);
    before.session.dispose();

    // The window reloads: a new host, and the panel serializer revives the Lab with what the storage kept.
    const reloaded = new RecordingEditorHost();
    reloaded.answers.push(workspace.path('elsewhere'), workspace.path('elsewhere'), workspace.path('elsewhere'));
    const after = openLab((post) => LabSession.revive({ host: reloaded, engine, library, memory }, post));
    await after.session.handle({ command: 'ready' });
    assert.deepEqual(after.posted, [setup], 'the same models, corpus and run as before the reload');
    assert.equal(reloaded.answers.length, 3, 'no picker was shown');
    // The page reloads again (hidden and shown): the settled setup is sent again, nothing is read or asked.
    await after.session.handle({ command: 'ready' });
    assert.deepEqual(after.posted, [setup, setup]);
    after.posted.length = 0;

    await after.session.handle({ command: 'search', query: 'q1', k: 3 });
    const results = after.posted.find((message) => message.command === 'results');
    assert.ok(results?.command === 'results', JSON.stringify(after.posted));
    assert.deepEqual(
      results.result.models.map((model) => [model.model, model.cache]),
      [
        [workspace.path('base'), 'hit'],
        [checkpoint, 'hit'],
      ],
    );
    assert.deepEqual(results.result.first, searched.result.first, 'the same ranking as before the reload');
    assert.deepEqual(results.result.knownPositives, [1], 'the run’s config still marks the validation query’s positive');
    after.session.dispose();
  });

  it('says in the page why it cannot reopen, runs nothing and asks for nothing', async () => {
    const revive = async (memoryValue: unknown, trusted = true) => {
      const memory = new MemoryInVariable();
      memory.value = memoryValue;
      const host = new RecordingEditorHost();
      host.trusted = trusted;
      host.answers.push(workspace.path('base'), workspace.path('base'), workspace.path('data/qa.jsonl'));
      const lab = openLab((post) => LabSession.revive({ host, engine, library, memory }, post));
      await lab.session.handle({ command: 'ready' });
      await lab.session.handle({ command: 'search', query: 'q1', k: 3 });
      lab.session.dispose();
      assert.equal(host.answers.length, 3, 'no picker was shown');
      assert.equal(memory.saves, 0, 'what was kept is left as it was');
      assert.ok(
        lab.posted.every((message) => message.command === 'error'),
        JSON.stringify(lab.posted),
      );
      return lab.posted.map((message) => (message as { message: string }).message);
    };
    const kept = {
      run: workspace.path('runs/r1'),
      first: workspace.path('base'),
      second: checkpoint,
      corpus: workspace.path('data/qa.jsonl'),
    };

    assert.deepEqual(await revive(kept, false), [LAB_UNTRUSTED_MESSAGE, LAB_UNTRUSTED_MESSAGE]);
    const [tampered] = await revive({ ...kept, first: { path: workspace.path('base') } });
    assert.match(tampered!, /did not keep its models and corpus across the reload/);
    const [nothing] = await revive(undefined);
    assert.match(nothing!, /did not keep its models and corpus across the reload/);
    const [notARun] = await revive({ ...kept, run: workspace.path('data') });
    assert.match(notARun!, /The run this Embedding Lab compared \(.*data\) is no longer in the workspace/);

    rmSync(checkpoint, { recursive: true });
    const [gone, refused] = await revive(kept);
    assert.match(gone!, /second model is gone: .*step-4\. Run EmbedTune: Open Embedding Lab to open it again\./);
    assert.match(refused!, /Pick two models and a corpus first/);

    rmSync(workspace.path('runs/r1'), { recursive: true });
    await library.refresh();
    const [runGone] = await revive(kept);
    assert.match(runGone!, /The run this Embedding Lab compared \(.*r1\) is no longer in the workspace/);
  });

  it('forgets the Lab kept before when a new Lab’s picks are dismissed', async () => {
    const memory = new MemoryInVariable();
    memory.value = { run: null, first: workspace.path('base'), second: workspace.path('base'), corpus: workspace.path('data/qa.jsonl') };
    const host = new RecordingEditorHost();
    const lab = openLab((post) => new LabSession({ host, engine, library, memory }, post, undefined));
    await lab.session.handle({ command: 'ready' });
    assert.deepEqual(lab.posted, []);
    assert.equal(memory.value, undefined);
  });
});
