import type { JsonSchema } from './jsonSchema';
import type { SchemaNavigator } from './schemaNavigator';

/**
 * Fills every key a config leaves out with the schema's `default`, at every depth, so that the schema is the one
 * place a default is written: hover and completion show it, and the trainer applies it.
 *
 * A section left out takes its own default (often `{}`) and is then filled in turn; a `$ref`'d section that states
 * its own default keeps it (an augment operation that is not written is off). A required key has no default: its
 * schema `default` is only completion's placeholder. A key without a `default` stays unset. Values are copied, so
 * the input is not modified. It does not validate: run schema validation first.
 */
export function withSchemaDefaults(config: unknown, navigator: SchemaNavigator): unknown {
  return fill(config, navigator.root, navigator, false);
}

function fill(value: unknown, schema: JsonSchema, navigator: SchemaNavigator, required: boolean): unknown {
  const resolved = navigator.resolve(schema);
  const current = value === undefined && !required ? structuredClone(resolved.default) : value;
  if (Array.isArray(current)) return [...(current as unknown[])];
  if (!isPlainObject(current)) return current;
  const requiredKeys = new Set(resolved.required ?? []);
  const properties = navigator.propertiesOf(resolved);
  // Keys come out in schema order, so that config.resolved.yaml reads the same whatever order the user wrote.
  const filled: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(properties)) {
    const childValue = fill(current[key], child, navigator, requiredKeys.has(key));
    if (childValue !== undefined) filled[key] = childValue;
  }
  for (const [key, childValue] of Object.entries(current)) if (!(key in properties)) filled[key] = structuredClone(childValue);
  return filled;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
