import { formatPath, type ConfigPath } from './configDiagnostic';
import type { SchemaNavigator } from './schemaNavigator';

/**
 * Typed reads of a config that may be partly invalid. A value of the wrong type, or one the schema rejected,
 * reads as the schema default, so checks beyond the schema never trip over what schema validation already reports.
 */
export class ConfigView {
  constructor(
    readonly value: unknown,
    private readonly navigator: SchemaNavigator,
    /** Paths (as `formatPath` writes them) whose values failed schema validation. */
    private readonly rejectedPaths: ReadonlySet<string> = new Set(),
  ) {}

  raw(path: ConfigPath): unknown {
    let current: unknown = this.value;
    for (const segment of path) {
      if (current === null || typeof current !== 'object') return undefined;
      current = (current as Record<string | number, unknown>)[segment];
    }
    return current;
  }

  isSet(path: ConfigPath): boolean {
    const value = this.raw(path);
    return value !== undefined && value !== null;
  }

  string(path: ConfigPath): string | undefined {
    return this.typed(path, (v): v is string => typeof v === 'string' && v.length > 0);
  }

  number(path: ConfigPath): number | undefined {
    return this.typed(path, (v): v is number => typeof v === 'number' && Number.isFinite(v));
  }

  boolean(path: ConfigPath): boolean | undefined {
    return this.typed(path, (v): v is boolean => typeof v === 'boolean');
  }

  /** A number of steps, or `'epoch'`. */
  interval(path: ConfigPath): number | 'epoch' | undefined {
    return this.typed(path, (v): v is number | 'epoch' => v === 'epoch' || (Number.isInteger(v) && (v as number) >= 1));
  }

  private isRejected(path: ConfigPath): boolean {
    if (this.rejectedPaths.size === 0) return false;
    for (let depth = 1; depth <= path.length; depth++) if (this.rejectedPaths.has(formatPath(path.slice(0, depth)))) return true;
    return false;
  }

  strings(path: ConfigPath): string[] | undefined {
    return this.typed(path, (v): v is string[] => Array.isArray(v) && v.every((item) => typeof item === 'string'));
  }

  private typed<T>(path: ConfigPath, accept: (value: unknown) => value is T): T | undefined {
    const value = this.raw(path);
    if (accept(value) && !this.isRejected(path)) return value;
    const fallback = this.navigator.schemaAt(path)?.default;
    return accept(fallback) ? fallback : undefined;
  }
}
