import type { JsonSchema } from '../../shared/config/jsonSchema';
import type { SchemaNavigator } from '../../shared/config/schemaNavigator';

/** Markdown documentation for a key, shared by hover and completion so the two always agree. */
export function schemaMarkdown(navigator: SchemaNavigator, schema: JsonSchema, keyPath: string): string {
  const resolved = navigator.resolve(schema);
  const parts = [`**${keyPath}**`];
  if (resolved.description) parts.push(resolved.description);
  const literals = navigator.literalValues(resolved).filter((value) => typeof value !== 'boolean');
  if (literals.length > 0) parts.push(`Allowed: ${literals.map((value) => `\`${String(value)}\``).join(', ')}`);
  const facts: string[] = [];
  if (resolved.default !== undefined && !isObject(resolved.default)) facts.push(`Default: \`${inline(resolved.default)}\``);
  const examples = (resolved.examples ?? []).filter((example) => !isObject(example)).slice(0, 4);
  if (examples.length > 0) facts.push(`Examples: ${examples.map((example) => `\`${inline(example)}\``).join(', ')}`);
  if (facts.length > 0) parts.push(facts.join('  \n'));
  return parts.join('\n\n');
}

function isObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function inline(value: unknown): string {
  return Array.isArray(value) ? `[${value.map((item) => String(item)).join(', ')}]` : String(value);
}
