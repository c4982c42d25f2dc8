import { formatPath, type ConfigPath } from './configDiagnostic';
import type { SchemaNavigator } from './schemaNavigator';
import { defaultLossFor, defaultMetricsFor } from './taskRequirements';

/**
 * Typed reads of a config that may be partly invalid. A value of the wrong type reads as the schema default.
 * A read that touches a value the schema rejected (or a value inside or around one) marks the view as tainted,
 * so that the caller can drop what a check concluded from it: a check must not reason about `task: clasification`
 * as if it said `embedding`.
 */
export class ConfigView {
  constructor(
    readonly value: unknown,
    private readonly navigator: SchemaNavigator,
    /** Paths (as `formatPath` writes them) whose values failed schema validation. */
    private readonly rejectedPaths: ReadonlySet<string> = new Set(),
  ) {}

  /** Set when a read since the last `resetTaint` touched a rejected value. */
  tainted = false;

  resetTaint(): void {
    this.tainted = false;
  }

  raw(path: ConfigPath): unknown {
    if (this.isRejected(path)) this.tainted = true;
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

  /** The string at `path`, or the schema's default there; only for keys whose schema states a default. */
  stringOrDefault(path: ConfigPath): string {
    return defaulted(path, this.string(path));
  }

  /** The number at `path`, or the schema's default there; only for keys whose schema states a default. */
  numberOrDefault(path: ConfigPath): number {
    return defaulted(path, this.number(path));
  }

  /** The boolean at `path`, or the schema's default there; only for keys whose schema states a default. */
  booleanOrDefault(path: ConfigPath): boolean {
    return defaulted(path, this.boolean(path));
  }

  /** The interval at `path`, or the schema's default there; only for keys whose schema states a default. */
  intervalOrDefault(path: ConfigPath): number | 'epoch' {
    return defaulted(path, this.interval(path));
  }

  /** `task`, or its default. */
  task(): string {
    return this.stringOrDefault(['task']);
  }

  /** `loss.type`, or the task's default loss (which no schema `default` can state), as the trainer resolves it. */
  lossType(): string {
    return this.string(['loss', 'type']) ?? defaultLossFor(this.task());
  }

  /** `evaluation.metrics`, or the task and loss's default metrics, as the trainer resolves them. */
  evaluationMetrics(): string[] {
    return this.strings(['evaluation', 'metrics']) ?? defaultMetricsFor(this.task(), this.lossType());
  }

  private isRejected(path: ConfigPath): boolean {
    if (this.rejectedPaths.size === 0) return false;
    const read = formatPath(path);
    for (const rejected of this.rejectedPaths) if (isWithin(rejected, read) || isWithin(read, rejected)) return true;
    return false;
  }

  strings(path: ConfigPath): string[] | undefined {
    return this.typed(path, (v): v is string[] => Array.isArray(v) && v.every((item) => typeof item === 'string'));
  }

  private typed<T>(path: ConfigPath, accept: (value: unknown) => value is T): T | undefined {
    const value = this.raw(path);
    if (accept(value)) return value;
    const fallback = this.navigator.schemaAt(path)?.default;
    return accept(fallback) ? fallback : undefined;
  }
}

/** A value read with the schema default as fallback is missing only where the schema states none: a bug in the caller. */
function defaulted<T>(path: ConfigPath, value: T | undefined): T {
  if (value === undefined) throw new Error(`The config schema states no default for ${formatPath(path)}.`);
  return value;
}

/** `inner` is `outer` itself or a path below it (`a.b` is within `a`, and so is `a[0]`). */
function isWithin(inner: string, outer: string): boolean {
  if (outer === '(root)') return true;
  return inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
}
