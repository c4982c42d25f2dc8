import { lookup } from 'node:dns/promises';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  checkBuildPrerequisites,
  checkNpmPrerequisites,
  findNodeHeaders,
  realBuildSystem,
  type BuildSystem,
  type MissingPrerequisite,
} from './buildPrerequisites';
import { displayPath } from './locateNativeBackend';
import {
  INSTALL_RECORD,
  installFolder,
  nativeCacheRoot,
  packageFolderIn,
  readInstallRecord,
  type InstallRecord,
} from './nativeBackendCache';
import { NATIVE_PACKAGES, NODE_GYP_VERSION, type NativePackage, type NativeVariant } from './nativePackages';
import { probeNativeBackend, type NativeProbe } from './probeNativeBackend';
import { InstallCancelled, runLogged, type InstallLog } from './runLogged';
import { CUDA_LIBRARIES, LAYOUT_SCRIPT } from './wheelLayout';

export type InstallMethod = 'npm' | 'wheel-build';

export interface InstallOptions {
  readonly variant: NativeVariant;
  /** Which methods to try; default both, npm first. */
  readonly methods?: readonly InstallMethod[];
  readonly env?: NodeJS.ProcessEnv;
  readonly log: InstallLog;
  readonly signal?: AbortSignal;
  readonly system?: BuildSystem;
  /** Install again even when a working install is there. */
  readonly force?: boolean;
}

export interface InstallAttempt {
  readonly method: InstallMethod;
  readonly ok: boolean;
  /** One sentence: what it did, or what stopped it. */
  readonly summary: string;
  readonly missing?: readonly MissingPrerequisite[];
}

export interface InstallResult {
  readonly ok: boolean;
  readonly cancelled?: boolean;
  readonly folder: string;
  readonly attempts: readonly InstallAttempt[];
  readonly probe?: NativeProbe;
  readonly alreadyInstalled?: boolean;
  /** Things that work but not as well as they could: a GPU build that found no GPU, a CUDA library not found. */
  readonly warnings: readonly string[];
}

const METHOD_NAMES: Record<InstallMethod, string> = {
  npm: "npm install (the package's own libtensorflow download)",
  'wheel-build': "offline build against PyPI's TensorFlow wheel",
};

/**
 * Installs tfjs-node (cpu) or tfjs-node-gpu (gpu) into the per-user cache, trying each method in turn and reporting
 * each: 1. npm install with the package's own libtensorflow download, where the network reaches it; 2. the binding
 * compiled with node-gyp against the TensorFlow C library in PyPI's wheel (tensorflow-cpu, or tensorflow with the
 * CUDA and cuDNN wheels for gpu). The install record is written last, after a child process has loaded the result,
 * so that the trainer never picks up a half-finished install.
 */
export async function installNativeBackend(options: InstallOptions): Promise<InstallResult> {
  const env = options.env ?? process.env;
  const pkg = NATIVE_PACKAGES[options.variant];
  const root = nativeCacheRoot(env);
  const folder = installFolder(root, pkg);
  const { log } = options;
  const warnings: string[] = [];

  if (!options.force && readInstallRecord(folder)) {
    const probe = await probeNativeBackend({ folder: packageFolderIn(folder, pkg), variant: pkg.variant }, { env });
    if (probe.ok) {
      log(`${pkg.packageName}@${pkg.version} is already installed in ${displayPath(folder)} and loads (${probe.device}).`);
      return { ok: true, folder, attempts: [], probe, alreadyInstalled: true, warnings };
    }
    log(`${displayPath(folder)} holds an install that does not load (${probe.error}); installing again.`);
  }

  const attempts: InstallAttempt[] = [];
  for (const [index, method] of (options.methods ?? (['npm', 'wheel-build'] as const)).entries()) {
    log(`== ${index + 1}. ${METHOD_NAMES[method]}`);
    const started = Date.now();
    try {
      rmSync(path.join(folder, INSTALL_RECORD), { force: true });
      mkdirSync(folder, { recursive: true });
      const attempt =
        method === 'npm' ? await installWithNpm(pkg, folder, env, options) : await buildFromWheel(pkg, root, folder, env, options);
      if (!attempt.ok) {
        attempts.push(attempt);
        log(`   ${method}: ${attempt.summary}`);
        continue;
      }
      const probe = await probeNativeBackend({ folder: packageFolderIn(folder, pkg), variant: pkg.variant }, { env });
      if (!probe.ok) {
        attempts.push({ method, ok: false, summary: `it installed, but the package does not load: ${probe.error}` });
        log(`   ${method}: ${attempts.at(-1)!.summary}`);
        continue;
      }
      const gpuNote = pkg.variant === 'gpu' ? gpuWarnings(folder, pkg, method, probe) : [];
      if (method === 'npm' && pkg.variant === 'gpu' && !probe.usingGpu) {
        // libtensorflow 2.9.1 wants CUDA 11.2: on a CUDA 12 machine the build for CUDA 12 may still find the GPU.
        attempts.push({
          method,
          ok: false,
          summary: `it installed and loads, but found no GPU it can use (${probe.device}; ${pkg.ownDownload})`,
        });
        log(`   ${method}: ${attempts.at(-1)!.summary}`);
        continue;
      }
      warnings.push(...gpuNote);
      const seconds = Math.round((Date.now() - started) / 1000);
      writeRecord(folder, pkg, method, seconds);
      attempts.push({ method, ok: true, summary: `installed in ${seconds} s; it loads; device: ${probe.device}` });
      log(`   ${method}: ${attempts.at(-1)!.summary}`);
      for (const warning of warnings) log(`   warning: ${warning}`);
      return { ok: true, folder, attempts, probe, warnings };
    } catch (error) {
      if (error instanceof InstallCancelled) {
        log('Cancelled; the unfinished install is left unused (no install record) and the next install starts over.');
        return { ok: false, cancelled: true, folder, attempts, warnings };
      }
      attempts.push({ method, ok: false, summary: `failed: ${error instanceof Error ? error.message : String(error)}` });
      log(`   ${method}: ${attempts.at(-1)!.summary}`);
    }
  }
  return { ok: false, folder, attempts, warnings };
}

async function installWithNpm(
  pkg: NativePackage,
  folder: string,
  env: NodeJS.ProcessEnv,
  options: InstallOptions,
): Promise<InstallAttempt> {
  const { tools, missing } = checkNpmPrerequisites(options.system ?? realBuildSystem(env));
  if (!tools) return { method: 'npm', ok: false, summary: missing.map((m) => m.message).join(' '), missing };
  const unreachable = await downloadHostUnreachable(env);
  if (unreachable) {
    return { method: 'npm', ok: false, summary: `skipped: its install downloads ${pkg.ownDownload}, and ${unreachable}.` };
  }
  writePackageJson(folder, pkg, {});
  const run = await runLogged(tools.npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', '--foreground-scripts'], {
    cwd: folder,
    env,
    log: (line) => options.log(`   ${line}`),
    signal: options.signal,
  });
  if (run.code !== 0) {
    const why = run.tail.find((line) => /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|certificate/i.test(line)) ?? run.tail.at(-1) ?? '';
    return {
      method: 'npm',
      ok: false,
      summary: `npm install failed (exit ${run.code ?? run.signal}): ${why.replace(/^npm error\s*/, '')}`,
    };
  }
  return { method: 'npm', ok: true, summary: 'npm installed it' };
}

/** Why storage.googleapis.com (where tfjs-node's install downloads from) cannot be reached, or undefined if it can. */
async function downloadHostUnreachable(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  // Behind a proxy the name may not resolve here and still download: let npm try.
  if (['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'npm_config_https_proxy'].some((name) => env[name])) return undefined;
  try {
    await Promise.race([
      lookup('storage.googleapis.com'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 5000).unref()),
    ]);
    return undefined;
  } catch (error) {
    return `storage.googleapis.com cannot be resolved here (${(error as { code?: string }).code ?? (error as Error).message})`;
  }
}

async function buildFromWheel(
  pkg: NativePackage,
  root: string,
  folder: string,
  env: NodeJS.ProcessEnv,
  options: InstallOptions,
): Promise<InstallAttempt> {
  const { log, signal } = options;
  const { tools, missing } = checkBuildPrerequisites(pkg, options.system ?? realBuildSystem(env), root);
  if (!tools)
    return { method: 'wheel-build', ok: false, summary: `cannot build here: ${missing.map((m) => m.message).join(' ')}`, missing };
  // node-gyp's "gyp info" lines restate its command line; its warnings and errors stay.
  const indent = (line: string) => {
    if (!line.startsWith('gyp info')) log(`   ${line}`);
  };
  const step = async (what: string, command: string, args: readonly string[], cwd: string) => {
    log(`   ${what}…`);
    const run = await runLogged(command, args, { cwd, env, log: indent, signal });
    if (run.code !== 0) throw new Error(`${what} failed (exit ${run.code ?? run.signal}): ${errorLines(run.tail).join(' / ')}`);
  };

  writePackageJson(folder, pkg, { 'node-gyp': NODE_GYP_VERSION });
  await step(
    `npm install ${pkg.packageName}@${pkg.version} without its install script, and node-gyp@${NODE_GYP_VERSION}`,
    tools.npm,
    ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    folder,
  );
  const packageFolder = packageFolderIn(folder, pkg);
  if (!existsSync(path.join(packageFolder, 'binding.gyp')))
    throw new Error(`${packageFolder}/binding.gyp is missing after npm install; the package layout has changed`);

  const wheels = [pkg.tensorflowWheel, ...pkg.cudaWheels];
  const wheelDir = path.join(root, 'wheels');
  mkdirSync(wheelDir, { recursive: true });
  const requirements = path.join(wheelDir, `${pkg.shortName}-requirements.txt`);
  writeFileSync(requirements, wheels.map((w) => `${w.requirement} --hash=sha256:${w.sha256}\n`).join(''));
  const megabytes = wheels.reduce((sum, w) => sum + w.megabytes, 0);
  await step(
    `pip download ${wheels.map((w) => w.requirement).join(', ')} (${megabytes} MB, checked against pinned sha256)`,
    tools.python,
    [
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--only-binary=:all:',
      '--require-hashes',
      '--disable-pip-version-check',
      '--python-version',
      '3.11',
      '--implementation',
      'cp',
      '--abi',
      'cp311',
      '--platform',
      'manylinux_2_17_x86_64',
      '--platform',
      'manylinux2014_x86_64',
      '-r',
      requirements,
      '-d',
      wheelDir,
    ],
    wheelDir,
  );

  const deps = path.join(packageFolder, 'deps');
  for (const stale of ['deps', 'build', 'lib']) rmSync(path.join(packageFolder, stale), { recursive: true, force: true });
  await step(
    'unpacking the TensorFlow C library and its headers',
    tools.python,
    ['-c', LAYOUT_SCRIPT, path.join(packageFolder, 'binding'), deps, ...wheels.map((w) => path.join(wheelDir, w.file))],
    folder,
  );
  // binding.gyp links -ltensorflow -ltensorflow_framework; the binding then records the sonames and finds them through
  // its rpath $ORIGIN/../../deps/lib.
  symlinkSync('libtensorflow_cc.so.2', path.join(deps, 'lib', 'libtensorflow.so'));
  symlinkSync('libtensorflow_framework.so.2', path.join(deps, 'lib', 'libtensorflow_framework.so'));

  const nodeDir = findNodeHeaders(process.versions.node, env);
  if (!nodeDir) log("   Node's headers are not on this machine; node-gyp downloads them from nodejs.org.");
  await step(
    'compiling the binding with node-gyp (about 30 s)',
    process.execPath,
    [
      path.join(folder, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
      'rebuild',
      ...(nodeDir ? [`--nodedir=${nodeDir}`] : []),
      '--module_name=tfjs_binding',
      `--module_path=${path.join(packageFolder, 'lib', 'napi-v8')}`,
      '--napi_build_version=8',
      `--python=${tools.python}`,
    ],
    packageFolder,
  );
  for (const w of wheels) rmSync(path.join(wheelDir, w.file), { force: true });
  return { method: 'wheel-build', ok: true, summary: `built against ${pkg.tensorflowWheel.requirement}` };
}

/** What a gpu install lacks for a GPU: a CUDA library missing from deps/nvidia (named), or no NVIDIA driver. */
function gpuWarnings(folder: string, pkg: NativePackage, method: InstallMethod, probe: NativeProbe): string[] {
  const warnings: string[] = [];
  if (method === 'wheel-build') {
    const nvidia = path.join(packageFolderIn(folder, pkg), 'deps', 'nvidia');
    for (const library of CUDA_LIBRARIES) {
      const dir = path.join(nvidia, library.folder, 'lib');
      if (!existsSync(dir) || !readdirSync(dir).includes(library.file)) {
        warnings.push(
          `the CUDA library ${library.file} was not found in ${displayPath(dir)}; TensorFlow cannot use a GPU without it. Run \`embedtune backend install gpu --force\`.`,
        );
      }
    }
  }
  for (const missing of probe.devices?.missingLibraries ?? []) warnings.push(`TensorFlow could not load the CUDA library ${missing}.`);
  if (!probe.usingGpu) {
    warnings.push(
      `TensorFlow found no GPU, so this backend runs on the CPU${probe.devices?.noGpuReason ? ` (${probe.devices.noGpuReason})` : ''}. A GPU needs the NVIDIA driver (libcuda.so.1, at least version 525 for CUDA 12).`,
    );
  }
  return warnings;
}

/** The lines of a failed tool's output that say what went wrong: compiler and pip errors before node-gyp's trailer. */
export function errorLines(tail: readonly string[]): string[] {
  const trailer = /^gyp ERR! (System|command|cwd|node -v|node-gyp -v|not ok|stack\s+at)/;
  const errors = tail.filter((line) => /\berror\b|ERROR:|ERR!/i.test(line) && !trailer.test(line.trim()));
  return (errors.length > 0 ? errors.slice(0, 3) : tail.slice(-3)).map((line) => line.trim());
}

function writePackageJson(folder: string, pkg: NativePackage, extra: Record<string, string>): void {
  const manifest = {
    name: `embedtune-${pkg.shortName}-cache`,
    private: true,
    description: 'Written by `embedtune backend install`: the native TensorFlow backend the EmbedTune trainer loads.',
    dependencies: { [pkg.packageName]: pkg.version, ...extra },
  };
  writeFileSync(path.join(folder, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

function writeRecord(folder: string, pkg: NativePackage, method: InstallMethod, seconds: number): void {
  const record: InstallRecord = {
    packageName: pkg.packageName,
    version: pkg.version,
    variant: pkg.variant,
    method,
    tensorflow: method === 'npm' ? pkg.ownDownload : `${pkg.tensorflowWheel.requirement} (PyPI)`,
    installedAt: new Date().toISOString(),
    seconds,
  };
  writeFileSync(path.join(folder, INSTALL_RECORD), `${JSON.stringify(record, null, 2)}\n`);
}

/** Deletes an install folder (both variants when `variant` is undefined); returns what it removed. */
export function removeNativeBackend(variant: NativeVariant | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const root = nativeCacheRoot(env);
  const removed: string[] = [];
  for (const pkg of Object.values(NATIVE_PACKAGES)) {
    if (variant && pkg.variant !== variant) continue;
    const folder = installFolder(root, pkg);
    if (!existsSync(folder)) continue;
    // The record first, so that a trainer starting meanwhile does not load a folder being deleted.
    rmSync(path.join(folder, INSTALL_RECORD), { force: true });
    rmSync(folder, { recursive: true, force: true });
    removed.push(folder);
  }
  return removed;
}
