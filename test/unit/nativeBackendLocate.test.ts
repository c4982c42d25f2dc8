import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkBuildPrerequisites, type BuildSystem } from '../../src/trainer/backend/native/buildPrerequisites';
import { errorLines } from '../../src/trainer/backend/native/installNativeBackend';
import { locateNativePackage } from '../../src/trainer/backend/native/locateNativeBackend';
import { INSTALL_RECORD, installFolder, nativeCacheRoot, packageFolderIn } from '../../src/trainer/backend/native/nativeBackendCache';
import { NATIVE_PACKAGES } from '../../src/trainer/backend/native/nativePackages';
import { describeTensorflowDevices, parseTensorflowDeviceLog } from '../../src/trainer/backend/native/tensorflowDevices';

const scratch = mkdtempSync(join(tmpdir(), 'embedtune-native-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A folder that looks like an installed package to the locator (which reads package.json and never loads it). */
function fakePackage(folder: string, name: string, version = '4.22.0'): string {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name, version }));
  return folder;
}

/** An install as `embedtune backend install` leaves it in the cache, with or without its install record. */
function cacheInstall(root: string, variant: 'cpu' | 'gpu', finished = true): string {
  const pkg = NATIVE_PACKAGES[variant];
  const install = installFolder(root, pkg);
  const folder = fakePackage(packageFolderIn(install, pkg), pkg.packageName);
  if (finished)
    writeFileSync(
      join(install, INSTALL_RECORD),
      JSON.stringify({ packageName: pkg.packageName, version: pkg.version, variant, method: 'wheel-build' }),
    );
  return folder;
}

// Resolution from a folder with no node_modules above it, so the repo's own node_modules play no part.
const isolated = join(scratch, 'engine', 'cli.js');

describe('where the native backend cache lives', () => {
  it('follows $EMBEDTUNE_NATIVE_BACKENDS_DIR, then $XDG_CACHE_HOME, then ~/.cache, one folder per package and version', () => {
    assert.equal(nativeCacheRoot({ EMBEDTUNE_NATIVE_BACKENDS_DIR: '/x/backends', XDG_CACHE_HOME: '/xdg' }, '/home/u'), '/x/backends');
    assert.equal(nativeCacheRoot({ XDG_CACHE_HOME: '/xdg' }, '/home/u'), '/xdg/embedtune/native-backends');
    assert.equal(nativeCacheRoot({ XDG_CACHE_HOME: 'relative/ignored' }, '/home/u'), '/home/u/.cache/embedtune/native-backends');
    assert.equal(nativeCacheRoot({}, '/home/u'), '/home/u/.cache/embedtune/native-backends');
    assert.equal(installFolder('/c', NATIVE_PACKAGES.cpu), '/c/tfjs-node-4.22.0');
    assert.equal(installFolder('/c', NATIVE_PACKAGES.gpu), '/c/tfjs-node-gpu-4.22.0');
  });
});

describe('locating the native backend', () => {
  it('finds a finished install in the cache by itself, with no NODE_PATH', () => {
    const root = join(scratch, 'cache-a');
    const folder = cacheInstall(root, 'cpu');
    const { found } = locateNativePackage('cpu', { env: { EMBEDTUNE_NATIVE_BACKENDS_DIR: root }, resolveFrom: isolated });
    assert.equal(found?.folder, folder);
    assert.equal(found?.source, 'cache');
    assert.equal(found?.record?.method, 'wheel-build');
  });

  it('ignores an unfinished install (no install record) and says so', () => {
    const root = join(scratch, 'cache-b');
    cacheInstall(root, 'gpu', false);
    const { found, tried } = locateNativePackage('gpu', { env: { EMBEDTUNE_NATIVE_BACKENDS_DIR: root }, resolveFrom: isolated });
    assert.equal(found, undefined);
    assert.match(tried.join('; '), /tfjs-node-gpu-4\.22\.0 is an unfinished install \(no install record\)/);
  });

  it('prefers the install the setting names over node_modules and the cache, and node_modules over the cache', () => {
    const root = join(scratch, 'cache-c');
    cacheInstall(root, 'cpu');
    const explicit = join(scratch, 'elsewhere');
    const explicitFolder = fakePackage(join(explicit, 'node_modules', '@tensorflow', 'tfjs-node'), '@tensorflow/tfjs-node');
    const engine = join(scratch, 'with-modules');
    const moduleFolder = fakePackage(join(engine, 'node_modules', '@tensorflow', 'tfjs-node'), '@tensorflow/tfjs-node');
    const from = join(engine, 'dist', 'cli.js');

    const bySetting = locateNativePackage('cpu', {
      env: { EMBEDTUNE_NATIVE_BACKENDS_DIR: root, EMBEDTUNE_NATIVE_BACKEND: explicit },
      resolveFrom: from,
    });
    assert.deepEqual([bySetting.found?.source, bySetting.found?.folder], ['setting', explicitFolder]);
    // The package folder itself is accepted too.
    const byPackageFolder = locateNativePackage('cpu', { env: { EMBEDTUNE_NATIVE_BACKEND: explicitFolder }, resolveFrom: isolated });
    assert.equal(byPackageFolder.found?.folder, explicitFolder);

    const byModules = locateNativePackage('cpu', { env: { EMBEDTUNE_NATIVE_BACKENDS_DIR: root }, resolveFrom: from });
    assert.deepEqual([byModules.found?.source, byModules.found?.folder], ['node_modules', moduleFolder]);
  });

  it('goes on to the cache when the named install lacks the package, and reports it', () => {
    const root = join(scratch, 'cache-d');
    const folder = cacheInstall(root, 'cpu');
    const empty = join(scratch, 'empty-install');
    mkdirSync(empty, { recursive: true });
    const { found, tried } = locateNativePackage('cpu', {
      env: { EMBEDTUNE_NATIVE_BACKENDS_DIR: root, EMBEDTUNE_NATIVE_BACKEND: empty },
      resolveFrom: isolated,
    });
    assert.equal(found?.folder, folder);
    assert.deepEqual(tried, [`EMBEDTUNE_NATIVE_BACKEND=${empty} holds no @tensorflow/tfjs-node`, 'not in node_modules or NODE_PATH']);
  });
});

function system(
  overrides: Partial<BuildSystem> & { have?: string[]; pip?: { python?: string; pip: boolean }; free?: number },
): BuildSystem {
  const have = new Set(overrides.have ?? ['npm', 'g++', 'make']);
  return {
    platform: 'linux',
    arch: 'x64',
    napiVersion: 9,
    which: (program) => (have.has(program) ? `/usr/bin/${program}` : undefined),
    pythonWithPip: () => overrides.pip ?? { python: '/usr/bin/python3', pip: true },
    freeMiB: () => overrides.free ?? 100_000,
    ...overrides,
  };
}

describe('what the offline build needs, checked before any download', () => {
  it('passes with npm, g++, make, Python with pip and the disk space', () => {
    const { tools, missing } = checkBuildPrerequisites(NATIVE_PACKAGES.cpu, system({}), '/c');
    assert.deepEqual(missing, []);
    assert.deepEqual(tools, { npm: '/usr/bin/npm', python: '/usr/bin/python3' });
  });

  it('names each missing tool with how to install it: compiler, make, Python', () => {
    const { tools, missing } = checkBuildPrerequisites(NATIVE_PACKAGES.cpu, system({ have: ['npm'], pip: { pip: false } }), '/c');
    assert.equal(tools, undefined);
    assert.deepEqual(
      missing.map((m) => m.what),
      ['compiler', 'make', 'python'],
    );
    assert.match(missing[0]!.message, /^no C\+\+ compiler: neither g\+\+ nor c\+\+ is on PATH.*sudo apt-get install g\+\+ make/);
    assert.match(missing[2]!.message, /^no Python 3 \(python3 on PATH\).*python3-pip/);
  });

  it('tells a Python without pip apart from no Python, and npm missing', () => {
    const { missing } = checkBuildPrerequisites(
      NATIVE_PACKAGES.cpu,
      system({ have: ['g++', 'make'], pip: { python: '/usr/bin/python3', pip: false } }),
      '/c',
    );
    assert.deepEqual(
      missing.map((m) => m.what),
      ['npm', 'pip'],
    );
    assert.match(missing[1]!.message, /^\/usr\/bin\/python3 has no pip .*ensurepip/);
  });

  it('refuses too little disk, with the sizes and the setting that moves the cache; gpu needs far more than cpu', () => {
    const cpu = checkBuildPrerequisites(NATIVE_PACKAGES.cpu, system({ free: 500 }), '/c').missing;
    assert.deepEqual(
      cpu.map((m) => m.what),
      ['disk'],
    );
    assert.match(
      cpu[0]!.message,
      /^not enough disk space in \/c: the build needs about 1\.1 GiB .*and 500 MiB is free\. .*embedtune\.nativeBackend\.cacheDir.*EMBEDTUNE_NATIVE_BACKENDS_DIR/,
    );
    const gpu = checkBuildPrerequisites(NATIVE_PACKAGES.gpu, system({ free: 4000 }), '/c').missing;
    assert.match(gpu[0]!.message, /needs about [89]\.\d GiB \(the tensorflow==2\.20\.0 wheel and the CUDA and cuDNN wheels, unpacked\)/);
    assert.equal(checkBuildPrerequisites(NATIVE_PACKAGES.gpu, system({ free: 9000 }), '/c').missing.length, 0);
  });

  it('says the offline build is Linux x86_64 only', () => {
    const { missing } = checkBuildPrerequisites(NATIVE_PACKAGES.cpu, system({ platform: 'darwin', arch: 'arm64' }), '/c');
    assert.match(missing[0]!.message, /runs only on Linux x86_64 .*this is darwin-arm64/);
  });

  it("picks the compiler's error out of node-gyp's output for the summary", () => {
    const tail = [
      '../binding/tfjs_backend.cc:30:10: fatal error: tensorflow/core/platform/ctstring_internal.h: No such file or directory',
      'compilation terminated.',
      'gyp ERR! build error ',
      'gyp ERR! node -v v20.20.2',
      'gyp ERR! not ok ',
    ];
    assert.deepEqual(errorLines(tail), [tail[0], 'gyp ERR! build error']);
  });
});

describe("reading TensorFlow's devices from its log", () => {
  it('names the GPU and its memory, as TensorFlow logs it when it creates the device', () => {
    const log =
      'I0000 00:00:1764780000.123456   12345 gpu_device.cc:2020] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 137997 MB memory:  -> device: 0, name: NVIDIA H200, pci bus id: 0000:00:05.0, compute capability: 9.0\n';
    const report = parseTensorflowDeviceLog(log);
    assert.deepEqual(report.gpus, [
      { device: '/job:localhost/replica:0/task:0/device:GPU:0', memoryMiB: 137997, name: 'NVIDIA H200', computeCapability: '9.0' },
    ]);
    assert.equal(describeTensorflowDevices(report, true), 'GPU 0: NVIDIA H200, 134.8 GiB (compute capability 9.0)');
  });

  it('says no GPU was found, and why, when TensorFlow runs on the CPU', () => {
    const noDriver = parseTensorflowDeviceLog(
      'E0000 00:00:1764780000.1 cuda_executor.cc:1228] INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\nW0000 gpu_device.cc:2341] Cannot dlopen some GPU libraries. Please make sure\n',
    );
    assert.equal(describeTensorflowDevices(noDriver, false), 'no GPU found, running on the CPU (Cannot dlopen some GPU libraries.)');
    const missing = parseTensorflowDeviceLog(
      "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file\n",
    );
    assert.equal(describeTensorflowDevices(missing, false), 'no GPU found, running on the CPU (TensorFlow could not load libcudnn.so.8)');
    assert.equal(describeTensorflowDevices(parseTensorflowDeviceLog(''), false), 'no GPU found, running on the CPU');
  });
});
