import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveConfig, type EmbedTuneConfig, type EngineConfig } from '../../src/shared/config/configTypes';
import { resolvePython } from '../../src/shared/config/pythonInterpreter';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { runTrain } from '../../src/trainer/cli/trainCommand';
import { accelerateLaunchCommand, formatLaunchCommand, launchEnvironment, shellQuote } from '../../src/trainer/engines/accelerateCommand';
import { pythonPackageRoot } from '../../src/trainer/engines/pythonPackage';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

function commandFor(engine: EngineConfig, training: EmbedTuneConfig['training'] = {}, configFile?: string) {
  const config = resolveConfig({ model: { base: 'm' }, data: { train: 't.jsonl' }, engine: { type: 'accelerate', ...engine }, training });
  return accelerateLaunchCommand({
    python: '/venv/bin/python',
    engine: config.engine,
    written: engine,
    ...(configFile ? { configFile } : {}),
    mixedPrecision: config.training.mixed_precision,
    gradientAccumulationSteps: config.training.gradient_accumulation_steps,
    planPath: '/runs/r/accelerate/launch.json',
    packageRoot: '/ext/python',
  });
}

/** The value after a flag, or undefined when the flag is absent. */
function flag(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index < 0 ? undefined : args[index + 1];
}

describe('the accelerate launch command', () => {
  it('runs accelerate launch with the configured interpreter and ends with the shipped module and the plan', () => {
    const command = commandFor({});
    assert.equal(command.executable, '/venv/bin/python');
    assert.deepEqual(command.args.slice(0, 2), ['-m', 'accelerate.commands.launch']);
    assert.deepEqual(command.args.slice(-4), ['--module', 'embedtune_accelerate.train', '--plan', '/runs/r/accelerate/launch.json']);
    assert.equal(command.env['PYTHONPATH'], '/ext/python');
  });

  it('passes the machine options, mixed precision and gradient accumulation of the config', () => {
    const command = commandFor(
      { num_processes: 8, num_machines: 2, machine_rank: 1, main_process_ip: '10.0.0.12', main_process_port: 29501 },
      { mixed_precision: 'bf16', gradient_accumulation_steps: 4 },
    );
    const expected: Record<string, string> = {
      '--num_processes': '8',
      '--num_machines': '2',
      '--machine_rank': '1',
      '--main_process_ip': '10.0.0.12',
      '--main_process_port': '29501',
      '--mixed_precision': 'bf16',
      '--gradient_accumulation_steps': '4',
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(flag(command.args, name), value, name);
    assert.ok(command.args.includes('--multi_gpu'), 'several GPU processes use the multi-process launcher');
    assert.ok(!command.args.includes('--cpu'));
  });

  it('starts one process on the default device when one process is configured', () => {
    const command = commandFor({});
    assert.ok(!command.args.includes('--multi_gpu') && !command.args.includes('--cpu'));
    assert.equal(flag(command.args, '--num_processes'), '1');
    assert.equal(flag(command.args, '--mixed_precision'), 'no');
  });

  it('runs several CPU processes through the multi-process launcher with every worker on the CPU, as --cpu alone starts one', () => {
    const command = commandFor({ cpu: true, num_processes: 2 });
    assert.ok(command.args.includes('--multi_gpu'));
    assert.ok(!command.args.includes('--cpu'), 'accelerate rejects --cpu with --multi_gpu');
    assert.equal(command.env['ACCELERATE_USE_CPU'], 'true');
    const single = commandFor({ cpu: true });
    assert.ok(single.args.includes('--cpu') && !single.args.includes('--multi_gpu'));
  });

  it('with an accelerate config file, overrides only the options the EmbedTune config writes', () => {
    const command = commandFor({ config_file: 'ds.yaml', num_processes: 4 }, {}, '/proj/ds.yaml');
    assert.equal(flag(command.args, '--config_file'), '/proj/ds.yaml');
    assert.equal(flag(command.args, '--num_processes'), '4');
    for (const name of [
      '--num_machines',
      '--machine_rank',
      '--main_process_ip',
      '--main_process_port',
      '--multi_gpu',
      '--dynamo_backend',
    ]) {
      assert.ok(!command.args.includes(name), `${name} is left to the config file`);
    }
    assert.equal(flag(command.args, '--mixed_precision'), 'no', 'training.mixed_precision is the one setting for both engines');
  });

  it('formats a line a POSIX shell runs as the same argument array', () => {
    assert.equal(shellQuote('/plain/path-1.json'), '/plain/path-1.json');
    assert.equal(shellQuote("it's here/a b"), `'it'\\''s here/a b'`);
    const line = formatLaunchCommand({
      executable: '/v env/python',
      args: ['-m', 'x', '--plan', '/r/<run-id>/launch.json'],
      env: { PYTHONPATH: '/ext/python' },
    });
    assert.equal(line, `PYTHONPATH=/ext/python '/v env/python' -m x --plan '/r/<run-id>/launch.json'`);
  });

  it("puts the shipped package first on PYTHONPATH and keeps the user's entries", () => {
    const env = launchEnvironment(commandFor({}), { PYTHONPATH: '/mine', HOME: '/home/u' });
    assert.equal(env['PYTHONPATH'], `/ext/python${process.platform === 'win32' ? ';' : ':'}/mine`);
    assert.equal(env['HOME'], '/home/u');
  });

  it('finds the shipped Python package from the source tree', () => {
    assert.equal(pythonPackageRoot(__dirname), join(__dirname, '..', '..', 'python'));
  });
});

describe('which Python runs the accelerate engine', () => {
  it('is engine.python when the config writes it, relative to the config folder', () => {
    assert.equal(resolvePython('.venv/bin/python', '/proj', { EMBEDTUNE_PYTHON: '/other/python' }), '/proj/.venv/bin/python');
    assert.equal(resolvePython('python3.11', '/proj', {}), 'python3.11');
  });

  it("is the editor's embedtune.accelerate.pythonPath (EMBEDTUNE_PYTHON) when the config does not say, else python3", () => {
    assert.equal(resolvePython(undefined, '/proj', { EMBEDTUNE_PYTHON: '/venvs/st/bin/python' }), '/venvs/st/bin/python');
    assert.equal(resolvePython(undefined, '/proj', {}), 'python3');
  });
});

describe('accelerate-option-unsupported', () => {
  const codes = (text: string) =>
    validateConfigText(text)
      .diagnostics.filter((d) => d.code === 'accelerate-option-unsupported' || d.code === 'engine-option-ignored')
      .map((d) => `${d.code} ${d.data?.path?.join('.')}`);
  const base = 'model: {base: sentence-transformers/all-MiniLM-L6-v2}\ndata: {train: t.jsonl}\n';

  it('reports options the accelerate engine has no counterpart for, before launch', () => {
    assert.deepEqual(codes(`${base}task: classification\nloss: {type: softmax}\nengine: {type: accelerate}\n`), [
      'accelerate-option-unsupported task',
    ]);
    assert.deepEqual(codes(`${base}strategy: {type: adapter}\nengine: {type: accelerate}\n`), [
      'accelerate-option-unsupported strategy.type',
    ]);
    assert.deepEqual(codes(`${base}training: {mixed_precision: fp16}\nengine: {type: accelerate, cpu: true}\n`), [
      'accelerate-option-unsupported training.mixed_precision',
    ]);
  });

  it('accepts what the engine maps: embedding losses, image classification, lora and freeze, bf16 on the CPU', () => {
    for (const loss of ['mnrl', 'cached_mnrl', 'cosent', 'cosine', 'contrastive', 'triplet'])
      assert.deepEqual(codes(`${base}loss: {type: ${loss}}\nengine: {type: accelerate}\n`), [], loss);
    assert.deepEqual(
      codes(`${base}strategy: {type: lora}\ntraining: {mixed_precision: bf16}\nengine: {type: accelerate, cpu: true}\n`),
      [],
    );
    for (const loss of ['softmax', 'focal'])
      assert.deepEqual(
        codes(
          `model: {base: ./resnet}\ndata: {train: images/train}\ntask: image-classification\nloss: {type: ${loss}}\nengine: {type: accelerate}\n`,
        ),
        [],
        `image-classification with ${loss}`,
      );
  });

  it('leaves the tfjs engine alone, and warns that engine.cpu is an accelerate option there', () => {
    assert.deepEqual(codes(`${base}strategy: {type: adapter}\nengine: {type: tfjs, cpu: true}\n`), ['engine-option-ignored engine.cpu']);
  });
});

describe('embedtune train --print-launch-command', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runTrain(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('prints the exact command line without starting anything', async () => {
    workspace.write('data/train.jsonl', pairsJsonl(8));
    const config = workspace.write(
      'a.embedtune.yaml',
      'model: {base: sentence-transformers/all-MiniLM-L6-v2}\ndata: {train: data/train.jsonl}\noutput_dir: out\nengine: {type: accelerate, num_processes: 2, python: venv/bin/python}\n',
    );
    const result = await run([config, '--print-launch-command']);
    assert.equal(result.code, 0, result.err);
    assert.ok(
      result.out.startsWith(
        `PYTHONPATH=${pythonPackageRoot()} PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 ${workspace.path('venv/bin/python')} -m accelerate.commands.launch --multi_gpu --num_processes 2 `,
      ),
      result.out,
    );
    assert.ok(
      result.out.endsWith(`--module embedtune_accelerate.train --plan '${workspace.path('out/<run-id>/accelerate/launch.json')}'`),
      result.out,
    );
  });

  it('refuses a config with errors the way training does, naming file, line and code', async () => {
    const config = workspace.write(
      'b.embedtune.yaml',
      'model: {base: sentence-transformers/all-MiniLM-L6-v2}\ndata: {train: data/train.jsonl}\nstrategy: {type: adapter}\nengine: {type: accelerate}\n',
    );
    const result = await run([config, '--print-launch-command']);
    assert.equal(result.code, 1);
    assert.match(result.err, /b\.embedtune\.yaml:3:\d+ error accelerate-option-unsupported strategy\.type adapter/);
  });
});

describe('embedtune train with the accelerate engine, before launch', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('refuses rows that do not give every process one full batch, before a run folder or a launch exists', async () => {
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
    workspace.write('data/train.jsonl', pairsJsonl(15));
    workspace.write('data/validation.jsonl', pairsJsonl(4));
    const config = workspace.write(
      'few.embedtune.yaml',
      'model: {base: ./tiny}\ndata: {train: data/train.jsonl, validation: data/validation.jsonl}\ntraining: {batch_size: 8}\noutput_dir: out\nengine: {type: accelerate, cpu: true, num_processes: 2, python: /nonexistent/python}\n',
    );
    const err: string[] = [];
    const code = await runTrain([config], { out: () => undefined, err: (line) => err.push(line) });
    assert.equal(code, 1);
    assert.match(
      err.join('\n'),
      /15 training rows are fewer than one batch for each of the 2 processes \(batch_size 8 × num_processes 2 = 16\); under DistributedDataParallel nothing would train/,
    );
    assert.equal(existsSync(workspace.path('out')), false, 'no run folder');
  });
});
