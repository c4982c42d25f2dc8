import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const CLI = resolve(__dirname, '../../dist/cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'embedtune-backend-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, EMBEDTUNE_NATIVE_BACKENDS_DIR: join(scratch, 'cache'), EMBEDTUNE_NATIVE_BACKEND: '', ...env },
  });
}

describe('embedtune backend', () => {
  it('is listed in the CLI help, with install, status and remove', () => {
    assert.match(cli(['--help']).stdout, /^ {2}embedtune backend install \[cpu\|gpu\]/m);
    const help = cli(['backend', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^ {2}status {12}where each backend is found/m);
  });

  it('says a backend is not installed, where it looked, and the command that installs it', () => {
    const status = cli(['backend', 'status']);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^Cache: ${join(scratch, 'cache').replace(/[/.]/g, '\\$&')}$`, 'm'));
    assert.match(
      status.stdout,
      /^cpu: @tensorflow\/tfjs-node not installed \(not in node_modules or NODE_PATH; not installed in .*tfjs-node-4\.22\.0\)\. Install it: embedtune backend install cpu$/m,
    );
    const json = JSON.parse(cli(['backend', 'status', '--json']).stdout) as { backends: { variant: string; found: boolean }[] };
    assert.deepEqual(
      json.backends.map((b) => [b.variant, b.found]),
      [
        ['cpu', false],
        ['gpu', false],
      ],
    );
  });

  it('reports a found package that does not load, with the loader error', () => {
    const broken = join(scratch, 'broken', 'node_modules', '@tensorflow', 'tfjs-node');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }));
    writeFileSync(join(broken, 'index.js'), "throw new Error('libtensorflow.so.2: cannot open shared object file');");
    const status = cli(['backend', 'status'], { EMBEDTUNE_NATIVE_BACKEND: join(scratch, 'broken') });
    assert.match(
      status.stdout,
      /^cpu: @tensorflow\/tfjs-node 4\.22\.0 from setting .*: does NOT load: libtensorflow\.so\.2: cannot open shared object file$/m,
    );
  });

  it('removes what it installed, and says when there is nothing', () => {
    const install = join(scratch, 'cache', 'tfjs-node-gpu-4.22.0');
    mkdirSync(install, { recursive: true });
    writeFileSync(join(install, 'embedtune-install.json'), '{}');
    const removed = cli(['backend', 'remove', 'gpu']);
    assert.equal(removed.status, 0);
    assert.match(removed.stdout, /^Removed .*tfjs-node-gpu-4\.22\.0$/m);
    assert.match(cli(['backend', 'remove']).stdout, /^Nothing to remove in /);
  });

  it('refuses an unknown action or variant with the usage text', () => {
    const unknown = cli(['backend', 'upgrade']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^embedtune backend: unknown action "upgrade"\.\n\nembedtune backend install/);
    const variant = cli(['backend', 'install', 'tpu']);
    assert.equal(variant.status, 2);
    assert.match(variant.stderr, /"tpu" is not a backend variant; use cpu or gpu\./);
  });
});
