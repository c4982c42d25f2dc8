import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import {
  EXPLICIT_INSTALL_VARIABLE,
  installFolder,
  nativeCacheRoot,
  packageFolderIn,
  readInstallRecord,
  type InstallRecord,
} from './nativeBackendCache';
import { NATIVE_PACKAGES, type NativeVariant } from './nativePackages';

/** Where a native package was found, in the order they are tried. */
export type NativeSource = 'setting' | 'node_modules' | 'cache';

export interface LocatedNativePackage {
  readonly variant: NativeVariant;
  readonly packageName: string;
  /** The package's own folder (the one with its package.json). */
  readonly folder: string;
  readonly version: string;
  readonly source: NativeSource;
  /** The install record, for a package that `embedtune backend install` put there. */
  readonly record?: InstallRecord;
}

export interface LocateResult {
  readonly found?: LocatedNativePackage;
  /** Each place looked at and why it did not serve, for the "not installed" reason. */
  readonly tried: readonly string[];
}

export interface LocateOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The file module resolution starts from: the CLI bundle, or this file under tsx. */
  readonly resolveFrom?: string;
}

/**
 * Finds a native package, in this order:
 * 1. the install that EMBEDTUNE_NATIVE_BACKEND names (the editor's `embedtune.nativeBackend.path` setting sets it):
 *    an install folder (with node_modules/@tensorflow/…) or the package folder itself;
 * 2. wherever Node's module resolution finds it from the engine: a node_modules (npm's optional dependency) or
 *    NODE_PATH;
 * 3. the per-user cache that `embedtune backend install` fills, <cache>/<package>-<version>, but only once its
 *    install record is written (a half-finished install is not used).
 * An explicit setting that holds no such package is reported in `tried` and the search goes on.
 */
export function locateNativePackage(variant: NativeVariant, options: LocateOptions = {}): LocateResult {
  const env = options.env ?? process.env;
  const pkg = NATIVE_PACKAGES[variant];
  const tried: string[] = [];

  const explicit = env[EXPLICIT_INSTALL_VARIABLE]?.trim();
  if (explicit) {
    const base = path.resolve(explicit);
    const folder = [packageFolderIn(base, pkg), base].find((candidate) => packageNameAt(candidate) === pkg.packageName);
    if (folder) return { found: described(variant, folder, 'setting', readInstallRecord(base)), tried };
    tried.push(`${EXPLICIT_INSTALL_VARIABLE}=${base} holds no ${pkg.packageName}`);
  }

  const resolved = resolvePackage(pkg.packageName, options.resolveFrom ?? __filename);
  if (resolved) return { found: described(variant, resolved, 'node_modules'), tried };
  tried.push('not in node_modules or NODE_PATH');

  const install = installFolder(nativeCacheRoot(env), pkg);
  const record = readInstallRecord(install);
  const folder = packageFolderIn(install, pkg);
  if (record && packageNameAt(folder) === pkg.packageName) return { found: described(variant, folder, 'cache', record), tried };
  tried.push(existsSync(install) ? `${install} is an unfinished install (no install record)` : `not installed in ${install}`);
  return { tried };
}

function described(variant: NativeVariant, folder: string, source: NativeSource, record?: InstallRecord): LocatedNativePackage {
  const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { name: string; version: string };
  return { variant, packageName: manifest.name, folder, version: manifest.version, source, ...(record ? { record } : {}) };
}

function packageNameAt(folder: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

function resolvePackage(packageName: string, from: string): string | undefined {
  try {
    return path.dirname(createRequire(from).resolve(`${packageName}/package.json`));
  } catch {
    return undefined;
  }
}

/** A path for messages, with the home folder as ~. */
export function displayPath(folder: string, home = process.env.HOME): string {
  return home && folder.startsWith(home + path.sep) ? `~${folder.slice(home.length)}` : folder;
}
