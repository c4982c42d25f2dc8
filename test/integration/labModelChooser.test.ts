/**
 * The Embedding Lab's model chooser, driven through the session without VS Code: a scripted host picks "Enter a hub
 * id…" and types ids, or picks another run's exported folder from the list, and the searches run through the real
 * lab-search child process, which loads the hub id from a Hugging Face cache laid out in a temporary folder.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PickItem } from '../../src/extension/host/editorHost';
import { ENTER_HUB_ID, type ModelChoice } from '../../src/extension/lab/labModelChooser';
import { LabSession } from '../../src/extension/lab/labSession';
import type { EngineCommand } from '../../src/extension/runs/engineProcess';
import { RunLibrary } from '../../src/extension/runs/runLibrary';
import { RunManager } from '../../src/extension/runs/runManager';
import { MemoryInVariable, openLab } from '../helpers/labSessionHarness';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from '../unit/support/recordingEditorHost';

const engine: EngineCommand = { nodePath: process.execPath, cliPath: resolve(__dirname, '../../dist/cli.js') };
const CORPUS = ['the river runs to the sea', 'a bird sings a song', 'the king has a horse', 'an island in the ocean', 'the school is big'];
const ENV_KEYS = ['XDG_CACHE_HOME', 'HF_HUB_CACHE', 'EMBEDTUNE_OFFLINE'] as const;

/** The chooser's item with this label, as a user would click it; fails the test when the list does not offer it. */
const clickItem =
  (label: string) =>
  (items: readonly PickItem<ModelChoice>[]): ModelChoice => {
    const item = items.find((candidate) => candidate.label === label);
    assert.ok(item, `the chooser offers "${label}" among ${JSON.stringify(items.map((candidate) => candidate.label))}`);
    return item.value;
  };

describe('the Embedding Lab’s model chooser', () => {
  const workspace = new TempWorkspace();
  const manager = new RunManager({ engine });
  const config = workspace.path('train.embedtune.yaml');
  const library = new RunLibrary(manager, async () => [config]);
  const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  const hubCache = workspace.path('hf-cache');
  const labCache = workspace.path('xdg-cache/embedtune/lab');

  before(() => {
    // lab-search inherits the environment: its cache and the Hugging Face cache are the workspace's, and it never
    // downloads, so a hub id it loads can only have come from the cache laid out here.
    process.env.XDG_CACHE_HOME = workspace.path('xdg-cache');
    process.env.HF_HUB_CACHE = hubCache;
    process.env.EMBEDTUNE_OFFLINE = '1';
    buildTinyBert(join(hubCache, 'models--tiny-org--tiny-bert', 'snapshots', '0123abcd'), { withPoolingModules: true, seed: 1 });
    workspace.write('train.embedtune.yaml', 'model:\n  base: tiny-org/tiny-bert\n');
    for (const [runId, seed] of [
      ['r1', 2],
      ['r2', 3],
    ] as const) {
      buildTinyBert(workspace.path(`runs/${runId}/model`), { withPoolingModules: true, seed });
      workspace.write(
        `runs/${runId}/run.json`,
        JSON.stringify({ run_id: runId, pid: 1, configPath: config, startedAt: '2026-12-04T10:00:00Z', state: 'finished' }),
      );
      workspace.write(`runs/${runId}/config.resolved.yaml`, 'model:\n  base: tiny-org/tiny-bert\ndata:\n  train: data/train.jsonl\n');
    }
    workspace.write('data/corpus.txt', `${CORPUS.join('\n')}\n`);
  });
  after(() => {
    manager.dispose();
    workspace.dispose();
    for (const key of ENV_KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('compares a hub id typed into the box with another run’s exported folder picked from the list, and reopens on them after a reload', async () => {
    const memory = new MemoryInVariable();
    const host = new RecordingEditorHost();
    host.answers.push(
      clickItem('Enter a hub id…'),
      'tiny-org/tiny-bert',
      clickItem('r2: exported model'),
      workspace.path('data/corpus.txt'),
    );
    const lab = openLab((post) => new LabSession({ host, engine, library, memory }, post, undefined));
    await lab.session.handle({ command: 'ready' });
    const setup = {
      command: 'setup',
      first: 'tiny-org/tiny-bert',
      second: workspace.path('runs/r2/model'),
      corpus: workspace.path('data/corpus.txt'),
      runId: null,
    };
    assert.deepEqual(lab.posted, [setup]);
    assert.equal(host.answers.length, 0);
    assert.deepEqual(
      host.typed.map((typed) => [typed.text, typed.refused]),
      [['tiny-org/tiny-bert', undefined]],
    );

    await lab.session.handle({ command: 'search', query: 'where is the sea', k: 3 });
    const results = lab.posted.find((message) => message.command === 'results');
    assert.ok(results?.command === 'results', JSON.stringify(lab.posted));
    assert.deepEqual(
      results.result.models.map((model) => [model.model, model.cache]),
      [
        ['tiny-org/tiny-bert', 'miss'],
        [workspace.path('runs/r2/model'), 'miss'],
      ],
    );
    assert.ok(results.result.first.every((hit) => CORPUS.includes(hit.text)));
    // Two differently seeded models: the hub id's vectors are not the exported folder's.
    assert.notDeepEqual(
      results.result.first.map((hit) => hit.score),
      results.result.second.map((hit) => hit.score),
    );
    lab.session.dispose();

    // A window reload: the typed hub id comes back with the rest, no chooser shown, and searches from the cache.
    assert.deepEqual(memory.value, { run: null, first: setup.first, second: setup.second, corpus: setup.corpus });
    const reloaded = new RecordingEditorHost();
    const revived = openLab((post) => LabSession.revive({ host: reloaded, engine, library, memory }, post));
    await revived.session.handle({ command: 'ready' });
    assert.deepEqual(revived.posted, [setup]);
    await revived.session.handle({ command: 'search', query: 'a song', k: 2 });
    const again = revived.posted.find((message) => message.command === 'results');
    assert.ok(again?.command === 'results', JSON.stringify(revived.posted));
    assert.deepEqual(
      again.result.models.map((model) => [model.model, model.cache]),
      [
        ['tiny-org/tiny-bert', 'hit'],
        [workspace.path('runs/r2/model'), 'hit'],
      ],
    );
    revived.session.dispose();
  });

  it('lists the runs’ exported folders and their shared base for the first model, and the exports first for the second', async () => {
    const host = new RecordingEditorHost();
    const lists: string[][] = [];
    const record = (items: readonly PickItem<ModelChoice>[]) => {
      lists.push(items.map((item) => item.label));
      return undefined;
    };
    host.answers.push(record);
    const lab = openLab((post) => new LabSession({ host, engine, library }, post, undefined));
    await lab.session.handle({ command: 'ready' });
    assert.deepEqual(lab.posted, [], 'dismissing the chooser opens nothing');
    const [first] = lists;
    assert.ok(first);
    assert.equal(first[0], 'Base model: tiny-org/tiny-bert');
    assert.deepEqual([...first.slice(1, 3)].sort(), ['r1: exported model', 'r2: exported model']);
    assert.deepEqual(first.slice(3), ['Browse for a folder…', 'Enter a hub id…']);
  });

  it('refuses a hub id that is not in the local cache, saying so in the box, and starts nothing', async () => {
    const before = existsSync(labCache) ? readdirSync(labCache).sort() : [];
    const host = new RecordingEditorHost();
    // The user types an id that is not cached, reads the box's message, and gives up with Escape.
    host.answers.push(ENTER_HUB_ID, 'tiny-org/not-downloaded', workspace.path('runs/r1/model'), workspace.path('data/corpus.txt'));
    const lab = openLab((post) => new LabSession({ host, engine, library }, post, undefined));
    await lab.session.handle({ command: 'ready' });
    assert.equal(host.typed.length, 1);
    assert.equal(
      host.typed[0]!.refused,
      `tiny-org/not-downloaded is not in the local Hugging Face cache (${hubCache}), or only in part. Download it first (huggingface-cli download tiny-org/not-downloaded), or pick its folder with "Browse for a folder…".`,
    );
    assert.deepEqual(lab.posted, [], 'no setup: the Lab did not open on anything');
    assert.equal(host.answers.length, 2, 'nothing else was asked for');
    await lab.session.handle({ command: 'search', query: 'where is the sea', k: 3 });
    assert.equal(lab.posted.length, 1);
    assert.match((lab.posted[0] as { message: string }).message, /Pick two models and a corpus first/);
    assert.deepEqual(existsSync(labCache) ? readdirSync(labCache).sort() : [], before, 'no lab-search ran: nothing was encoded');

    // The same for an id of the wrong shape, typed as a path.
    const other = new RecordingEditorHost();
    other.answers.push(ENTER_HUB_ID, ['../runs/r1/model', '-tiny-org/tiny-bert']);
    const refused = openLab((post) => new LabSession({ host: other, engine, library }, post, undefined));
    await refused.session.handle({ command: 'ready' });
    assert.deepEqual(
      other.typed.map((typed) => typed.refused?.slice(0, 30)),
      ['../runs/r1/model is not a hub ', 'A hub id does not start with "'],
    );
    assert.deepEqual(refused.posted, []);
  });
});
