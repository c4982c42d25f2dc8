/**
 * The Embedding Lab's map on the extension side without VS Code: LabSession hands the webview's map and neighbour
 * requests to LabMapSession, which runs the built CLI's lab-map and lab-neighbours as child processes.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectingProgress } from '../../src/extension/lab/labMapSession';
import { LAB_UNTRUSTED_MESSAGE, LabSession } from '../../src/extension/lab/labSession';
import type { EngineCommand } from '../../src/extension/runs/engineProcess';
import { RunLibrary } from '../../src/extension/runs/runLibrary';
import { RunManager } from '../../src/extension/runs/runManager';
import { isLabMapResult, type LabMapResult, type LabNeighboursResult } from '../../src/shared/lab/labMapResult';
import { parseFromLab, type ToLab } from '../../src/shared/protocol/labMessages';
import type { CancellableProgress } from '../../src/extension/backend/cancellableProgress';
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

/** 800 entries: umap-js's 500 epochs take about a second per model here, long enough to be stopped in the middle. */
const WORDS = ['river', 'sea', 'bird', 'song', 'king', 'horse', 'island', 'ocean', 'school', 'tree', 'city', 'street'];
const BIG = Array.from({ length: 800 }, (_, i) => ({ text: `${WORDS[i % 12]} ${WORDS[(i * 7) % 12]} number ${i}`, label: WORDS[i % 5] }));

/** The running `embedtune lab-map` processes for a corpus, by pid (from /proc: the real child, not a stand-in). */
function labMapProcesses(corpus: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.includes('lab-map') && args.includes(`--corpus=${corpus}`);
      } catch {
        return false; // it ended meanwhile
      }
    })
    .map(Number);
}

/** Every file under a folder, relative to it. */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [];
}

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
    workspace.write('big.jsonl', BIG.map((row) => JSON.stringify(row)).join('\n') + '\n');
  });
  after(() => {
    manager.dispose();
    workspace.dispose();
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCache;
  });

  async function openSession(
    trusted = true,
    corpus = 'corpus.jsonl',
    progress?: CancellableProgress,
    onPosted?: (message: ToLab, session: LabSession) => void,
  ) {
    const host = new RecordingEditorHost();
    host.trusted = trusted;
    host.answers.push(workspace.path('base'), workspace.path('tuned'), workspace.path(corpus));
    const posted: ToLab[] = [];
    const reports: string[] = [];
    const session: LabSession = new LabSession(
      {
        host,
        engine,
        library,
        progress: progress ?? ((_title, task) => task((message) => reports.push(message), new AbortController().signal)),
      },
      (message) => {
        posted.push(message);
        onPosted?.(message, session);
      },
      undefined,
    );
    await session.handle({ command: 'ready' });
    return { session, posted, reports };
  }

  it('draws the map through lab-map, with the corpus’s label column, then finds a clicked point’s neighbours', async () => {
    const { session, posted, reports } = await openSession();
    await session.handle({ command: 'map', method: 'umap' });
    // The progress goes to the page's bar too (checked below, with its Cancel).
    const commands = posted
      .filter((message) => message.command !== 'progress')
      .map((message) => (message.command === 'mapBusy' ? `mapBusy:${message.busy}` : message.command));
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

  it('shows the map’s UMAP in the page, and the page’s Cancel kills lab-map in the middle of it, storing nothing', async () => {
    const corpus = workspace.path('big.jsonl');
    const cache = workspace.path('xdg-cache/embedtune/lab');
    const before = filesUnder(cache);
    let runningAtCancel: number[] = [];
    let cancelledAt = 0;
    const { session, posted } = await openSession(true, 'big.jsonl', undefined, (message, lab) => {
      // The first UMAP epoch shown in the page: the child is laying out the first model's map. Cancel, as a click on
      // the page's button does (the message checked as the panel checks it).
      if (cancelledAt || message.command !== 'progress' || !message.message?.startsWith('laying out the map for')) return;
      runningAtCancel = labMapProcesses(corpus);
      cancelledAt = Date.now();
      void lab.handle(parseFromLab({ command: 'cancel' })!);
    });
    await session.handle({ command: 'map', method: 'umap' });
    const stoppedAfter = Date.now() - cancelledAt;
    const progress = posted.filter((message) => message.command === 'progress');
    const laidOut = progress.find((message) => message.message?.startsWith('laying out the map for'));
    assert.ok(laidOut && cancelledAt > 0, `no UMAP epoch was shown in the page: ${JSON.stringify(progress.slice(0, 5))}`);
    assert.equal(laidOut.title, 'EmbedTune: drawing the Embedding Lab map');
    assert.match(laidOut.message!, /^laying out the map for .*base: epoch 1 of 500$/);
    assert.equal(laidOut.fraction, 1 / 500);
    assert.ok(
      progress.some((message) => /^encoding the corpus with .*tuned: 800 of 800 texts$/.test(message.message ?? '')),
      'the corpus encoding was shown before the layout',
    );
    assert.equal(runningAtCancel.length, 1, 'lab-map was running when Cancel was clicked');
    assert.deepEqual(labMapProcesses(corpus), [], 'the child process was killed');
    assert.deepEqual(
      posted
        .filter((message) => message.command !== 'progress')
        .map((message) => (message.command === 'mapBusy' ? `mapBusy:${message.busy}` : message.command)),
      ['setup', 'mapBusy:umap', 'error', 'mapBusy:null'],
    );
    assert.match(JSON.stringify(posted), /The map was cancelled; nothing half-computed was stored/);
    assert.deepEqual(
      progress.at(-1),
      { command: 'progress', title: laidOut.title, message: null, fraction: null },
      'the bar is taken down',
    );
    // The embeddings were complete and are cached (vectors and their description); no projection, whole or partial, is.
    const added = filesUnder(cache).filter((file) => !before.includes(file));
    assert.equal(added.length, 4, `stored: ${added.join(', ')}`);
    assert.deepEqual(
      added.filter((file) => !/^[0-9a-f]+\.(f32|json)$/.test(file)),
      [],
      `stored: ${added.join(', ')}`,
    );
    console.log(`the map's session ended ${stoppedAfter} ms after the page's Cancel`);
  });

  it('stops a map from the notification’s Cancel too', async () => {
    const corpus = workspace.path('big.jsonl');
    const cache = workspace.path('xdg-cache/embedtune/lab');
    const before = filesUnder(cache);
    const cancelAtFirstReport: CancellableProgress = (_title, task) => {
      const controller = new AbortController();
      return task(() => controller.abort(), controller.signal);
    };
    const { session, posted } = await openSession(true, 'big.jsonl', cancelAtFirstReport);
    await session.handle({ command: 'map', method: 'umap' });
    assert.match(JSON.stringify(posted.filter((message) => message.command === 'error')), /The map was cancelled/);
    assert.ok(!posted.some((message) => message.command === 'map'));
    assert.deepEqual(labMapProcesses(corpus), []);
    assert.deepEqual(
      filesUnder(cache).filter((file) => !before.includes(file)),
      [],
      'nothing stored',
    );
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
