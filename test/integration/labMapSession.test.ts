/**
 * The Embedding Lab's map on the extension side without VS Code: LabSession hands the webview's map and neighbour
 * requests to LabMapSession, which runs the built CLI's lab-map and lab-neighbours as child processes.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectingProgress } from '../../src/extension/lab/labMapSession';
import { LAB_UNTRUSTED_MESSAGE, LabSession } from '../../src/extension/lab/labSession';
import type { EngineCommand } from '../../src/extension/runs/engineProcess';
import { RunLibrary } from '../../src/extension/runs/runLibrary';
import { RunManager } from '../../src/extension/runs/runManager';
import { isLabMapResult, type LabMapResult, type LabNeighboursResult } from '../../src/shared/lab/labMapResult';
import type { ToLab } from '../../src/shared/protocol/labMessages';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from '../unit/support/recordingEditorHost';

const engine: EngineCommand = { nodePath: process.execPath, cliPath: resolve(__dirname, '../../dist/cli.js') };
const ROWS = [
  { text: 'the river runs to the sea', label: 'nature' },
  { text: 'a bird sings a song', label: 'music' },
  { text: 'the king has a horse', label: 'people' },
  { text: 'an island in the ocean', label: 'nature' },
  { text: 'the school is big', label: 'people' },
  { text: '<img src=x onerror=alert(1)>', label: '<b>html</b>' },
];

describe('the Embedding Lab map session', () => {
  const workspace = new TempWorkspace();
  const manager = new RunManager({ engine });
  const library = new RunLibrary(manager, async () => []);
  const savedCache = process.env.XDG_CACHE_HOME;

  before(() => {
    // The CLI inherits the environment: its cache goes into the workspace, not the user's cache.
    process.env.XDG_CACHE_HOME = workspace.path('xdg-cache');
    buildTinyBert(workspace.path('base'), { withPoolingModules: true, seed: 1 });
    buildTinyBert(workspace.path('tuned'), { withPoolingModules: true, seed: 2 });
    workspace.write('corpus.jsonl', ROWS.map((row) => JSON.stringify(row)).join('\n') + '\n');
  });
  after(() => {
    manager.dispose();
    workspace.dispose();
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCache;
  });

  async function openSession(trusted = true) {
    const host = new RecordingEditorHost();
    host.trusted = trusted;
    host.answers.push(workspace.path('base'), workspace.path('tuned'), workspace.path('corpus.jsonl'));
    const posted: ToLab[] = [];
    const reports: string[] = [];
    const session = new LabSession(
      { host, engine, library, progress: (_title, task) => task((message) => reports.push(message), new AbortController().signal) },
      (message) => posted.push(message),
      undefined,
    );
    await session.handle({ command: 'ready' });
    return { session, posted, reports };
  }

  it('draws the map through lab-map, with the corpus’s label column, then finds a clicked point’s neighbours', async () => {
    const { session, posted, reports } = await openSession();
    await session.handle({ command: 'map', method: 'umap' });
    const commands = posted.map((message) => (message.command === 'mapBusy' ? `mapBusy:${message.busy}` : message.command));
    assert.deepEqual(
      commands,
      ['setup', 'mapBusy:umap', 'map', 'mapBusy:null'],
      JSON.stringify(posted.filter((m) => m.command === 'error')),
    );
    const map = (posted.find((message) => message.command === 'map') as { result: LabMapResult }).result;
    assert.ok(isLabMapResult(map));
    assert.equal(map.method, 'umap');
    assert.deepEqual(
      map.texts,
      ROWS.map((row) => row.text),
    );
    assert.deepEqual(
      map.colourings[0]!.codes.map((code) => map.colourings[0]!.categories[code]),
      ROWS.map((row) => row.label),
    );
    assert.ok(
      reports.some((report) => /^encoding the corpus with .*base: 6 of 6 texts$/.test(report)),
      reports.join('\n'),
    );
    assert.ok(
      reports.some((report) => /^laying out the map for .*tuned: epoch \d+ of \d+$/.test(report)),
      reports.join('\n'),
    );

    posted.length = 0;
    await session.handle({ command: 'neighbours', index: 5, k: 2 });
    const neighbours = (posted.find((message) => message.command === 'neighbours') as { result: LabNeighboursResult }).result;
    assert.equal(neighbours.index, 5);
    assert.equal(neighbours.text, ROWS[5]!.text);
    assert.equal(neighbours.first.length, 2);
    assert.ok(neighbours.first.every((hit) => hit.index !== 5 && hit.text === ROWS[hit.index]!.text));
  });

  it('runs nothing in an untrusted workspace and says why', async () => {
    const { session, posted } = await openSession(false);
    await session.handle({ command: 'map', method: 'pca' });
    assert.deepEqual(posted.slice(1), [{ command: 'error', message: LAB_UNTRUSTED_MESSAGE }]);
  });

  it('words the CLI’s progress lines for the notification', () => {
    assert.equal(projectingProgress('projecting 20/200 with ./base'), 'laying out the map for ./base: epoch 20 of 200');
    assert.equal(projectingProgress('encoding 32/64 with ./base'), 'encoding the corpus with ./base: 32 of 64 texts');
    assert.equal(projectingProgress('projected 10 entries (pca) in 5 ms'), undefined);
  });
});
