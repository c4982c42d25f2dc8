#!/usr/bin/env node
// Installs code-server (a real VS Code served to a browser) for the end-to-end tests, without the network its own
// postinstall needs: npm installs every package with scripts off, node-gyp builds the native modules against this
// Node's headers, Debian's ripgrep stands in for the binary @vscode/ripgrep would download, and the links that
// postinstall.sh makes are made here. The result is cached outside the repository, keyed by code-server's version
// and this Node's ABI, so that a second run takes a moment.
//
//   node scripts/codeServerInstall.mjs            prints the path of code-server's entry script (out/node/entry.js)
//
// EMBEDTUNE_CODE_SERVER_CACHE overrides the cache folder (default ~/.cache/embedtune).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** 4.100.x is the last line that runs on Node 20; later ones need Node 22 or 24. */
export const CODE_SERVER_VERSION = '4.100.3';

/** The native modules VS Code's server loads on Linux. The Windows-only ones and @parcel/watcher (prebuilt) are left out. */
const NATIVE_MODULES = ['@vscode/spdlog', 'node-pty', 'native-watchdog', '@vscode/deviceid', 'kerberos'];

const MARKER = '.embedtune-install.json';

export function codeServerCacheDir() {
  const root = process.env.EMBEDTUNE_CODE_SERVER_CACHE || join(homedir(), '.cache', 'embedtune');
  return join(root, `code-server-${CODE_SERVER_VERSION}`);
}

/** The install's entry script once it is complete and built for this Node; undefined otherwise. */
export function installedEntry(dir = codeServerCacheDir()) {
  const entry = join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  try {
    const marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8'));
    if (marker.version === CODE_SERVER_VERSION && marker.nodeAbi === process.versions.modules && existsSync(entry)) return entry;
  } catch {
    // No marker: never finished, or never started.
  }
  return undefined;
}

/** Installs code-server into the cache unless it is there already, and returns its entry script. */
export function ensureCodeServer(log = (line) => process.stderr.write(`${line}\n`)) {
  const dir = codeServerCacheDir();
  const cached = installedEntry(dir);
  if (cached) return cached;
  checkPrerequisites();
  const started = Date.now();
  // Built beside the cache folder and renamed into place at the end, so that an interrupted install is never used.
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    build(staging, log);
    writeFileSync(
      join(staging, MARKER),
      `${JSON.stringify({ version: CODE_SERVER_VERSION, nodeAbi: process.versions.modules, node: process.version, builtAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) }, null, 2)}\n`,
    );
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  log(`code-server ${CODE_SERVER_VERSION} installed in ${dir} in ${Math.round((Date.now() - started) / 1000)}s`);
  return installedEntry(dir);
}

function build(root, log) {
  const step = (what, fn) => {
    const t = Date.now();
    log(`code-server install: ${what}…`);
    fn();
    log(`code-server install: ${what} took ${((Date.now() - t) / 1000).toFixed(1)}s`);
  };
  const npm = ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  writeFileSync(join(root, 'package.json'), `${JSON.stringify({ name: 'embedtune-e2e-code-server', private: true }, null, 2)}\n`);
  const codeServer = join(root, 'node_modules', 'code-server');
  const vscode = join(codeServer, 'lib', 'vscode');
  step(`npm install code-server@${CODE_SERVER_VERSION}`, () =>
    run('npm', [...npm, '--save-exact', `code-server@${CODE_SERVER_VERSION}`], root),
  );
  step('npm install in lib/vscode', () => run('npm', [...npm, '--omit=dev'], vscode));
  step('npm install in lib/vscode/extensions', () => run('npm', [...npm, '--omit=dev'], join(vscode, 'extensions')));
  // What the extensions' postinstall does: trim the TypeScript copy that the built-in language features use.
  run(process.execPath, ['postinstall.mjs'], join(vscode, 'extensions'), { quiet: true });

  const gyp = nodeGyp();
  const headers = nodeHeaders();
  const jobs = String(Math.max(1, cpus().length));
  for (const name of NATIVE_MODULES) {
    step(`node-gyp rebuild ${name}`, () =>
      run(process.execPath, [gyp, 'rebuild', `--jobs=${jobs}`, ...headers], join(vscode, 'node_modules', name)),
    );
  }
  // argon2 hashes passwords for code-server's own login; it is loaded even with --auth none. Built from source:
  // node-pre-gyp's download of a prebuilt binary needs GitHub.
  step('node-pre-gyp argon2', () =>
    run(
      process.execPath,
      [
        join(root, 'node_modules', '@mapbox', 'node-pre-gyp', 'bin', 'node-pre-gyp'),
        'install',
        '--build-from-source',
        `--jobs=${jobs}`,
        ...headers,
      ],
      join(root, 'node_modules', 'argon2'),
    ),
  );

  // @vscode/ripgrep's postinstall downloads its binary from GitHub; Debian's ripgrep is the same program.
  const rg = join(vscode, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  mkdirSync(dirname(rg), { recursive: true });
  copyFileSync(whichOrThrow('rg', 'ripgrep'), rg);
  chmodSync(rg, 0o755);

  // The links postinstall.sh makes: VS Code and its extensions look for files under node_modules.asar, and the
  // remote CLI and browser helpers are found by these names.
  symlinkSync('node_modules', join(vscode, 'node_modules.asar'));
  symlinkSync('code-linux.sh', join(vscode, 'bin', 'remote-cli', 'code-server'));
  symlinkSync('browser-linux.sh', join(vscode, 'bin', 'helpers', 'browser.sh'));

  step('checking that the native modules load', () => {
    const probe = NATIVE_MODULES.map((name) => `require(${JSON.stringify(name)});`).join('');
    run(process.execPath, ['-e', probe], vscode);
    run(process.execPath, ['-e', 'require("argon2")'], codeServer);
  });
  const version = run(process.execPath, [join(codeServer, 'out', 'node', 'entry.js'), '--version'], root, { capture: true });
  if (!version.includes(CODE_SERVER_VERSION))
    throw new Error(`code-server --version printed "${version.trim()}", not ${CODE_SERVER_VERSION}`);
}

/** node-gyp as npm ships it, so that no other copy has to be installed. */
function nodeGyp() {
  const npmCli = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? process.env.npm_execpath : whichOrThrow('npm', 'npm');
  for (let dir = dirname(realpath(npmCli)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`node-gyp was not found next to npm (${npmCli}); install it with npm install -g node-gyp`);
}

/**
 * The headers of the running Node, when they are installed next to it (Debian's nodejs and the official tarballs
 * both have <prefix>/include/node). Without them node-gyp downloads them, which needs nodejs.org.
 */
function nodeHeaders() {
  const prefix = dirname(dirname(realpath(process.execPath)));
  return existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
}

function checkPrerequisites() {
  const missing = [];
  for (const [tool, pkg] of [
    ['rg', 'ripgrep'],
    ['make', 'build-essential'],
    ['g++', 'build-essential'],
    ['python3', 'python3'],
    ['krb5-config', 'libkrb5-dev'],
  ]) {
    if (!which(tool)) missing.push(`${tool} (Debian package ${pkg})`);
  }
  if (missing.length > 0) {
    throw new Error(
      `installing code-server for the end-to-end tests needs ${missing.join(', ')}: apt-get install -y ripgrep build-essential python3 libkrb5-dev`,
    );
  }
}

function run(command, args, cwd, options = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) could not start: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${result.status ?? result.signal}:\n${output}`);
  }
  return options.capture ? result.stdout : '';
}

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function whichOrThrow(name, pkg) {
  const found = which(name);
  if (!found) throw new Error(`${name} is not on PATH (Debian package ${pkg})`);
  return found;
}

function realpath(path) {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpath(process.argv[1])) {
  try {
    process.stdout.write(`${ensureCodeServer()}\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
