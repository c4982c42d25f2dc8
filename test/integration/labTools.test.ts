/**
 * The Embedding Lab's tools on the extension side without VS Code: wins and losses and hard-negative mining answered
 * by LabSession through the built CLI's child processes, on a run folder laid out as the engine writes it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LAB_UNTRUSTED_MESSAGE, LabSession } from '../../src/extension/lab/labSession';
import type { CancellableProgress } from '../../src/extension/backend/cancellableProgress';
import type { ConfigTextEditor } from '../../src/extension/mining/configTextEditor';
import type { EngineCommand } from '../../src/extension/runs/engineProcess';
import { RunLibrary } from '../../src/extension/runs/runLibrary';
import { RunManager } from '../../src/extension/runs/runManager';
import type { ToLab } from '../../src/shared/protocol/labMessages';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from '../unit/support/recordingEditorHost';

const engine: EngineCommand = { nodePath: process.execPath, cliPath: resolve(__dirname, '../../dist/cli.js') };
const PAIRS = [
  ['where does the river run', 'the river runs to the sea'],
  ['who sings a song', 'a bird sings a song'],
  ['what does the king have', 'the king has a horse'],
  ['an island', 'an island in the ocean'],
  ['how big is the school', 'the school is big'],
  ['the dog and the cat', 'the dog and the cat play'],
  ['where does the tree grow', 'a tree grows near the farm'],
  ['the city street', 'the city has a large street'],
] as const;
const ROWS = PAIRS.map(([question, answer]) => JSON.stringify({ question, answer })).join('\n') + '\n';
const CONFIG =
  'model:\n  base: ./base\ndata:\n  train: data/train.jsonl\n  validation: data/val.jsonl\n  columns:\n    anchor: question\n    positive: answer\nloss:\n  type: mnrl\noutput_dir: runs\n';

/** Applies the edit to the file on disk, as VS Code's WorkspaceEdit and save would. */
const fileEditor: ConfigTextEditor = {
  async edit(configPath, change) {
    const text = readFileSync(configPath, 'utf8');
    const replacement = change(text);
    if (!replacement) return false;
    writeFileSync(configPath, text.slice(0, replacement.range.start) + replacement.newText + text.slice(replacement.range.end));
    return true;
  },
};

const minedFolders = () => readdirSync(tmpdir()).filter((name) => name.startsWith('embedtune-lab-mined-'));

describe('the Embedding Lab’s wins, losses and mining through LabSession', () => {
  const workspace = new TempWorkspace();
  const manager = new RunManager({ engine });
  const library = new RunLibrary(manager, async () => [workspace.path('train.embedtune.yaml')]);
  const savedCache = process.env.XDG_CACHE_HOME;

  before(() => {
    process.env.XDG_CACHE_HOME = workspace.path('xdg-cache');
    buildTinyBert(workspace.path('base'), { withPoolingModules: true, seed: 1 });
    buildTinyBert(workspace.path('runs/r1/model'), { withPoolingModules: true, seed: 2 });
    workspace.write('data/train.jsonl', ROWS);
    workspace.write('data/val.jsonl', ROWS);
    workspace.write('train.embedtune.yaml', CONFIG);
    workspace.write('runs/r1/config.resolved.yaml', CONFIG);
    workspace.write(
      'runs/r1/run.json',
      JSON.stringify({
        run_id: 'r1',
        pid: 1,
        configPath: workspace.path('train.embedtune.yaml'),
        startedAt: '2026-12-03T10:00:00Z',
        state: 'finished',
      }),
    );
  });
  after(() => {
    manager.dispose();
    workspace.dispose();
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCache;
  });

  /** A Lab on the run; `posted` has what it sent the page, less progress, which goes to `progress`. */
  async function openRun(host = new RecordingEditorHost(), progress?: CancellableProgress, onProgress?: (session: LabSession) => void) {
    const posted: ToLab[] = [];
    const progressed: Extract<ToLab, { command: 'progress' }>[] = [];
    const session: LabSession = new LabSession(
      { host, engine, library, editor: fileEditor, ...(progress ? { progress } : {}) },
      (message) => {
        if (message.command !== 'progress') posted.push(message);
        else {
          progressed.push(message);
          onProgress?.(session);
        }
      },
      workspace.path('runs/r1'),
    );
    await session.handle({ command: 'ready' });
    assert.equal(posted.shift()?.command, 'setup');
    return { session, posted, host, progress: progressed };
  }

  it('compares the base model with a given checkpoint instead of the run’s trained model (the checkpoints panel’s Lab)', async () => {
    const posted: ToLab[] = [];
    const checkpoint = workspace.path('runs/r1/checkpoints/step-4');
    const session = new LabSession(
      { host: new RecordingEditorHost(), engine, library },
      (m) => posted.push(m),
      workspace.path('runs/r1'),
      checkpoint,
    );
    await session.handle({ command: 'ready' });
    assert.deepEqual(posted[0], {
      command: 'setup',
      first: workspace.path('base'),
      second: checkpoint,
      corpus: workspace.path('data/val.jsonl'),
      runId: 'r1',
    });
  });

  it('marks the known positives of a validation query in a search', async () => {
    const { session, posted } = await openRun();
    await session.handle({ command: 'search', query: PAIRS[2][0], k: 3 });
    const results = posted.find((message) => message.command === 'results');
    assert.ok(results?.command === 'results', JSON.stringify(posted));
    assert.deepEqual(results.result.knownPositives, [2]);
  });

  it('lists wins and losses from lab-wins, and says why when the Lab has no run', async () => {
    const { session, posted } = await openRun();
    await session.handle({ command: 'wins', k: 3 });
    assert.deepEqual(
      posted.map((message) => message.command),
      ['toolBusy', 'wins', 'toolBusy'],
    );
    const wins = posted[1]!;
    assert.ok(wins.command === 'wins' && wins.result.task === 'retrieval');
    assert.equal(wins.result.queries, PAIRS.length);
    assert.equal(wins.result.improved + wins.result.worsened + wins.result.unchanged, PAIRS.length);
    const host = new RecordingEditorHost();
    host.answers.push(workspace.path('base'), workspace.path('runs/r1/model'), workspace.path('data/val.jsonl'));
    const picked: ToLab[] = [];
    const noRun = new LabSession({ host, engine, library }, (message) => picked.push(message), undefined);
    await noRun.handle({ command: 'ready' });
    await noRun.handle({ command: 'wins', k: 3 });
    assert.match(JSON.stringify(picked), /Wins and losses replay a run’s evaluation/);
  });

  it('shows the encoding in the page, and the page’s Cancel stops the replay', async () => {
    rmCache(workspace);
    let cancelled = false;
    const { session, posted, progress } = await openRun(new RecordingEditorHost(), undefined, (lab) => {
      // The first count of an encode: the child is running; Cancel as a click on the page's button would.
      if (!cancelled && progress.some((message) => message.fraction !== null)) {
        cancelled = true;
        void lab.handle({ command: 'cancel' });
      }
    });
    await session.handle({ command: 'wins', k: 3 });
    const counted = progress.find((message) => message.fraction !== null);
    assert.ok(counted, JSON.stringify(progress));
    assert.equal(counted.title, 'EmbedTune: wins and losses in the Embedding Lab');
    assert.match(counted.message ?? '', /^encoding the corpus with .*base: 0 of 8 texts$/);
    assert.equal(counted.fraction, 0);
    assert.deepEqual(
      progress.at(-1),
      { command: 'progress', title: counted.title, message: null, fraction: null },
      'the bar is taken down',
    );
    assert.match(JSON.stringify(posted), /wins and losses in the Embedding Lab was cancelled/);
    assert.ok(!posted.some((message) => message.command === 'wins'));
  });

  it('cancels a long replay from the progress notification', async () => {
    const cancelAtFirstReport: CancellableProgress = (_title, task) => {
      const controller = new AbortController();
      return task(() => controller.abort(), controller.signal);
    };
    rmCache(workspace);
    const { session, posted } = await openRun(new RecordingEditorHost(), cancelAtFirstReport);
    await session.handle({ command: 'wins', k: 3 });
    const error = posted.find((message) => message.command === 'error');
    assert.ok(error?.command === 'error', JSON.stringify(posted));
    assert.match(error.message, /cancelled/);
  });

  it('previews mined triplets with scores, then writes them and points data.train at them', async () => {
    const before = minedFolders().length;
    const { session, posted } = await openRun();
    await session.handle({ command: 'mine' });
    const mined = posted.find((message) => message.command === 'mined');
    assert.ok(mined?.command === 'mined', JSON.stringify(posted));
    const { preview } = mined;
    assert.equal(preview.target, 'data/train.hard-negatives.jsonl');
    assert.ok(preview.rows > 0 && preview.pairs > 0);
    const answers = PAIRS.map((pair) => pair[1] as string);
    for (const pair of preview.shown) {
      assert.ok(answers.includes(pair.positive), pair.positive);
      assert.equal(typeof pair.positiveScore, 'number');
      for (const negative of pair.negatives) {
        assert.ok(answers.includes(negative.text) && negative.text !== pair.positive, negative.text);
        assert.ok(typeof negative.score === 'number' && Math.abs(negative.score) <= 1.0001);
      }
    }
    assert.ok(!existsSync(workspace.path('data/train.hard-negatives.jsonl')), 'nothing is written before Write');
    assert.equal(minedFolders().length, before + 1, 'the preview waits in a temporary folder');
    await session.handle({ command: 'writeMined' });
    assert.deepEqual(posted.at(-1), { command: 'minedWritten', file: 'data/train.hard-negatives.jsonl' });
    const written = readFileSync(workspace.path('data/train.hard-negatives.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, string>);
    assert.equal(written.length, preview.rows);
    assert.deepEqual(Object.keys(written[0]!), ['question', 'answer', 'negative'], 'the scores stay out of the training file');
    const config = readFileSync(workspace.path('train.embedtune.yaml'), 'utf8');
    assert.match(config, /train: data\/train\.hard-negatives\.jsonl/);
    assert.match(config, /negative:\s*\n?\s*- negative|negative: \[negative\]/);
    assert.equal(minedFolders().length, before, 'the temporary folder is removed');
    workspace.write('train.embedtune.yaml', CONFIG);
  });

  it('runs no tool in an untrusted workspace and says why', async () => {
    const host = new RecordingEditorHost();
    const { session, posted } = await openRun(host);
    host.trusted = false;
    for (const command of ['wins', 'mine', 'writeMined'] as const)
      await session.handle(command === 'wins' ? { command, k: 3 } : { command });
    assert.deepEqual(posted, Array(3).fill({ command: 'error', message: LAB_UNTRUSTED_MESSAGE }));
  });

  it('shows a bad data row as an error in the Lab and keeps running', async () => {
    workspace.write('data/train.jsonl', `${ROWS}{"question": "broken"\n`);
    workspace.write('data/val.jsonl', `${ROWS}not json\n`);
    const { session, posted } = await openRun();
    await session.handle({ command: 'mine' });
    await session.handle({ command: 'wins', k: 3 });
    const errors = posted.filter((message) => message.command === 'error').map((message) => (message as { message: string }).message);
    assert.equal(errors.length, 2, JSON.stringify(posted));
    assert.match(errors[0]!, /train\.jsonl/);
    assert.match(errors[1]!, /val\.jsonl/);
    await session.handle({ command: 'writeMined' });
    assert.match(JSON.stringify(posted.at(-1)), /Nothing is mined yet/);
    workspace.write('data/train.jsonl', ROWS);
    workspace.write('data/val.jsonl', ROWS);
  });
});

/** Forgets every cached embedding, so that the next replay encodes again. */
function rmCache(workspace: TempWorkspace): void {
  rmSync(workspace.path('xdg-cache/embedtune/lab'), { recursive: true, force: true });
}
