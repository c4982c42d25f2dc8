import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { listCheckpoints } from '../../src/extension/runs/checkpointListing';
import { isRunProcessAlive } from '../../src/extension/runs/processAlive';
import { findRunDirByPid, listRunFolders, outputDirOfConfig, readFinishEvent, readRunInfo } from '../../src/extension/runs/runFolder';
import { RunProgress } from '../../src/shared/monitor/runProgress';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { TempWorkspace } from '../helpers/tempWorkspace';

const eventsText = readFileSync(join(__dirname, '../webview/fixtures/tiny-run/events.jsonl'), 'utf8');
const events = eventsText
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as RunEvent);

let workspace: TempWorkspace;
afterEach(() => workspace?.dispose());

function runFolder(name = 'runs/tiny-1', text = eventsText): string {
  workspace.write(`${name}/events.jsonl`, text);
  workspace.write(
    `${name}/run.json`,
    JSON.stringify({
      run_id: name.split('/').pop(),
      pid: 999999,
      configPath: workspace.path('tiny.embedtune.yaml'),
      startedAt: events[0]!.time,
      state: 'finished',
    }),
  );
  return workspace.path(name);
}

function checkpoint(runDir: string, name: string, state: object, extra: Record<string, string> = {}): void {
  workspace.write(`${runDir.slice(workspace.root.length + 1)}/checkpoints/${name}/trainer_state.json`, JSON.stringify(state));
  workspace.write(`${runDir.slice(workspace.root.length + 1)}/checkpoints/${name}/encoder.safetensors`, 'x'.repeat(1000));
  for (const [file, content] of Object.entries(extra))
    workspace.write(`${runDir.slice(workspace.root.length + 1)}/checkpoints/${name}/${file}`, content);
}

describe('reading run folders', () => {
  it('finds run folders, their run.json, and where a config’s runs go', () => {
    workspace = new TempWorkspace();
    const dir = runFolder();
    workspace.write('runs/.hidden/run.json', '{}');
    workspace.write('runs/not-a-run/readme.txt', 'x');
    assert.deepEqual(listRunFolders(workspace.path('runs')), [dir]);
    assert.equal(readRunInfo(dir)?.run_id, 'tiny-1');
    workspace.write('runs/broken/run.json', '{"run_id": "x", "pid": "12"');
    assert.equal(readRunInfo(workspace.path('runs/broken')), undefined, 'a half-written run.json is not trusted');
    workspace.write('a.embedtune.yaml', 'name: a\noutput_dir: out/here\n');
    workspace.write('b.embedtune.yaml', 'name: b\n');
    assert.equal(outputDirOfConfig(workspace.path('a.embedtune.yaml')), workspace.path('out/here'));
    assert.equal(outputDirOfConfig(workspace.path('b.embedtune.yaml')), workspace.path('runs'), 'the default is runs/ next to the config');
  });

  it('reads how a run finished from the end of its log, and not when a resume started after it', () => {
    workspace = new TempWorkspace();
    assert.equal(readFinishEvent(runFolder())?.reason, 'completed');
    const resumed = `${eventsText}${JSON.stringify({ ...events[0], seq: 99 })}\n`;
    assert.equal(readFinishEvent(runFolder('runs/resumed', resumed)), undefined);
  });

  it('finds the folder a new engine process made by the pid in its run.json', () => {
    workspace = new TempWorkspace();
    const dir = runFolder();
    assert.equal(findRunDirByPid([dir], 999999, Date.now() - 5000), dir);
    assert.equal(findRunDirByPid([dir], 123, Date.now() - 5000), undefined);
    assert.equal(
      findRunDirByPid([dir], 999999, Date.now() + 60_000),
      undefined,
      'a run.json from before the spawn is an older process with a reused pid',
    );
  });

  it('tells a live engine process from a dead one, and from a pid reused by a newer process', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await new Promise((r) => child.once('spawn', r));
      const started = new Date(Date.now() + 1000).toISOString();
      assert.equal(isRunProcessAlive(child.pid!, started), true);
      if (process.platform === 'linux')
        assert.equal(isRunProcessAlive(child.pid!, '2001-01-01T00:00:00.000Z'), false, 'started after the run did: not its process');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    assert.equal(isRunProcessAlive(child.pid!), false);
    assert.equal(isRunProcessAlive(-1), false);
  });
});

describe('listing a run’s checkpoints', () => {
  it('reads step, epoch, metrics, size and the best pointer from disk, and why each was saved from the events', () => {
    workspace = new TempWorkspace();
    const dir = runFolder();
    checkpoint(dir, 'step-16', { step: 16, epoch: 2.67, metrics: { 'ndcg@10': 0.5286 } });
    checkpoint(
      dir,
      'step-24',
      { step: 24, epoch: 4, metrics: { 'ndcg@10': 0.5294, spearman: null } },
      { 'eval_results.json': JSON.stringify({ model: 'x', data: '/d/test.jsonl', examples: 24, metrics: { 'ndcg@10': 0.61 } }) },
    );
    checkpoint(dir, 'step-8', { step: 8, epoch: 1.33, metrics: null });
    workspace.write('runs/tiny-1/checkpoints/.tmp-step-28-123/trainer_state.json', '{}');
    workspace.write('runs/tiny-1/checkpoints/step-30/encoder.safetensors', 'half written, no state');
    workspace.write('runs/tiny-1/best', 'checkpoints/step-16\n');
    const rows = listCheckpoints(dir, new RunProgress().add(events).checkpoints);
    assert.deepEqual(
      rows.map((r) => r.name),
      ['step-8', 'step-16', 'step-24'],
      'sorted by step; no temporary or incomplete folder',
    );
    const [eight, sixteen, last] = rows;
    assert.deepEqual([eight!.isBest, sixteen!.isBest, last!.isBest], [false, true, false], 'the best file decides');
    assert.equal(sixteen!.reason, 'interval');
    assert.equal(eight!.reason, null, 'pruned from the events long ago: no reason known');
    assert.deepEqual(last!.metrics, { 'ndcg@10': 0.5294, spearman: null });
    assert.equal(last!.epoch, 4);
    assert.ok(last!.sizeBytes! >= 1000 + 'eval_results'.length);
    assert.deepEqual(last!.evaluation, { data: '/d/test.jsonl', examples: 24, metrics: { 'ndcg@10': 0.61 } });
    assert.match(sixteen!.time!, /^2026-/, 'the save time from the event');
  });

  it('an empty or missing checkpoints folder lists nothing', () => {
    workspace = new TempWorkspace();
    assert.deepEqual(listCheckpoints(runFolder()), []);
    assert.deepEqual(listCheckpoints(workspace.path('nowhere')), []);
  });
});
