import type { ConfigPath } from './configDiagnostic';
import type { JsonSchema } from './jsonSchema';

/** Walks a schema by config path, resolving local `$ref`s and looking through `anyOf`/`oneOf` branches. */
export class SchemaNavigator {
  constructor(readonly root: JsonSchema) {}

  /** The schema for the value at `path`, or undefined where the schema says nothing. */
  schemaAt(path: ConfigPath): JsonSchema | undefined {
    let current: JsonSchema | undefined = this.resolve(this.root);
    for (const segment of path) {
      if (!current) return undefined;
      current = this.child(current, segment);
    }
    return current;
  }

  /** The properties an object at `path` may have, in schema order. */
  propertiesAt(path: ConfigPath): Record<string, JsonSchema> {
    const schema = this.schemaAt(path);
    return schema ? this.propertiesOf(schema) : {};
  }

  propertiesOf(schema: JsonSchema): Record<string, JsonSchema> {
    const resolved = this.resolve(schema);
    if (resolved.properties) return resolved.properties;
    for (const branch of resolved.anyOf ?? resolved.oneOf ?? []) {
      const properties = this.propertiesOf(branch);
      if (Object.keys(properties).length > 0) return properties;
    }
    return {};
  }

  /** Follows `$ref` chains; a property's own description/default/examples win over the referenced schema's. */
  resolve(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let depth = 0; current.$ref && depth < 16; depth++) {
      const target = this.lookupRef(current.$ref);
      if (!target) break;
      const { $ref: _ignored, ...own } = current;
      current = { ...target, ...own };
    }
    return current;
  }

  /** Every branch of an `anyOf`/`oneOf`, resolved; a schema without branches is its own single branch. */
  branches(schema: JsonSchema): JsonSchema[] {
    const resolved = this.resolve(schema);
    const branches = resolved.anyOf ?? resolved.oneOf;
    return branches ? branches.flatMap((branch) => this.branches(branch)) : [resolved];
  }

  /** Allowed literal values (enums and consts across branches), for completion and "did you mean". */
  literalValues(schema: JsonSchema): unknown[] {
    const values: unknown[] = [];
    for (const branch of this.branches(schema)) {
      if (branch.enum) values.push(...branch.enum);
      if (branch.const !== undefined) values.push(branch.const);
      const types = typeof branch.type === 'string' ? [branch.type] : (branch.type ?? []);
      if (types.includes('boolean')) values.push(true, false);
    }
    return [...new Set(values)];
  }

  private child(schema: JsonSchema, segment: string | number): JsonSchema | undefined {
    const resolved = this.resolve(schema);
    if (typeof segment === 'number') {
      if (resolved.items) return this.resolve(resolved.items);
      for (const branch of resolved.anyOf ?? resolved.oneOf ?? []) {
        const found = this.child(branch, segment);
        if (found) return found;
      }
      return undefined;
    }
    const property = this.propertiesOf(resolved)[segment];
    if (property) return this.resolve(property);
    if (typeof resolved.additionalProperties === 'object') return this.resolve(resolved.additionalProperties);
    return undefined;
  }

  private lookupRef(ref: string): JsonSchema | undefined {
    if (!ref.startsWith('#/')) return undefined;
    let current: unknown = this.root;
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (!current || typeof current !== 'object') return undefined;
      current = (current as Record<string, unknown>)[key];
    }
    return current as JsonSchema | undefined;
  }
}
