import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NativePackage, NativeVariant } from './nativePackages';

/** The environment variables that move the cache and point at another install; the editor's settings set them. */
export const CACHE_DIR_VARIABLE = 'EMBEDTUNE_NATIVE_BACKENDS_DIR';
export const EXPLICIT_INSTALL_VARIABLE = 'EMBEDTUNE_NATIVE_BACKEND';

/** The file an install writes last, so that a half-finished install is never mistaken for one. */
export const INSTALL_RECORD = 'embedtune-install.json';

export interface InstallRecord {
  readonly packageName: string;
  readonly version: string;
  readonly variant: NativeVariant;
  /** 'npm' (the package's own libtensorflow download) or 'wheel-build' (binding built against PyPI's TensorFlow). */
  readonly method: 'npm' | 'wheel-build';
  /** Where the TensorFlow C library came from, e.g. "tensorflow-cpu==2.12.1 (PyPI)". */
  readonly tensorflow: string;
  readonly installedAt: string;
  readonly seconds: number;
}

/**
 * The per-user folder that holds installed backends, outside the extension's folder so that an extension update
 * keeps them: $EMBEDTUNE_NATIVE_BACKENDS_DIR, else $XDG_CACHE_HOME/embedtune/native-backends, else
 * ~/.cache/embedtune/native-backends (%LOCALAPPDATA% on Windows).
 */
export function nativeCacheRoot(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  const override = env[CACHE_DIR_VARIABLE]?.trim();
  if (override) return path.resolve(override);
  const xdg = env.XDG_CACHE_HOME?.trim();
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and is to be ignored.
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'embedtune', 'native-backends');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'embedtune', 'native-backends');
  return path.join(home, '.cache', 'embedtune', 'native-backends');
}

/** One folder per package and version: `<root>/tfjs-node-4.22.0`. */
export function installFolder(root: string, pkg: Pick<NativePackage, 'shortName' | 'version'>): string {
  return path.join(root, `${pkg.shortName}-${pkg.version}`);
}

/** Where the package itself lies inside an install folder. */
export function packageFolderIn(install: string, pkg: Pick<NativePackage, 'packageName'>): string {
  return path.join(install, 'node_modules', ...pkg.packageName.split('/'));
}

/** The install record of a finished install, or undefined when there is none or it is unreadable. */
export function readInstallRecord(install: string): InstallRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(path.join(install, INSTALL_RECORD), 'utf8')) as InstallRecord;
    return typeof record.packageName === 'string' && typeof record.version === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}
