import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import type { ConfigDiagnostic, ConfigPath } from './configDiagnostic';
import { formatPath } from './configDiagnostic';
import { didYouMean } from './didYouMean';
import type { JsonSchema } from './jsonSchema';
import { firstLineRange, keyRangeOf, valueRangeOf, type ParsedConfig } from './parsedConfig';
import type { SchemaNavigator } from './schemaNavigator';
import { SectionwiseValidation } from './sectionwiseValidation';

/** Validates a parsed config against the schema and places each error on the node it is about. */
export class SchemaValidator {
  private readonly validation: SectionwiseValidation;
  private keyHomes: Map<string, ConfigPath[]> | undefined;

  constructor(
    schema: JsonSchema,
    private readonly navigator: SchemaNavigator,
  ) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
    this.validation = new SectionwiseValidation(ajv, schema);
  }

  /** The schema diagnostics, and the paths of every value the schema rejected (also those past the listed ones). */
  diagnose(parsed: ParsedConfig): { diagnostics: ConfigDiagnostic[]; rejectedPaths: Set<string> } {
    const errors = this.errorsOf(parsed);
    return Array.isArray(errors) ? this.toDiagnostics(parsed, errors) : { diagnostics: [errors], rejectedPaths: new Set() };
  }

  /** Ajv's errors, or the one diagnostic that stands for a document with no mapping to validate. */
  private errorsOf(parsed: ParsedConfig): ErrorObject[] | ConfigDiagnostic {
    const value = parsed.value;
    if (value === undefined || value === null) {
      return parsed.syntaxDiagnostics.length > 0
        ? []
        : {
            range: firstLineRange(parsed.text),
            severity: 'error',
            code: 'missing-key',
            message: 'The config is empty. It needs at least `model.base` and `data.train`.',
          };
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      return {
        range: valueRangeOf(parsed, []),
        severity: 'error',
        code: 'not-a-mapping',
        message: 'The config must be a mapping of keys such as `model:` and `data:` to values.',
      };
    }
    return this.validation.errors(value as Record<string, unknown>);
  }

  /**
   * One diagnostic per distinct problem, up to MAX_SCHEMA_DIAGNOSTICS; the rest are counted in one more. Every step
   * is linear in the number of errors, so a config with 100k unknown keys costs 100k cheap steps, not their square.
   */
  private toDiagnostics(parsed: ParsedConfig, errors: ErrorObject[]): { diagnostics: ConfigDiagnostic[]; rejectedPaths: Set<string> } {
    const branchErrorPrefixes = errors
      .filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf')
      .map((error) => `${error.schemaPath}/`);
    const context = new ErrorContext(parsed);
    const diagnostics: ConfigDiagnostic[] = [];
    const seen = new Set<string>();
    const omitted = new Set<string>();
    const rejectedPaths = new Set<string>();
    let firstOmitted: ErrorObject | undefined;
    for (const error of errors) {
      if (branchErrorPrefixes.length > 0 && branchErrorPrefixes.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
      const rejected = rejectedPathOf(error);
      if (rejected) rejectedPaths.add(formatPath(rejected));
      if (diagnostics.length >= MAX_SCHEMA_DIAGNOSTICS) {
        // Past the cap no message is built: the error's own identity is enough to count it once.
        const params = error.params as Record<string, unknown>;
        omitted.add(`${error.instancePath}:${error.keyword}:${String(params.additionalProperty ?? params.missingProperty ?? '')}`);
        firstOmitted ??= error;
        continue;
      }
      const diagnostic = this.toDiagnostic(context, error);
      const key = `${diagnostic.range.start}:${diagnostic.code}:${diagnostic.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      diagnostics.push(diagnostic);
    }
    if (firstOmitted) diagnostics.push(this.omittedSummary(context, firstOmitted, omitted.size));
    return { diagnostics, rejectedPaths };
  }

  private omittedSummary(context: ErrorContext, first: ErrorObject, count: number): ConfigDiagnostic {
    const firstLeftOut = this.toDiagnostic(context, first);
    return {
      range: firstLeftOut.range,
      severity: 'error',
      code: 'too-many-problems',
      message: `${count} more schema problem${count === 1 ? '' : 's'} from here on ${count === 1 ? 'is' : 'are'} not listed: a document lists the first ${MAX_SCHEMA_DIAGNOSTICS}. The next one: ${firstLeftOut.message}`,
    };
  }

  private toDiagnostic(context: ErrorContext, error: ErrorObject): ConfigDiagnostic {
    const parsed = context.parsed;
    const path = instancePathToConfigPath(error.instancePath);
    const where = formatPath(path);
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'additionalProperties':
        return this.unknownKey(context, path, String(params.additionalProperty));
      case 'required': {
        const missing = String(params.missingProperty);
        return {
          range: path.length === 0 ? firstLineRange(parsed.text) : keyRangeOf(parsed, path),
          severity: 'error',
          code: 'missing-key',
          message:
            path.length === 0
              ? `The config is missing the required section "${missing}".`
              : `${where} is missing the required key "${missing}".`,
          data: { path: [...path, missing] },
        };
      }
      case 'type':
        if (typeof error.data === 'number' && !Number.isFinite(error.data)) return nonFiniteNumber(parsed, path);
        return {
          range: valueRangeOf(parsed, path),
          severity: 'error',
          code: 'wrong-type',
          message: `${where} must be ${article(String(params.type))}, not ${describeValue(error.data)}.`,
          data: { path },
        };
      case 'enum':
      case 'const': {
        const allowed = error.keyword === 'enum' ? (params.allowedValues as unknown[]) : [params.allowedValue];
        return this.invalidLiteral(parsed, path, error.data, allowed);
      }
      case 'anyOf':
      case 'oneOf':
        return this.noBranchMatched(parsed, path, error);
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        return {
          range: valueRangeOf(parsed, path),
          severity: 'error',
          code: 'out-of-range',
          message: `${where} must be ${String(params.comparison)} ${String(params.limit)} (got ${JSON.stringify(error.data)}).`,
          data: { path },
        };
      case 'minLength':
        return {
          range: valueRangeOf(parsed, path),
          severity: 'error',
          code: 'invalid-value',
          message: `${where} must not be empty.`,
          data: { path },
        };
      case 'minItems':
        return {
          range: valueRangeOf(parsed, path),
          severity: 'error',
          code: 'invalid-value',
          message: `${where} must list at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}.`,
          data: { path },
        };
      case 'uniqueItems': {
        const duplicateIndex = Math.max(Number(params.i), Number(params.j));
        const items = Array.isArray(error.data) ? error.data : [];
        return {
          range: valueRangeOf(parsed, [...path, duplicateIndex]),
          severity: 'error',
          code: 'invalid-value',
          message: `${where} lists ${JSON.stringify(items[duplicateIndex])} more than once.`,
          data: { path: [...path, duplicateIndex] },
        };
      }
      default:
        return {
          range: valueRangeOf(parsed, path),
          severity: 'error',
          code: 'invalid-value',
          message: `${where} ${error.message ?? 'is invalid'}.`,
          data: { path },
        };
    }
  }

  private unknownKey(context: ErrorContext, path: ConfigPath, key: string): ConfigDiagnostic {
    const parsed = context.parsed;
    const container = path.length === 0 ? 'at the top level' : `in ${formatPath(path)}`;
    const range = keyRangeOf(parsed, [...path, key]);
    const homes = this.sectionsDefining(key).filter((section) => formatPath(section) !== formatPath(path));
    if (homes.length === 1) {
      const home = homes[0]!;
      const alreadySet = context.isSet([...home, key]);
      return {
        range,
        severity: 'error',
        code: 'unknown-key',
        message: `"${key}" does not belong ${container}: it is a key of ${sectionName(home)}.${alreadySet ? ` ${formatPath([...home, key])} is set already; remove this one.` : ` Move it to ${formatPath([...home, key])}.`}`,
        data: { path: [...path, key], ...(alreadySet ? {} : { moveTo: [...home, key] }) },
      };
    }
    const present = context.keysAt(path);
    // A key already in the mapping is no suggestion: renaming to it would duplicate it.
    const known = Object.keys(this.navigator.propertiesAt(path)).filter((name) => name !== '$schema' && !present.has(name));
    const suggestion = didYouMean(key, known);
    const hint = suggestion ? ` Did you mean "${suggestion}"?` : known.length > 0 ? ` Known keys: ${known.join(', ')}.` : '';
    const elsewhere = homes.length > 1 ? ` "${key}" is a key of ${homes.map(sectionName).join(', ')}.` : '';
    return {
      range,
      severity: 'error',
      code: 'unknown-key',
      message: `Unknown key "${key}" ${container}.${hint}${elsewhere}`,
      data: { path: [...path, key], ...(suggestion ? { suggestion } : {}) },
    };
  }

  /** The mappings, other than free-form ones, whose schema defines `key`; indexed once per schema. */
  private sectionsDefining(key: string): ConfigPath[] {
    this.keyHomes ??= indexKeyHomes(this.navigator);
    return this.keyHomes.get(key) ?? [];
  }

  private invalidLiteral(parsed: ParsedConfig, path: ConfigPath, data: unknown, allowed: unknown[]): ConfigDiagnostic {
    const suggestion =
      typeof data === 'string'
        ? didYouMean(
            data,
            allowed.filter((v): v is string => typeof v === 'string'),
          )
        : undefined;
    return {
      range: valueRangeOf(parsed, path),
      severity: 'error',
      code: 'invalid-value',
      message:
        `${formatPath(path)} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')} (got ${describeValue(data)}).` +
        (suggestion ? ` Did you mean "${suggestion}"?` : ''),
      data: { path, ...(suggestion ? { suggestion } : {}) },
    };
  }

  private noBranchMatched(parsed: ParsedConfig, path: ConfigPath, error: ErrorObject): ConfigDiagnostic {
    const schema = this.navigator.resolve(error.parentSchema as JsonSchema);
    const branches = this.navigator.branches(schema);
    const literals = this.navigator.literalValues(schema).filter((v): v is string => typeof v === 'string');
    // Patterned forms (ndcg@10) have no literal to compare with; their examples stand in for them.
    const examples = branches
      .flatMap((branch) => (branch.pattern ? [...(schema.examples ?? []), ...(branch.examples ?? [])] : []))
      .filter((v): v is string => typeof v === 'string');
    const suggestion = typeof error.data === 'string' ? didYouMean(error.data, [...literals, ...examples]) : undefined;
    return {
      range: valueRangeOf(parsed, path),
      severity: 'error',
      code: typeof error.data === 'number' && branches.every((b) => isNumeric(b)) ? 'out-of-range' : 'invalid-value',
      message:
        `${formatPath(path)} must be ${branches.map(describeSchema).join(', or ')} (got ${describeValue(error.data)}).` +
        (suggestion ? ` Did you mean "${suggestion}"?` : ''),
      data: { path, ...(suggestion ? { suggestion } : {}) },
    };
  }
}

/** The path whose value an error rejects; an unknown key rejects no value that a check would read. */
function rejectedPathOf(error: ErrorObject): ConfigPath | undefined {
  const path = instancePathToConfigPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return undefined;
  if (error.keyword === 'required') return [...path, String(params.missingProperty)];
  if (error.keyword === 'uniqueItems') return [...path, Math.max(Number(params.i), Number(params.j))];
  return path;
}

function sectionName(path: ConfigPath): string {
  return path.length === 0 ? 'the top level' : `\`${formatPath(path)}\``;
}

/** A document lists at most this many schema problems; one more diagnostic counts the rest. */
export const MAX_SCHEMA_DIAGNOSTICS = 200;

/** What the diagnostics of one validation share, computed at most once per mapping rather than once per error. */
class ErrorContext {
  private readonly keys = new Map<string, Set<string>>();

  constructor(readonly parsed: ParsedConfig) {}

  keysAt(path: ConfigPath): Set<string> {
    const id = formatPath(path);
    let keys = this.keys.get(id);
    if (!keys) {
      keys = new Set(Object.keys(objectAt(this.parsed.value, path)));
      this.keys.set(id, keys);
    }
    return keys;
  }

  isSet(path: ConfigPath): boolean {
    return path.length > 0 && this.keysAt(path.slice(0, -1)).has(String(path[path.length - 1]));
  }
}

function objectAt(value: unknown, path: ConfigPath): Record<string, unknown> {
  const found = valueAt(value, path);
  return found && typeof found === 'object' && !Array.isArray(found) ? (found as Record<string, unknown>) : {};
}

function valueAt(value: unknown, path: ConfigPath): unknown {
  let current = value;
  for (const segment of path)
    current = current && typeof current === 'object' ? (current as Record<string | number, unknown>)[segment] : undefined;
  return current;
}

/** Where each key of the schema lives: the paths of the mappings (never list items) whose properties name it. */
function indexKeyHomes(navigator: SchemaNavigator): Map<string, ConfigPath[]> {
  const homes = new Map<string, ConfigPath[]>();
  const visit = (path: ConfigPath, depth: number) => {
    if (depth > 4) return;
    for (const [name, schema] of Object.entries(navigator.propertiesAt(path))) {
      if (name === '$schema') continue;
      homes.set(name, [...(homes.get(name) ?? []), path]);
      if (Object.keys(navigator.propertiesOf(schema)).length > 0) visit([...path, name], depth + 1);
    }
  };
  visit([], 0);
  return homes;
}

/**
 * YAML reads `.nan`, `.inf` and numbers beyond double range (1e309) as NaN or Infinity, which JSON Schema counts as no
 * number at all; the message says what the value is instead of calling it null.
 */
function nonFiniteNumber(parsed: ParsedConfig, path: ConfigPath): ConfigDiagnostic {
  const range = valueRangeOf(parsed, path);
  const written = parsed.text.slice(range.start, range.end).trim();
  const value = valueAt(parsed.value, path) as number;
  const what = Number.isNaN(value)
    ? `${written} is "not a number" in YAML`
    : /^[-+]?\.inf$/i.test(written)
      ? `${written} is infinity in YAML`
      : `${written} is beyond the largest number a config can hold (about 1.8e308), so it reads as infinity`;
  return {
    range,
    severity: 'error',
    code: Number.isNaN(value) ? 'invalid-value' : 'out-of-range',
    message: `${formatPath(path)} must be a finite number: ${what}.`,
    data: { path },
  };
}

export function instancePathToConfigPath(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment));
}

function isNumeric(schema: JsonSchema): boolean {
  return schema.type === 'number' || schema.type === 'integer';
}

/** A short phrase for one branch of a schema: `an integer ≥ 1`, `"epoch"`, `one of "a", "b"`. */
function describeSchema(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'a value');
  const bounds: string[] = [];
  if (schema.minimum !== undefined) bounds.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) bounds.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) bounds.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) bounds.push(`< ${schema.exclusiveMaximum}`);
  if (schema.pattern) return patternPhrase(schema);
  return [article(type), bounds.join(' and ')].filter(Boolean).join(' ');
}

/** A pattern is unreadable to users, so the branch's own description stands in for it. */
function patternPhrase(schema: JsonSchema): string {
  if (schema.description) return schema.description.replace(/\.$/, '').replace(/^A /, 'a ');
  return `a string matching /${schema.pattern}/`;
}

function article(type: string): string {
  if (type === 'integer' || type === 'array' || type === 'object') return `an ${type}`;
  if (type === 'string' || type === 'number' || type === 'boolean') return `a ${type}`;
  return type;
}

function describeValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? '.nan (not a number)' : `${value < 0 ? '-' : ''}infinity`;
  if (value === null || value === undefined) return 'empty (the key has no value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return JSON.stringify(value);
}
