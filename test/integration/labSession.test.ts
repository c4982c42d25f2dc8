/**
 * The Embedding Lab's extension side without VS Code: LabSession answers the webview's messages by running the built
 * CLI's lab-search as a child process, and the run defaults come from a run folder laid out as the engine writes it.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labDefaultsForRun } from '../../src/extension/lab/labDefaults';
import { LAB_UNTRUSTED_MESSAGE, LabSession } from '../../src/extension/lab/labSession';
import type { CancellableProgress } from '../../src/extension/backend/cancellableProgress';
import type { EngineCommand } from '../../src/extension/runs/engineProcess';
import { RunLibrary } from '../../src/extension/runs/runLibrary';
import { RunManager } from '../../src/extension/runs/runManager';
import type { ToLab } from '../../src/shared/protocol/labMessages';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from '../unit/support/recordingEditorHost';

const engine: EngineCommand = { nodePath: process.execPath, cliPath: resolve(__dirname, '../../dist/cli.js') };
/** Records what the session posts, less the page's progress messages (labTools.test.ts checks those). */
const keepPosted =
  (posted: ToLab[]) =>
  (message: ToLab): void => {
    if (message.command !== 'progress') posted.push(message);
  };
const CORPUS = ['the river runs to the sea', 'a bird sings a song', 'the king has a horse', 'an island in the ocean', 'the school is big'];

describe('the Embedding Lab session', () => {
  const workspace = new TempWorkspace();
  const manager = new RunManager({ engine });
  const library = new RunLibrary(manager, async () => [workspace.path('train.embedtune.yaml')]);
  const savedCache = process.env.XDG_CACHE_HOME;

  before(() => {
    // lab-search inherits the environment: its cache goes into the workspace, not the user's cache.
    process.env.XDG_CACHE_HOME = workspace.path('xdg-cache');
    buildTinyBert(workspace.path('base'), { withPoolingModules: true, seed: 1 });
    buildTinyBert(workspace.path('runs/r1/model'), { withPoolingModules: true, seed: 2 });
    workspace.write('data/val.jsonl', CORPUS.map((text, i) => JSON.stringify({ anchor: `q${i}`, positive: text })).join('\n') + '\n');
    workspace.write(
      'runs/r1/config.resolved.yaml',
      'model:\n  base: ./base\ndata:\n  train: data/train.jsonl\n  validation: data/val.jsonl\n  columns: {anchor: question, positive: answer}\n',
    );
    mkdirSync(workspace.path('runs/r2/checkpoints/step-8'), { recursive: true });
    // r3: a run the library lists (under the config's default output folder), validated on question/answer rows.
    workspace.write('train.embedtune.yaml', 'model:\n  base: ./base\n');
    buildTinyBert(workspace.path('runs/r3/model'), { withPoolingModules: true, seed: 3 });
    workspace.write(
      'runs/r3/run.json',
      JSON.stringify({
        run_id: 'r3',
        pid: 1,
        configPath: workspace.path('train.embedtune.yaml'),
        startedAt: '2026-12-03T10:00:00Z',
        state: 'finished',
      }),
    );
    workspace.write(
      'runs/r3/config.resolved.yaml',
      'model:\n  base: ./base\ndata:\n  train: data/train.jsonl\n  validation: data/qa.jsonl\n  columns: {anchor: question, positive: answer}\n',
    );
    workspace.write('data/qa.jsonl', CORPUS.map((text, i) => JSON.stringify({ question: `q${i}`, answer: text })).join('\n') + '\n');
    workspace.write('runs/r2/best', 'checkpoints/step-8\n');
    workspace.write(
      'runs/r2/config.resolved.yaml',
      'model:\n  base: sentence-transformers/all-MiniLM-L6-v2\ndata:\n  train: data/train.jsonl\n',
    );
  });
  after(() => {
    manager.dispose();
    workspace.dispose();
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCache;
  });

  it('defaults to the run’s base model, its model/ folder (else its best checkpoint) and its validation file', () => {
    const config = workspace.path('train.embedtune.yaml');
    assert.deepEqual(labDefaultsForRun(workspace.path('runs/r1'), config), {
      first: workspace.path('base'),
      second: join(workspace.path('runs/r1'), 'model'),
      corpus: workspace.path('data/val.jsonl'),
      column: 'answer',
    });
    assert.deepEqual(labDefaultsForRun(workspace.path('runs/r2'), config), {
      first: 'sentence-transformers/all-MiniLM-L6-v2',
      second: join(workspace.path('runs/r2'), 'checkpoints/step-8'),
      corpus: undefined,
      column: undefined,
    });
  });

  it('searches through the lab-search child process, and the second search reads the corpus embeddings from the cache', async () => {
    const host = new RecordingEditorHost();
    host.answers.push(workspace.path('base'), workspace.path('runs/r1/model'), workspace.path('data/val.jsonl'));
    const posted: ToLab[] = [];
    const session = new LabSession({ host, engine, library }, keepPosted(posted), undefined);
    await session.handle({ command: 'ready' });
    assert.deepEqual(posted.shift(), {
      command: 'setup',
      first: workspace.path('base'),
      second: workspace.path('runs/r1/model'),
      corpus: workspace.path('data/val.jsonl'),
      runId: null,
    });
    await session.handle({ command: 'search', query: 'where is the sea', k: 3 });
    assert.deepEqual(
      posted.map((message) => message.command),
      ['busy', 'results', 'busy'],
    );
    const first = posted[1]!;
    assert.ok(first.command === 'results');
    assert.equal(first.result.corpus.entries, CORPUS.length);
    assert.equal(first.result.first.length, 3);
    assert.ok(first.result.first.every((hit) => CORPUS.includes(hit.text)));
    assert.deepEqual(
      first.result.models.map((model) => model.cache),
      ['miss', 'miss'],
    );
    posted.length = 0;
    // A query that looks like an option is still the query.
    await session.handle({ command: 'search', query: '--a song', k: 3 });
    const second = posted.find((message) => message.command === 'results');
    assert.ok(second?.command === 'results', JSON.stringify(posted));
    assert.equal(second.result.query, '--a song');
    assert.deepEqual(
      second.result.models.map((model) => model.cache),
      ['hit', 'hit'],
    );
  });

  it('opens on a run with its defaults and reads its validation file by the config’s positive column', async () => {
    const host = new RecordingEditorHost();
    const posted: ToLab[] = [];
    const session = new LabSession({ host, engine, library }, keepPosted(posted), workspace.path('runs/r3'));
    await session.handle({ command: 'ready' });
    assert.deepEqual(posted.shift(), {
      command: 'setup',
      first: workspace.path('base'),
      second: join(workspace.path('runs/r3'), 'model'),
      corpus: workspace.path('data/qa.jsonl'),
      runId: 'r3',
    });
    await session.handle({ command: 'search', query: 'the sea', k: 2 });
    const results = posted.find((message) => message.command === 'results');
    assert.ok(results?.command === 'results', JSON.stringify(posted));
    assert.ok(
      results.result.first.every((hit) => CORPUS.includes(hit.text)),
      'the answers are the corpus',
    );
  });

  it('reports the corpus encoding as it goes, and Cancel kills the search and caches nothing', async () => {
    const words = CORPUS.join(' ').split(' ');
    const big = Array.from({ length: 3000 }, (_, i) => `${words[i % words.length]} ${words[(i * 7) % words.length]} ${i}`);
    workspace.write('data/big.txt', `${big.join('\n')}\n`);
    const reports: string[] = [];
    const cancelAtFirstReport: CancellableProgress = (_title, task) => {
      const controller = new AbortController();
      return task((message) => {
        reports.push(message);
        controller.abort();
      }, controller.signal);
    };
    const host = new RecordingEditorHost();
    host.answers.push(workspace.path('base'), workspace.path('runs/r1/model'), workspace.path('data/big.txt'));
    const posted: ToLab[] = [];
    const session = new LabSession({ host, engine, library, progress: cancelAtFirstReport }, keepPosted(posted), undefined);
    await session.handle({ command: 'ready' });
    await session.handle({ command: 'search', query: 'the sea', k: 3 });
    assert.equal(reports[0], `encoding the corpus with ${workspace.path('base')}: 0 of 3000 texts`);
    assert.deepEqual(
      posted.slice(1).map((message) => message.command),
      ['busy', 'error', 'busy'],
    );
    assert.match((posted[2] as { message: string }).message, /cancelled/);
    // Searching again encodes again: the cancelled search stored no embeddings.
    const completed: string[] = [];
    const plain = new LabSession(
      { host, engine, library, progress: (_title, task) => task((message) => completed.push(message), new AbortController().signal) },
      () => undefined,
      undefined,
    );
    host.answers.push(workspace.path('base'), workspace.path('runs/r1/model'), workspace.path('data/big.txt'));
    await plain.handle({ command: 'ready' });
    await plain.handle({ command: 'search', query: 'the sea', k: 3 });
    assert.ok(completed.includes(`encoding the corpus with ${workspace.path('base')}: 0 of 3000 texts`), 'the corpus was encoded again');
    assert.ok(completed.includes(`encoding the corpus with ${workspace.path('runs/r1/model')}: 3000 of 3000 texts`));
  });

  it('runs nothing in an untrusted workspace and says why', async () => {
    const host = new RecordingEditorHost();
    host.trusted = false;
    host.answers.push(workspace.path('base'), workspace.path('runs/r1/model'), workspace.path('data/val.jsonl'));
    const posted: ToLab[] = [];
    const session = new LabSession({ host, engine, library }, keepPosted(posted), undefined);
    await session.handle({ command: 'ready' });
    await session.handle({ command: 'search', query: 'where is the sea', k: 3 });
    assert.deepEqual(posted.slice(1), [{ command: 'error', message: LAB_UNTRUSTED_MESSAGE }]);
  });
});
