import type Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import type { JsonSchema } from './jsonSchema';

/** The only root keywords under which each section validates on its own, so that section-wise errors equal the whole's. */
const SECTIONWISE_ROOT_KEYWORDS = new Set([
  '$schema',
  '$defs',
  'title',
  'description',
  'type',
  'required',
  'additionalProperties',
  'properties',
]);

/**
 * Ajv's errors for a config, computed section by section and kept per section value: a section whose value is the very
 * object of the last validation (the sectioned parser reuses the values of unchanged sections) is not validated again,
 * so an edit costs the validation of its own section. The root's own keywords (required sections, unknown sections) are
 * validated against the root with every section accepted. A schema whose root has other keywords is validated whole.
 */
export class SectionwiseValidation {
  private readonly whole: ValidateFunction | undefined;
  private readonly root: ValidateFunction | undefined;
  private readonly sections = new Map<string, ValidateFunction>();
  private readonly cache = new WeakMap<object, Map<string, ErrorObject[]>>();

  constructor(ajv: Ajv2020, schema: JsonSchema) {
    const properties = schema.properties ?? {};
    if (!Object.keys(schema).every((keyword) => SECTIONWISE_ROOT_KEYWORDS.has(keyword))) {
      this.whole = ajv.compile(schema);
      return;
    }
    const key = 'embedtune-sectionwise-root';
    ajv.addSchema(schema, key);
    const { $defs: _definitions, ...rootKeywords } = schema as JsonSchema & { $defs?: unknown };
    this.root = ajv.compile({ ...rootKeywords, properties: Object.fromEntries(Object.keys(properties).map((name) => [name, true])) });
    for (const name of Object.keys(properties)) this.sections.set(name, ajv.getSchema(`${key}#/properties/${escapePointer(name)}`)!);
  }

  errors(value: Record<string, unknown>): ErrorObject[] {
    if (this.whole) return this.whole(value) ? [] : [...(this.whole.errors ?? [])];
    const root = this.root!;
    const errors = root(value) ? [] : [...(root.errors ?? [])];
    for (const [name, validate] of this.sections) {
      if (!Object.hasOwn(value, name)) continue;
      errors.push(...this.sectionErrors(name, value[name], validate));
    }
    return errors;
  }

  private sectionErrors(name: string, value: unknown, validate: ValidateFunction): ErrorObject[] {
    const cacheable = value !== null && typeof value === 'object';
    const cached = cacheable ? this.cache.get(value)?.get(name) : undefined;
    if (cached) return cached;
    const pointer = `/${escapePointer(name)}`;
    // Paths as the whole validation gives them: the section's instance and schema paths are relative to the section.
    const errors = validate(value)
      ? []
      : (validate.errors ?? []).map((error) => ({
          ...error,
          instancePath: pointer + error.instancePath,
          schemaPath: error.schemaPath.startsWith('#/$defs/') ? error.schemaPath : `#/properties${pointer}${error.schemaPath.slice(1)}`,
        }));
    if (cacheable) {
      const byName = this.cache.get(value) ?? new Map<string, ErrorObject[]>();
      byName.set(name, errors);
      this.cache.set(value, byName);
    }
    return errors;
  }
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
