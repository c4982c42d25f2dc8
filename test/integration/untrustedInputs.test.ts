import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildTinyBert } from '../helpers/tinyBert';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

/** The CLI on a cloned repository: configs, data and interpreters someone else wrote. */
const CLI = resolve(__dirname, '../../dist/cli.js');

const workspace = new TempWorkspace();
after(() => workspace.dispose());
workspace.write('data/train.jsonl', pairsJsonl(12));

function embedtune(args: string[]) {
  // The timeout turns a hang (a FIFO read forever) into a failure instead of a stuck test run.
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: workspace.root, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, signal: result.signal };
}

describe('a config path that is not a regular file', () => {
  execFileSync('mkfifo', [workspace.path('pipe.embedtune.yaml')]);

  it('is reported by validate instead of blocking on the read', () => {
    const result = embedtune(['validate', 'pipe.embedtune.yaml']);
    assert.equal(result.signal, null, 'validate hung on the FIFO');
    assert.equal(result.code, 1);
    assert.equal(
      result.stdout.trim(),
      'pipe.embedtune.yaml:1:1 error config-unreadable The config file is not a regular file, so it is not read.',
    );
  });

  for (const args of [
    ['train', 'pipe.embedtune.yaml'],
    ['preview-data', 'pipe.embedtune.yaml'],
    ['eval', 'model', '--config', 'pipe.embedtune.yaml'],
  ]) {
    it(`is refused by ${args[0]} with exit code 1`, () => {
      const result = embedtune(args);
      assert.equal(result.signal, null, `${args[0]} hung on the FIFO`);
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`embedtune ${args[0]}: The config .*pipe\\.embedtune\\.yaml is not a regular file but a named pipe\\.`),
      );
    });
  }
});

describe('control characters from a config or a data row', () => {
  it('reach the terminal escaped, from a config key', () => {
    workspace.write('ansi.embedtune.yaml', 'model:\n  base: x\ndata:\n  train: data/train.jsonl\n"\\e[2J\\e[Hfake: ok\\r": 1\n');
    const result = embedtune(['validate', 'ansi.embedtune.yaml']);
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stdout, /[\u001b\r]/);
    assert.match(result.stdout, /unknown-key Unknown key "\\u001b\[2J\\u001b\[Hfake: ok\\u000d"/);
  });

  it('reach the terminal escaped, from a data cell', () => {
    workspace.write(
      'data/ansi.jsonl',
      `${JSON.stringify({ anchor: '\u001b]0;pwned\u0007red \u009b31m', positive: 'b \u202eevil' })}\n${pairsJsonl(3)}`,
    );
    workspace.write('cells.embedtune.yaml', 'model:\n  base: x\ndata:\n  train: data/ansi.jsonl\n');
    const result = embedtune(['preview-data', 'cells.embedtune.yaml', '--rows', '1']);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /[\u001b\u0007\u009b\u202e]/);
    assert.match(result.stdout, /\\u001b\]0;pwned\\u0007red \\u009b31m/);
    assert.match(result.stdout, /b \\u202eevil/);
  });
});

describe('engine.python, a program the config names', () => {
  buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
  const marker = workspace.path('interpreter-ran');
  workspace.write('bin/python', `#!/bin/sh\necho "$@" > ${JSON.stringify(marker)}\nexit 3\n`);
  chmodSync(workspace.path('bin/python'), 0o755);
  workspace.write(
    'py.embedtune.yaml',
    'model:\n  base: ./tiny\ndata:\n  train: data/train.jsonl\nengine:\n  type: accelerate\n  python: ./bin/python\n',
  );

  it('is reported by validate', () => {
    const result = embedtune(['validate', 'py.embedtune.yaml']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /py\.embedtune\.yaml:7:11 information engine-python-executable engine\.python names a program that embedtune train runs: "\.\/bin\/python"/,
    );
  });

  it('is printed by train, resolved, before train runs it', () => {
    const result = embedtune(['train', 'py.embedtune.yaml']);
    assert.ok(existsSync(marker), 'the interpreter ran');
    assert.match(readFileSync(marker, 'utf8'), /-m accelerate\.commands\.launch/);
    const first = result.stdout.split('\n')[0];
    assert.equal(
      first,
      `embedtune train: running the Python interpreter ${JSON.stringify(workspace.path('bin/python'))} (from engine.python in py.embedtune.yaml)`,
    );
    assert.equal(result.code, 1);
  });
});
