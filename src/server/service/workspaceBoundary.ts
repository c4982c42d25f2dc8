import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';

/**
 * Which files the server may read for a config's data. In a trusted workspace, any. In an untrusted one (VS Code's
 * restricted mode, which the extension passes in `initializationOptions.workspaceTrusted`), only files inside the
 * workspace folders: a config from an unknown source must not make the hover show `../../etc/os-release`, nor path
 * completion list `/`. Links are followed before the check, so a link inside the workspace to a file outside is outside.
 */
export class WorkspaceBoundary {
  private readonly roots: readonly string[] | undefined;

  private constructor(roots: readonly string[] | undefined) {
    this.roots = roots?.map(realPath);
  }

  static unrestricted(): WorkspaceBoundary {
    return new WorkspaceBoundary(undefined);
  }

  /** An untrusted workspace: only what lies inside `folders` may be read (nothing, when there are none). */
  static within(folders: readonly string[]): WorkspaceBoundary {
    return new WorkspaceBoundary(folders);
  }

  get restricted(): boolean {
    return this.roots !== undefined;
  }

  allows(absolutePath: string): boolean {
    if (!this.roots) return true;
    const target = realPath(absolutePath);
    return this.roots.some((root) => {
      const inside = relative(root, target);
      return inside === '' || (!inside.startsWith('..') && !isAbsolute(inside));
    });
  }
}

/** The path with every link resolved; for a path that does not exist yet, its nearest existing ancestor is resolved. */
function realPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realPath(parent), basename(path));
  }
}
