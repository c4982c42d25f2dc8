/** One config key whose value differs between the runs compared; `values` is in the order of the runs. */
export interface ConfigDiffRow {
  /** Dotted key, e.g. `training.learning_rate` or `evaluation.metrics`. */
  readonly key: string;
  /** Each run's value as YAML-ish text; null where that run's config does not have the key. */
  readonly values: readonly (string | null)[];
}

/**
 * Compares resolved configs key by key and returns only the keys whose values are not all equal. Nested mappings
 * are walked; arrays are compared whole, since `metrics: [a, b]` is one setting. Rows come in the order the keys
 * first appear, which follows the config's own layout.
 */
export function diffConfigs(configs: readonly unknown[]): ConfigDiffRow[] {
  const flat = configs.map((config) => flatten(config));
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const entries of flat) {
    for (const key of entries.keys()) {
      if (seen.has(key)) continue;
      seen.add(key);
      keys.push(key);
    }
  }
  const rows: ConfigDiffRow[] = [];
  for (const key of keys) {
    const values = flat.map((entries) => (entries.has(key) ? entries.get(key)! : null));
    if (values.some((value) => value !== values[0])) rows.push({ key, values });
  }
  return rows;
}

function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && prefix) out.set(prefix, '{}');
    for (const [key, child] of entries) flatten(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, show(value));
  }
  return out;
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
