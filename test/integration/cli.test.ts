import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const CLI = resolve(__dirname, '../../dist/cli.js');
const EXAMPLES = resolve(__dirname, '../../examples');

function embedtune(args: string[], cwd?: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('embedtune validate', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('passes every bundled example with exit code 0', () => {
    const files = ['retrieval/retrieval', 'similarity/similarity', 'classification/classification', 'ner/ner'].map((name) =>
      resolve(EXAMPLES, `${name}.embedtune.yaml`),
    );
    const result = embedtune(['validate', ...files]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /4 file\(s\) checked: 0 error\(s\), 0 warning\(s\)/);
  });

  it('prints file:line:col severity code message and exits 1 on errors', () => {
    workspace.write('data/train.jsonl', pairsJsonl(40));
    workspace.write(
      'bad.embedtune.yaml',
      'model:\n  base: x\ndata:\n  train: data/train.jsonl\nstrategy:\n  type: lora\ntraining:\n  lerning_rate: 1\n  batch_size: 16\n',
    );
    const result = embedtune(['validate', 'bad.embedtune.yaml'], workspace.root);
    assert.equal(result.code, 1);
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'bad.embedtune.yaml:8:3 error unknown-key Unknown key "lerning_rate" in training. Did you mean "learning_rate"?',
      'bad.embedtune.yaml:9:15 warning small-batch-in-batch-negatives batch_size 16 gives mnrl only 15 negatives per anchor; 32 or more usually trains a better model. If memory is the limit, cached_mnrl keeps a large batch in small chunks.',
    ]);
  });

  it('exits 0 when there are only warnings', () => {
    workspace.write(
      'warn.embedtune.yaml',
      'model:\n  base: x\ndata:\n  train: data/train.jsonl\nstrategy:\n  type: lora\ntraining:\n  batch_size: 16\n',
    );
    assert.equal(embedtune(['validate', 'warn.embedtune.yaml'], workspace.root).code, 0);
  });

  it('prints JSON with positions for tools', () => {
    const result = embedtune(['validate', '--format', 'json', 'bad.embedtune.yaml'], workspace.root);
    const problems = JSON.parse(result.stdout) as { line: number; column: number; endColumn: number; code: string }[];
    assert.deepEqual(
      problems.map((p) => [p.code, p.line, p.column, p.endColumn]),
      [
        ['unknown-key', 8, 3, 15],
        ['small-batch-in-batch-negatives', 9, 15, 17],
      ],
    );
  });

  it('prints the dry-run plan with --summary', () => {
    const result = embedtune(['validate', '--summary', 'warn.embedtune.yaml'], workspace.root);
    assert.match(result.stdout, /warn\.embedtune\.yaml: rows 36 train · 4 validation/);
    assert.match(result.stdout, /steps 3 per epoch · 3 total · 1 warmup/);
  });

  it('names a config file that does not exist, and rejects bad usage with exit code 2', () => {
    const missing = embedtune(['validate', 'nope.embedtune.yaml'], workspace.root);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout.trim(), 'nope.embedtune.yaml:1:1 error config-unreadable The config file does not exist.');
    assert.equal(embedtune(['validate']).code, 2);
    assert.equal(embedtune(['validate', '--format', 'xml', 'x']).code, 2);
    assert.equal(embedtune(['frobnicate']).code, 2);
    assert.match(embedtune(['--help']).stdout, /embedtune validate FILE/);
  });
});
