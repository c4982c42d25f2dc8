import { parseArgs } from 'node:util';
import { installNativeBackend, removeNativeBackend, type InstallMethod } from '../backend/native/installNativeBackend';
import { displayPath, locateNativePackage } from '../backend/native/locateNativeBackend';
import { CACHE_DIR_VARIABLE, EXPLICIT_INSTALL_VARIABLE, nativeCacheRoot } from '../backend/native/nativeBackendCache';
import { NATIVE_PACKAGES, NATIVE_VARIANTS, type NativeVariant } from '../backend/native/nativePackages';
import { probeNativeBackend } from '../backend/native/probeNativeBackend';
import { UsageError, type CliIo } from './cliIo';

export const BACKEND_USAGE = `embedtune backend install [cpu|gpu] [--method npm|build] [--force] | status [--json] | remove [cpu|gpu]

Installs, reports and removes the native TensorFlow backend (tfjs-node for cpu, tfjs-node-gpu for gpu), which trains
several times faster than WebAssembly. It goes into a per-user cache, $${CACHE_DIR_VARIABLE} or
$XDG_CACHE_HOME/embedtune/native-backends (~/.cache/embedtune/native-backends), one folder per package and version,
and the trainer finds it there by itself. $${EXPLICIT_INSTALL_VARIABLE} points the trainer at another install.
  install cpu|gpu   try npm's install (downloads libtensorflow), then an offline build of the binding against PyPI's
                    TensorFlow wheel (tensorflow-cpu; for gpu tensorflow 2.20 with the CUDA 12 and cuDNN 9 wheels).
                    Needs npm; the build also needs g++, make, Python 3 with pip, and about 1 GB (cpu) or 8 GB (gpu).
    --method npm|build   try only that method
    --force              install again even when a working install is there
  status            where each backend is found, whether it loads, and on what device
    --json          print the report as JSON
  remove [cpu|gpu]  delete the installed backend (both when no variant is given)`;

export async function runBackend(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case 'install':
      return install(rest, io);
    case 'status':
      return status(rest, io);
    case 'remove':
      return remove(rest, io);
    default:
      throw new UsageError(action ? `unknown action "${action}".` : 'backend needs an action: install, status or remove.', BACKEND_USAGE);
  }
}

function variantOf(value: string | undefined, fallback?: NativeVariant): NativeVariant | undefined {
  if (value === undefined) return fallback;
  if (value === 'cpu' || value === 'gpu') return value;
  throw new UsageError(`"${value}" is not a backend variant; use cpu or gpu.`, BACKEND_USAGE);
}

async function install(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { method: { type: 'string' }, force: { type: 'boolean', default: false } },
  });
  if (positionals.length > 1) throw new UsageError('install takes one variant: cpu or gpu.', BACKEND_USAGE);
  const variant = variantOf(positionals[0], 'cpu')!;
  const methods: readonly InstallMethod[] | undefined =
    values.method === undefined ? undefined : values.method === 'npm' ? ['npm'] : values.method === 'build' ? ['wheel-build'] : undefined;
  if (values.method !== undefined && !methods) throw new UsageError(`--method is npm or build, not "${values.method}".`, BACKEND_USAGE);
  const pkg = NATIVE_PACKAGES[variant];
  io.out(`Installing ${pkg.packageName}@${pkg.version} into ${displayPath(nativeCacheRoot())}…`);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await installNativeBackend({ variant, methods, force: values.force, log: io.out, signal: controller.signal });
    if (result.cancelled) {
      io.err('embedtune backend install: cancelled.');
      return 130;
    }
    if (!result.ok) {
      io.err(`embedtune backend install: ${pkg.packageName} could not be installed. Each way tried:`);
      for (const attempt of result.attempts) io.err(`  ${attempt.method}: ${attempt.summary}`);
      io.err('Training still works on WebAssembly (backend: auto picks it).');
      return 1;
    }
    io.out(`Installed: ${displayPath(result.folder)}`);
    io.out(`Device: ${result.probe?.device ?? 'unknown'}`);
    io.out('The trainer uses it from the next run on (backend: auto, or node' + (variant === 'gpu' ? '-gpu' : '') + ').');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function status(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new UsageError('status takes no arguments.', BACKEND_USAGE);
  const report = await backendStatus();
  if (values.json) {
    io.out(JSON.stringify(report, null, 2));
    return 0;
  }
  io.out(
    `Cache: ${displayPath(report.cache)}${process.env[EXPLICIT_INSTALL_VARIABLE] ? ` (${EXPLICIT_INSTALL_VARIABLE}=${process.env[EXPLICIT_INSTALL_VARIABLE]})` : ''}`,
  );
  for (const entry of report.backends) {
    if (!entry.found) {
      io.out(
        `${entry.variant}: ${entry.packageName} not installed (${entry.tried.join('; ')}). Install it: embedtune backend install ${entry.variant}`,
      );
    } else if (entry.loads) {
      io.out(
        `${entry.variant}: ${entry.packageName} ${entry.version} from ${entry.source} ${displayPath(entry.folder!)}: loads, TensorFlow ${entry.tensorflow}; device: ${entry.device} (${entry.method ?? 'not installed by embedtune'})`,
      );
    } else {
      io.out(
        `${entry.variant}: ${entry.packageName} ${entry.version} from ${entry.source} ${displayPath(entry.folder!)}: does NOT load: ${entry.error}`,
      );
    }
  }
  return 0;
}

export interface BackendStatusEntry {
  readonly variant: NativeVariant;
  readonly packageName: string;
  readonly found: boolean;
  readonly tried: readonly string[];
  readonly source?: string;
  readonly folder?: string;
  readonly version?: string;
  readonly method?: string;
  readonly loads?: boolean;
  readonly tensorflow?: string;
  readonly device?: string;
  readonly error?: string;
}

/** Where each native backend is found and whether it loads, checked in a child process each. */
export async function backendStatus(env: NodeJS.ProcessEnv = process.env): Promise<{ cache: string; backends: BackendStatusEntry[] }> {
  const backends: BackendStatusEntry[] = [];
  for (const variant of NATIVE_VARIANTS) {
    const pkg = NATIVE_PACKAGES[variant];
    const { found, tried } = locateNativePackage(variant, { env });
    if (!found) {
      backends.push({ variant, packageName: pkg.packageName, found: false, tried });
      continue;
    }
    const probe = await probeNativeBackend(found, { env });
    backends.push({
      variant,
      packageName: found.packageName,
      found: true,
      tried,
      source: found.source,
      folder: found.folder,
      version: found.version,
      ...(found.record ? { method: found.record.method } : {}),
      loads: probe.ok,
      ...(probe.ok ? { tensorflow: probe.tensorflow, device: probe.device } : { error: probe.error }),
    });
  }
  return { cache: nativeCacheRoot(env), backends };
}

function remove(args: string[], io: CliIo): number {
  if (args.length > 1) throw new UsageError('remove takes at most one variant: cpu or gpu.', BACKEND_USAGE);
  const removed = removeNativeBackend(variantOf(args[0]));
  if (removed.length === 0) io.out(`Nothing to remove in ${displayPath(nativeCacheRoot())}.`);
  for (const folder of removed) io.out(`Removed ${displayPath(folder)}`);
  return 0;
}
