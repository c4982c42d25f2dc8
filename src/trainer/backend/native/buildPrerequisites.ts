import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import * as path from 'node:path';
import { buildDiskNeedMiB, type NativePackage } from './nativePackages';

/** One thing an install needs and lacks: what is missing, and what the user can do about it. */
export interface MissingPrerequisite {
  readonly what: 'platform' | 'node' | 'npm' | 'compiler' | 'make' | 'python' | 'pip' | 'disk';
  readonly message: string;
}

/** What an install asks of the machine; the real one looks, tests pass a made-up one. */
export interface BuildSystem {
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  readonly napiVersion: number;
  which(program: string): string | undefined;
  /** A Python 3 whose `-m pip` works, or undefined. */
  pythonWithPip(): { python?: string; pip: boolean };
  /** MiB free on the disk that holds `dir` (or its nearest existing parent). */
  freeMiB(dir: string): number | undefined;
}

export interface BuildTools {
  readonly npm: string;
  readonly python: string;
}

/** The tools the npm method needs: npm itself (it installs the package, which downloads its own libtensorflow). */
export function checkNpmPrerequisites(system: BuildSystem): { tools?: { npm: string }; missing: MissingPrerequisite[] } {
  const npm = system.which('npm');
  if (npm) return { tools: { npm }, missing: [] };
  return { missing: [missingNpm()] };
}

/**
 * The tools the offline build needs, checked before anything is downloaded so that every gap is reported at once:
 * Linux x86_64 (the wheels are manylinux x86_64), N-API 8, npm, a C++ compiler and make for node-gyp, Python 3 with
 * pip (gyp is Python, and pip downloads the wheels), and the disk space for the wheels and the unpacked libraries.
 */
export function checkBuildPrerequisites(
  pkg: NativePackage,
  system: BuildSystem,
  cacheRoot: string,
): { tools?: BuildTools; missing: MissingPrerequisite[] } {
  const missing: MissingPrerequisite[] = [];
  if (system.platform !== 'linux' || system.arch !== 'x64') {
    missing.push({
      what: 'platform',
      message: `the offline build runs only on Linux x86_64 (PyPI's TensorFlow wheels with the C library are manylinux x86_64); this is ${system.platform}-${system.arch}. Use the npm install where it can reach storage.googleapis.com, or train on wasm.`,
    });
  }
  if (system.napiVersion < 8) {
    missing.push({
      what: 'node',
      message: `this Node.js has N-API ${system.napiVersion}; the binding needs N-API 8 (Node.js 20 or newer).`,
    });
  }
  const npm = system.which('npm');
  if (!npm) missing.push(missingNpm());
  if (!system.which('g++') && !system.which('c++')) {
    missing.push({
      what: 'compiler',
      message:
        'no C++ compiler: neither g++ nor c++ is on PATH, and node-gyp compiles the binding with one. Install it: `sudo apt-get install g++ make` (Debian, Ubuntu), `sudo dnf install gcc-c++ make` (Fedora).',
    });
  }
  if (!system.which('make')) {
    missing.push({
      what: 'make',
      message:
        'no make on PATH; node-gyp drives the compiler with it. Install it: `sudo apt-get install make` (Debian, Ubuntu), `sudo dnf install make` (Fedora).',
    });
  }
  const { python, pip } = system.pythonWithPip();
  if (!python) {
    missing.push({
      what: 'python',
      message:
        'no Python 3 (python3 on PATH): node-gyp runs gyp with it, and pip downloads the TensorFlow wheel. Install it: `sudo apt-get install python3 python3-pip` (Debian, Ubuntu), `sudo dnf install python3 python3-pip` (Fedora).',
    });
  } else if (!pip) {
    missing.push({
      what: 'pip',
      message: `${python} has no pip (\`${python} -m pip --version\` fails), and pip downloads the TensorFlow wheel. Install it: \`sudo apt-get install python3-pip\` (Debian, Ubuntu), or \`${python} -m ensurepip --user\`.`,
    });
  }
  const needMiB = buildDiskNeedMiB(pkg);
  const freeMiB = system.freeMiB(cacheRoot);
  if (freeMiB !== undefined && freeMiB < needMiB) {
    missing.push({
      what: 'disk',
      message: `not enough disk space in ${cacheRoot}: the build needs about ${gib(needMiB)} (the ${pkg.tensorflowWheel.requirement} wheel${pkg.cudaWheels.length > 0 ? ' and the CUDA and cuDNN wheels' : ''}, unpacked), and ${gib(freeMiB)} is free. Free some space, or point the cache at a disk with room (the setting embedtune.nativeBackend.cacheDir, or EMBEDTUNE_NATIVE_BACKENDS_DIR).`,
    });
  }
  return npm && python && pip && missing.length === 0 ? { tools: { npm, python }, missing } : { missing };
}

function missingNpm(): MissingPrerequisite {
  return {
    what: 'npm',
    message:
      'npm is not on PATH, and it installs the tfjs-node package. Install Node.js 20 or newer, which brings npm (nodejs.org, or `sudo apt-get install nodejs npm`).',
  };
}

function gib(mib: number): string {
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib} MiB`;
}

/** The machine as it is. */
export function realBuildSystem(env: NodeJS.ProcessEnv = process.env): BuildSystem {
  return {
    platform: process.platform,
    arch: process.arch,
    napiVersion: Number(process.versions.napi ?? 0),
    which: (program) => whichIn(program, env),
    pythonWithPip: () => {
      const python = whichIn('python3', env);
      if (!python) return { pip: false };
      const check = spawnSync(python, ['-m', 'pip', '--version'], { env, encoding: 'utf8', timeout: 30_000 });
      return { python, pip: check.status === 0 };
    },
    freeMiB: (dir) => {
      for (let at = path.resolve(dir); ; at = path.dirname(at)) {
        if (existsSync(at)) {
          const stats = statfsSync(at);
          return Math.floor((stats.bavail * stats.bsize) / 2 ** 20);
        }
        if (path.dirname(at) === at) return undefined;
      }
    },
  };
}

/** The executable `program` on PATH, as a shell would find it. */
export function whichIn(program: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const extension of extensions) {
      const candidate = path.join(dir, program + extension);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // Not here.
      }
    }
  }
  return undefined;
}

/**
 * The folder above `include/node` with Node's headers and common.gypi, so that node-gyp needs no download:
 * $EMBEDTUNE_NODEDIR, the prefix of the node on PATH (Debian's nodejs and Node's tarballs ship the headers there),
 * or node-gyp's own cache. The binding uses N-API only, whose ABI is the same across Node versions, so any Node 20+
 * headers build it. Undefined lets node-gyp download them from nodejs.org.
 */
export function findNodeHeaders(nodeVersion: string, env: NodeJS.ProcessEnv = process.env, home = env.HOME ?? ''): string | undefined {
  const node = whichIn('node', env);
  const candidates = [
    env.EMBEDTUNE_NODEDIR,
    node ? path.dirname(path.dirname(node)) : undefined,
    path.join(home, '.cache', 'node-gyp', nodeVersion),
  ];
  return candidates.find(
    (candidate): candidate is string =>
      candidate !== undefined &&
      candidate !== '' &&
      existsSync(path.join(candidate, 'include', 'node', 'node_api.h')) &&
      existsSync(path.join(candidate, 'include', 'node', 'common.gypi')),
  );
}
