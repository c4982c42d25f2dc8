import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { readEventLog } from '../../src/shared/events/eventLogReader';
import { runTrain } from '../../src/trainer/cli/trainCommand';
import { launchPlanPath, writeLaunchPlan, type LaunchPlan } from '../../src/trainer/engines/launchPlan';
import {
  ConfigErrors,
  openRunFolder,
  prepareRun,
  readConfigFile,
  readRunConfig,
  type ConfigReader,
} from '../../src/trainer/run/prepareRun';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const workspace = new TempWorkspace();
after(() => workspace.dispose());
buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
workspace.write('data/train.jsonl', pairsJsonl(20));
workspace.write('data/validation.jsonl', pairsJsonl(5));

let configs = 0;
/** A config next to the tiny model and the data, with `extra` appended; returns its path. */
function config(extra = ''): string {
  return workspace.write(`c${configs++}.embedtune.yaml`, `model: {base: ./tiny}\ndata: {train: data/train.jsonl}\n${extra}`);
}

/**
 * The file reader, counting the reads of each path. After each read it overwrites the file with a config that does
 * not validate, so that a second read, through this reader or straight from the disk, changes what the run does.
 */
function countingReader(): { read: ConfigReader; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  return {
    reads,
    read: (path) => {
      reads.set(path, (reads.get(path) ?? 0) + 1);
      const text = readConfigFile(path);
      writeFileSync(path, '# overwritten after the first read\nengine: {type: tfjs}\ntraining: {epochs: -1}\n');
      return text;
    },
  };
}

describe('prepareRun: what a run starts from', () => {
  it('reads the config file exactly once, and the run folder is made without reading it again', async () => {
    const path = config();
    const { read, reads } = countingReader();
    const prepared = await prepareRun({ configPath: path, readConfig: read });
    openRunFolder(prepared).finish();
    assert.deepEqual([...reads], [[path, 1]]);
  });

  it('reads nothing when handed the config the CLI already read', async () => {
    const path = config();
    const { read, reads } = countingReader();
    const runConfig = readRunConfig(path, read);
    const prepared = await prepareRun({ configPath: path, runConfig, readConfig: read });
    assert.equal(reads.get(path), 1);
    assert.equal(prepared.config, runConfig.config);
  });

  it('applies the defaults: output_dir runs beside the config, a 10% validation split held out, dropout left to the model', async () => {
    const prepared = await prepareRun({ configPath: config() });
    assert.equal(prepared.outputDir, workspace.path('runs'));
    assert.equal(prepared.configDir, workspace.root);
    assert.equal(prepared.data.train.length, 18);
    assert.equal(prepared.data.validation.length, 2);
    assert.equal(prepared.config.evaluation.every, 'epoch');
    assert.equal(prepared.dropout, null, 'no training.dropout written: the model config.json keeps its own');
    assert.equal(prepared.resumeFrom, undefined);
  });

  it('takes what the config writes over the defaults', async () => {
    const prepared = await prepareRun({ configPath: config('output_dir: out/here\ntraining: {dropout: 0.2, batch_size: 4}\n') });
    assert.equal(prepared.outputDir, workspace.path('out/here'));
    assert.equal(prepared.dropout, 0.2);
    assert.equal(prepared.config.training.batch_size, 4);
  });

  it('evaluates and stops early where there are validation rows, held out or from a file', async () => {
    for (const extra of ['', 'data: {train: data/train.jsonl, validation: data/validation.jsonl}\n']) {
      const path = extra ? workspace.write(`file${configs++}.embedtune.yaml`, `model: {base: ./tiny}\n${extra}`) : config();
      const prepared = await prepareRun({ configPath: path });
      assert.deepEqual(prepared.schedule, { evaluates: true, stopsEarly: true });
    }
  });

  it('turns evaluation and early stopping off without validation rows', async () => {
    // 10% of 4 rows rounds to none held out.
    workspace.write('data/four.jsonl', pairsJsonl(4));
    const path = workspace.write(`none${configs++}.embedtune.yaml`, 'model: {base: ./tiny}\ndata: {train: data/four.jsonl}\n');
    const prepared = await prepareRun({ configPath: path });
    assert.equal(prepared.data.train.length, 4);
    assert.equal(prepared.data.validation.length, 0);
    assert.deepEqual(prepared.schedule, { evaluates: false, stopsEarly: false, why: 'there are no validation rows' });
  });

  it('follows evaluation.enabled and early_stopping.enabled', async () => {
    const off = await prepareRun({ configPath: config('evaluation: {enabled: false}\n') });
    assert.deepEqual(off.schedule, { evaluates: false, stopsEarly: false, why: 'evaluation.enabled is false' });
    const noStop = await prepareRun({ configPath: config('early_stopping: {enabled: false}\n') });
    assert.deepEqual(noStop.schedule, { evaluates: true, stopsEarly: false, why: 'early_stopping.enabled is false' });
  });

  it('throws ConfigErrors naming the file as given, with the text it validated', async () => {
    const text = 'model: {base: ./tiny}\ndata: {train: data/train.jsonl}\ntraining: {epochs: -1}\n';
    const path = workspace.write('bad.embedtune.yaml', text);
    const { read, reads } = countingReader();
    await assert.rejects(prepareRun({ configPath: path, readConfig: read }), (error: unknown) => {
      assert.ok(error instanceof ConfigErrors);
      assert.equal(error.file, path);
      assert.equal(error.text, text);
      assert.ok(error.diagnostics.some((d) => d.severity === 'error' && d.message.includes('epochs')));
      return true;
    });
    assert.equal(reads.get(path), 1);
  });
});

describe('openRunFolder: a new run, or the run being resumed', () => {
  it('creates a run folder with config.resolved.yaml and marks it running, then finished', async () => {
    const path = config('name: fresh\noutput_dir: fresh-runs\n');
    const opened = openRunFolder(await prepareRun({ configPath: path }));
    assert.deepEqual(readdirSync(workspace.path('fresh-runs')), [opened.directory.runId]);
    assert.match(opened.directory.runId, /^fresh-\d{8}-\d{6}$/);
    assert.ok(existsSync(join(opened.directory.path, 'config.resolved.yaml')));
    const info = () => JSON.parse(readFileSync(join(opened.directory.path, 'run.json'), 'utf8'));
    assert.deepEqual(info(), {
      run_id: opened.directory.runId,
      pid: process.pid,
      configPath: path,
      startedAt: opened.startedAt,
      state: 'running',
    });
    opened.finish();
    assert.equal(info().state, 'finished');
  });

  it('resumes a run folder from its newest checkpoint, in the same folder, continuing its events', async () => {
    const path = config('output_dir: resumed-runs\n');
    const first = openRunFolder(await prepareRun({ configPath: path }));
    const events = first.openEvents();
    events.write({ type: 'log', level: 'info', message: 'first launch' });
    events.close();
    for (const step of [2, 10, 4]) {
      mkdirSync(join(first.directory.path, 'checkpoints', `step-${step}`), { recursive: true });
      writeFileSync(join(first.directory.path, 'checkpoints', `step-${step}`, 'trainer_state.json'), '{}');
    }
    for (const resume of [first.directory.path, 'latest']) {
      const prepared = await prepareRun({ configPath: path, resume });
      assert.equal(prepared.resumeFrom, join(first.directory.path, 'checkpoints', 'step-10'), resume);
      const again = openRunFolder(prepared);
      assert.deepEqual(again.directory, first.directory);
      const writer = again.openEvents();
      writer.write({ type: 'log', level: 'info', message: `resumed from ${resume}` });
      writer.close();
    }
    assert.deepEqual(readdirSync(workspace.path('resumed-runs')), [first.directory.runId], 'no second run folder');
    assert.deepEqual(
      readEventLog(first.directory.eventsPath).events.map((event) => event.seq),
      [0, 1, 2],
    );
  });

  it('says when --resume finds no checkpoint', async () => {
    await assert.rejects(
      prepareRun({ configPath: config('output_dir: empty-runs\n'), resume: 'latest' }),
      /--resume latest found no checkpoint under .*empty-runs/,
    );
  });
});

describe('the accelerate launch plan, written from the prepared run', () => {
  const model = { folder: workspace.path('tiny'), pooling: 'mean', normalize: false, max_seq_length: 32 };

  it('carries the resolved config, the prepared rows and the decisions that prepareRun made', async () => {
    const path = config('output_dir: plan-runs\nearly_stopping: {enabled: false}\ntraining: {dropout: 0.3}\n');
    const prepared = await prepareRun({ configPath: path });
    const run = openRunFolder(prepared).directory;
    const planPath = writeLaunchPlan({ prepared, run, model, resumeFrom: undefined, eventsToStdout: false });
    assert.equal(planPath, launchPlanPath(run.path));
    const plan = JSON.parse(readFileSync(planPath, 'utf8')) as LaunchPlan;
    assert.deepEqual(plan.config, parse(readFileSync(join(run.path, 'config.resolved.yaml'), 'utf8')));
    assert.equal(plan.config_path, path);
    assert.equal(plan.run_dir, run.path);
    assert.equal(plan.evaluation_on, true);
    assert.equal(plan.early_stopping_on, false);
    assert.equal(plan.dropout, 0.3);
    assert.equal(plan.resume_from, null);
    const lines = (file: string | null) =>
      readFileSync(file!, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
    assert.deepEqual(lines(plan.data.train), prepared.data.train);
    assert.deepEqual(lines(plan.data.validation), prepared.data.validation);
  });

  it('resumes from the absolute checkpoint path, and names it relative to the run', async () => {
    const path = config('output_dir: plan-resume\n');
    const prepared = await prepareRun({ configPath: path });
    const run = openRunFolder(prepared).directory;
    const checkpoint = join(run.path, 'checkpoints', 'step-3');
    const plan = JSON.parse(
      readFileSync(writeLaunchPlan({ prepared, run, model, resumeFrom: checkpoint, eventsToStdout: true }), 'utf8'),
    ) as LaunchPlan;
    assert.equal(plan.resume_from, checkpoint);
    assert.equal(plan.resumed_from, join('checkpoints', 'step-3'));
    assert.equal(plan.events_to_stdout, true);
  });
});

describe('embedtune train reads its config once', () => {
  const quiet = { out: () => {}, err: () => {} };

  it('to print the accelerate launch command', async () => {
    const path = config('engine: {type: accelerate, python: /nonexistent/bin/python}\n');
    const { read, reads } = countingReader();
    const lines: string[] = [];
    assert.equal(await runTrain([path, '--print-launch-command'], { ...quiet, out: (line) => lines.push(line) }, read), 0);
    assert.match(lines.join('\n'), /accelerate\.commands\.launch/);
    assert.deepEqual([...reads], [[path, 1]]);
  });

  it('for a whole accelerate run, up to the failed launch', async () => {
    const path = config('output_dir: accelerate-runs\nengine: {type: accelerate, python: /nonexistent/bin/python}\n');
    const { read, reads } = countingReader();
    const lines: string[] = [];
    assert.equal(await runTrain([path], { out: (line) => lines.push(line), err: (line) => lines.push(line) }, read), 1);
    assert.match(lines.join('\n'), /running the Python interpreter "\/nonexistent\/bin\/python"/);
    assert.match(lines.join('\n'), /run failed after 0 steps/);
    assert.deepEqual([...reads], [[path, 1]]);
  });

  it('for a whole tfjs run', async () => {
    const path = config('output_dir: tfjs-runs\nengine: {backend: cpu}\ntraining: {epochs: 1, batch_size: 6}\n');
    const { read, reads } = countingReader();
    const lines: string[] = [];
    assert.equal(await runTrain([path], { out: (line) => lines.push(line), err: (line) => lines.push(line) }, read), 0, lines.join('\n'));
    assert.match(lines.join('\n'), /run completed after 3 steps/);
    assert.deepEqual([...reads], [[path, 1]]);
  });

  it('to report its errors, at the lines of the text it read', async () => {
    const path = workspace.write(
      'errors.embedtune.yaml',
      'model: {base: ./tiny}\ndata: {train: data/train.jsonl}\ntraining:\n  epochs: -1\n',
    );
    let served = false;
    // The file changes after the read: the report must point into what was validated, not into the new text.
    const read: ConfigReader = (file) => {
      assert.equal(served, false, 'read a second time');
      served = true;
      const text = readConfigFile(file);
      writeFileSync(file, '\n\n\n\n\n\n');
      return text;
    };
    const errors: string[] = [];
    assert.equal(await runTrain([path], { out: () => {}, err: (line) => errors.push(line) }, read), 1);
    assert.match(errors[0]!, /errors\.embedtune\.yaml:4:11 error .*epochs/);
  });
});
