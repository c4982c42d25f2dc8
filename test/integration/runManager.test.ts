import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasErrors, validateConfigText } from '../../src/shared/config/validateConfig';
import type { CheckpointEvent, RunEvent, RunFinishedEvent } from '../../src/shared/events/runEvents';
import { readRunInfo } from '../../src/extension/runs/runFolder';
import { RunManager, type ManagedRun } from '../../src/extension/runs/runManager';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const TRAIN = readFileSync(join(ROOT, 'examples/retrieval/data/train.jsonl'), 'utf8').split('\n').slice(0, 64).join('\n');
const VALIDATION = readFileSync(join(ROOT, 'examples/retrieval/data/validation.jsonl'), 'utf8').split('\n').slice(0, 16).join('\n');

/** A run long enough to watch and stop: 40 epochs of 4 steps, evaluated and checkpointed every 2 steps. */
const LONG_CONFIG = `name: watched
model:
  base: ./tiny
  max_seq_length: 24
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: query, positive: passage}
training:
  epochs: 40
  batch_size: 16
  learning_rate: 0.001
  warmup: 1
evaluation:
  every: 2
  metrics: [ndcg@10]
checkpoints:
  every: 2
  keep: 3
# A long run to watch and stop: early stopping, on by default, could end it first.
early_stopping:
  enabled: false
output_dir: runs
`;

function workspaceWith(config: string): TempWorkspace {
  const workspace = new TempWorkspace();
  buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 32, heads: 4, intermediate: 64 });
  workspace.write('data/train.jsonl', `${TRAIN}\n`);
  workspace.write('data/validation.jsonl', `${VALIDATION}\n`);
  workspace.write('run.embedtune.yaml', config);
  return workspace;
}

function newManager(workspace: TempWorkspace): RunManager {
  return new RunManager({ engine: { nodePath: process.execPath, cliPath: CLI }, logDir: workspace.path('.engine-logs'), pollMs: 100 });
}

/** Resolves when `check` holds after one of the manager's changes, or fails after `ms` with what the run looked like. */
function until(
  manager: RunManager,
  run: () => ManagedRun | undefined,
  check: (run: ManagedRun) => boolean,
  what: string,
  ms = 90_000,
): Promise<ManagedRun> {
  return new Promise((resolvePromise, reject) => {
    const test = () => {
      const current = run();
      if (current && check(current)) {
        clearTimeout(timer);
        subscription.dispose();
        resolvePromise(current);
      }
    };
    const subscription = manager.onDidChange(test);
    const timer = setTimeout(() => {
      subscription.dispose();
      const current = run();
      reject(
        new Error(
          `timed out waiting for ${what}; lifecycle ${current?.lifecycle}, step ${current?.progress.step}, failure ${current?.failure}\n${current?.output.join('\n')}`,
        ),
      );
    }, ms);
    test();
  });
}

function eventsOf(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
}

describe('the run manager with the real engine', () => {
  before(() => assert.ok(existsSync(CLI), 'dist/cli.js is built (node scripts/build.mjs)'));

  describe('start, live progress and a graceful stop', () => {
    let workspace: TempWorkspace;
    let manager: RunManager;
    let run: ManagedRun;
    const seen: RunEvent[] = [];

    before(() => {
      workspace = workspaceWith(LONG_CONFIG);
      manager = newManager(workspace);
      manager.onDidChange((change) => seen.push(...change.events));
    });
    after(() => {
      if (run?.live) {
        manager.stop(run);
        manager.stop(run);
      }
      manager.dispose();
      workspace.dispose();
    });

    it('starts the engine as a child process and reports live progress from events.jsonl', async () => {
      run = manager.start({ configPath: workspace.path('run.embedtune.yaml') });
      assert.equal(run.lifecycle, 'starting');
      assert.equal(typeof run.pid, 'number');
      await until(
        manager,
        () => run,
        (r) => r.progress.step >= 3,
        'three steps of progress',
      );
      assert.equal(run.lifecycle, 'running');
      assert.equal(run.runDir, resolve(workspace.path('runs'), run.runId!));
      assert.equal(run.progress.setup?.totalSteps, 160);
      assert.equal(run.progress.setup?.pid, run.pid);
      assert.ok(run.progress.fraction > 0 && run.progress.fraction < 1);
      assert.ok(seen.some((event) => event.type === 'run_started'));
      assert.ok(seen.filter((event) => event.type === 'progress').length >= 2, 'progress events arrive one by one, not at the end');
      assert.deepEqual(
        seen.map((event) => event.seq),
        seen.map((_, i) => i),
        'every event once, in order',
      );
      assert.ok(
        run.output.some((line) => /^step \d+\/160/.test(line)),
        `the engine output is followed: ${run.output.join(' | ')}`,
      );
    });

    it('stops gracefully: the engine finishes its step, writes a checkpoint and leaves no temporary folder', async () => {
      assert.equal(manager.stop(run), 'stopping');
      assert.equal(run.lifecycle, 'stopping');
      await until(
        manager,
        () => run,
        (r) => !r.live,
        'the run to end',
      );
      assert.equal(run.lifecycle, 'stopped', run.failure ?? '');
      assert.equal(run.failure, null);
      const events = eventsOf(run.runDir!);
      const finished = events.at(-1) as RunFinishedEvent;
      assert.equal(finished.type, 'run_finished');
      assert.equal(finished.reason, 'stopped');
      const stopCheckpoint = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint').at(-1);
      assert.ok(stopCheckpoint, 'a checkpoint was written');
      assert.equal(stopCheckpoint.step, finished.step, 'the last checkpoint is at the step the run stopped');
      const checkpoints = readdirSync(join(run.runDir!, 'checkpoints'));
      assert.ok(checkpoints.includes(`step-${finished.step}`), checkpoints.join(', '));
      assert.deepEqual(
        checkpoints.filter((name) => name.startsWith('.tmp-')),
        [],
      );
      assert.equal(readRunInfo(run.runDir!)?.state, 'finished');
      assert.equal(run.progress.phase, 'finished');
    });
  });

  it('reattaches after a reload: a new manager finds the live run through run.json and keeps following it', async () => {
    const workspace = workspaceWith(LONG_CONFIG);
    // The first "extension host" is a separate process that starts the run; killing it is what a window reload does.
    const hostScript = workspace.write(
      'host.ts',
      `import { RunManager } from ${JSON.stringify(join(ROOT, 'src/extension/runs/runManager.ts'))};
const manager = new RunManager({ engine: { nodePath: process.execPath, cliPath: ${JSON.stringify(CLI)} }, logDir: ${JSON.stringify(workspace.path('.engine-logs'))}, pollMs: 100 });
const run = manager.start({ configPath: ${JSON.stringify(workspace.path('run.embedtune.yaml'))} });
manager.onDidChange(() => { if (run.progress.step >= 2) process.stdout.write('running ' + run.runDir + '\\n'); });
setInterval(() => {}, 1000);
`,
    );
    const host = spawn(process.execPath, ['--import', 'tsx', hostScript], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let manager: RunManager | undefined;
    try {
      const runDir = await new Promise<string>((resolvePromise, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`the first host never saw progress: ${text}`)), 90_000);
        host.stdout!.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const match = /running (.+)\n/.exec(text);
          if (match) {
            clearTimeout(timer);
            resolvePromise(match[1]!);
          }
        });
      });
      host.kill('SIGKILL');
      await new Promise((r) => host.once('exit', r));
      const info = readRunInfo(runDir);
      assert.equal(info?.state, 'running');

      manager = newManager(workspace);
      const [attached] = manager.reattach([workspace.path('runs')]);
      assert.ok(attached, 'the live run is found again');
      assert.equal(attached.origin, 'attached');
      assert.equal(attached.runDir, runDir);
      assert.equal(attached.pid, info!.pid);
      const stepAtReattach = attached.progress.step;
      assert.ok(stepAtReattach >= 2, 'the events written before the reload are read');
      await until(
        manager,
        () => attached,
        (r) => r.progress.step >= stepAtReattach + 3,
        'progress after the reload',
      );
      assert.equal(attached.lifecycle, 'running', 'the engine survived the death of the process that started it');
      assert.ok(
        attached.output.some((line) => /^step \d+\/160/.test(line)),
        'its output is followed too',
      );
      assert.deepEqual(manager.reattach([workspace.path('runs')]), [], 'a run already followed is not attached twice');

      assert.equal(manager.stop(attached), 'stopping');
      await until(
        manager,
        () => attached,
        (r) => !r.live,
        'the reattached run to stop',
      );
      assert.equal(attached.lifecycle, 'stopped', attached.failure ?? '');
      assert.equal((eventsOf(runDir).at(-1) as RunFinishedEvent).reason, 'stopped');
    } finally {
      if (host.exitCode === null && host.signalCode === null) host.kill('SIGKILL');
      for (const r of manager?.liveRuns ?? []) {
        manager!.stop(r);
        manager!.stop(r);
      }
      manager?.dispose();
      workspace.dispose();
    }
  });

  it('a second stop kills the engine at once, and the run is reported stopped, not crashed', async () => {
    const workspace = workspaceWith(LONG_CONFIG);
    const manager = newManager(workspace);
    try {
      const run = manager.start({ configPath: workspace.path('run.embedtune.yaml') });
      await until(
        manager,
        () => run,
        (r) => r.progress.step >= 1,
        'the first step',
      );
      assert.equal(manager.stop(run), 'stopping');
      assert.equal(manager.stop(run), 'killed');
      await until(
        manager,
        () => run,
        (r) => !r.live,
        'the process to end',
      );
      assert.equal(run.lifecycle, 'stopped');
      assert.equal(run.exit?.signal, 'SIGKILL');
      assert.equal(manager.stop(run), 'not-running');
    } finally {
      manager.dispose();
      workspace.dispose();
    }
  });

  describe('a crash is reported with its error and the engine output', () => {
    it('a model folder deleted after validation: the run fails before it starts, and says which model', async () => {
      const workspace = workspaceWith(LONG_CONFIG);
      const manager = newManager(workspace);
      try {
        const configPath = workspace.path('run.embedtune.yaml');
        assert.ok(!hasErrors(validateConfigText(readFileSync(configPath, 'utf8'), { configPath }).diagnostics), 'the config was valid');
        rmSync(workspace.path('tiny'), { recursive: true });
        const run = manager.start({ configPath });
        await until(
          manager,
          () => run,
          (r) => !r.live,
          'the engine to give up',
        );
        assert.equal(run.lifecycle, 'failed');
        assert.equal(run.runDir, null, 'no run folder was made');
        assert.match(run.failure ?? '', /tiny/, `the failure names the missing model: ${run.failure}`);
        assert.notEqual(run.exit?.code, 0);
        assert.ok(
          run.output.some((line) => line.includes('tiny')),
          'the engine output holds the error',
        );
        // The engine's validation finds the model gone, and says so in its error event, at the key.
        assert.equal(run.setupError?.where?.phase, 'config');
        assert.ok(
          run.setupError?.problems?.some((problem) => problem.key === 'model.base' && problem.line === 3),
          JSON.stringify(run.setupError),
        );
      } finally {
        manager.dispose();
        workspace.dispose();
      }
    });

    it('a config with errors: the run fails before it starts, with each error where the engine found it', async () => {
      const workspace = workspaceWith(LONG_CONFIG.replace('learning_rate: 0.001', 'lerning_rate: 0.001'));
      const manager = newManager(workspace);
      try {
        const configPath = workspace.path('run.embedtune.yaml');
        const run = manager.start({ configPath });
        await until(
          manager,
          () => run,
          (r) => !r.live,
          'the engine to refuse the config',
        );
        assert.equal(run.lifecycle, 'failed');
        assert.equal(run.runDir, null, 'no run folder was made');
        assert.deepEqual(
          run.setupError?.problems?.map(({ file, line, column, key, code }) => ({ file, line, column, key, code })),
          [{ file: configPath, line: 12, column: 3, key: 'training.lerning_rate', code: 'unknown-key' }],
        );
        const [first, ...rest] = (run.failure ?? '').split('\n');
        assert.match(first ?? '', new RegExp(`^${escapeRegExp(configPath)}:12:3 error unknown-key Unknown key "lerning_rate"`));
        assert.match(rest.join('\n'), /has 1 error\(s\); fix them before training/);
        // The events the engine prints on stdout are read, not shown as output; its words on stderr are.
        assert.ok(!run.output.some((line) => line.startsWith('{')), run.output.join('\n'));
        assert.ok(run.output.some((line) => line.includes('error unknown-key')));
      } finally {
        manager.dispose();
        workspace.dispose();
      }
    });

    it('an engine killed with SIGKILL mid-run is reported crashed, with the step it reached', async () => {
      const workspace = workspaceWith(LONG_CONFIG);
      const manager = newManager(workspace);
      try {
        const run = manager.start({ configPath: workspace.path('run.embedtune.yaml') });
        await until(
          manager,
          () => run,
          (r) => r.progress.step >= 2,
          'two steps',
        );
        process.kill(run.pid!, 'SIGKILL');
        await until(
          manager,
          () => run,
          (r) => !r.live,
          'the crash to be noticed',
        );
        assert.equal(run.lifecycle, 'crashed');
        assert.match(run.failure ?? '', /killed by SIGKILL before the run finished \(at step \d+\)/);
        assert.equal(readRunInfo(run.runDir!)?.state, 'running', 'run.json still says running: only the manager knows it crashed');
        // A later window does not mistake the dead run for a live one.
        const later = newManager(workspace);
        assert.deepEqual(later.reattach([workspace.path('runs')]), []);
        later.dispose();
      } finally {
        manager.dispose();
        workspace.dispose();
      }
    });

    it('a node executable that does not exist is reported, not thrown', async () => {
      const workspace = workspaceWith(LONG_CONFIG);
      const manager = new RunManager({
        engine: { nodePath: workspace.path('no-such-node'), cliPath: CLI },
        logDir: workspace.path('.engine-logs'),
        pollMs: 100,
      });
      try {
        const run = manager.start({ configPath: workspace.path('run.embedtune.yaml') });
        await until(
          manager,
          () => run,
          (r) => !r.live,
          'the spawn error',
          10_000,
        );
        assert.match(run.failure ?? '', /could not be started with .*no-such-node: spawn .*ENOENT/);
      } finally {
        manager.dispose();
        workspace.dispose();
      }
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
