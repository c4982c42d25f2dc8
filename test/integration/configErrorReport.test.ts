/**
 * Every command that reads a config reports its errors the same way, through readRunConfig and one printer: a
 * `file:line:col severity code message` line per error, on the text that was validated, then the command's own
 * closing line and exit code 1. The built CLI as a child process, as a user runs it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const CLI = resolve(__dirname, '../../dist/cli.js');

function embedtune(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const ERROR_LINE = 'bad.embedtune.yaml:8:3 error unknown-key Unknown key "lerning_rate" in training. Did you mean "learning_rate"?';

describe('a config with errors, in every command that reads one', () => {
  const workspace = new TempWorkspace();
  before(() => {
    workspace.write('data/train.jsonl', pairsJsonl(40));
    workspace.write(
      'bad.embedtune.yaml',
      'model:\n  base: x\ndata:\n  train: data/train.jsonl\nstrategy:\n  type: lora\ntraining:\n  lerning_rate: 1\n',
    );
  });
  after(() => workspace.dispose());

  const commands: [string, string[], string][] = [
    [
      'train',
      ['train', 'bad.embedtune.yaml'],
      'bad.embedtune.yaml has 1 error(s); fix them before training (embedtune validate bad.embedtune.yaml).',
    ],
    [
      'preview-data',
      ['preview-data', 'bad.embedtune.yaml'],
      'embedtune preview-data: bad.embedtune.yaml has errors; fix them first (embedtune validate bad.embedtune.yaml).',
    ],
    [
      'mine-negatives',
      ['mine-negatives', 'bad.embedtune.yaml', '--out', 'mined.jsonl'],
      'embedtune mine-negatives: bad.embedtune.yaml has errors; fix them first (embedtune validate bad.embedtune.yaml).',
    ],
    [
      'eval',
      ['eval', './no-model', '--config', 'bad.embedtune.yaml', '--data', 'data/train.jsonl'],
      'embedtune eval: bad.embedtune.yaml has errors; fix them first (embedtune validate bad.embedtune.yaml).',
    ],
  ];
  for (const [name, args, closing] of commands) {
    it(`${name} prints each error at its line and column, then its closing line, and exits 1`, () => {
      const result = embedtune(args, workspace.root);
      assert.equal(result.code, 1, result.stderr);
      assert.deepEqual(result.stderr.trim().split('\n'), [ERROR_LINE, closing]);
    });
  }
});
