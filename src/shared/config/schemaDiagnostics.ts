import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import type { ConfigDiagnostic, ConfigPath } from './configDiagnostic';
import { formatPath } from './configDiagnostic';
import { didYouMean } from './didYouMean';
import type { JsonSchema } from './jsonSchema';
import { firstLineRange, keyRangeOf, valueRangeOf, type ParsedConfig } from './parsedConfig';
import type { SchemaNavigator } from './schemaNavigator';

/** Validates a parsed config against the schema and places each error on the node it is about. */
export class SchemaValidator {
  private readonly validate: ValidateFunction;

  constructor(
    schema: JsonSchema,
    private readonly navigator: SchemaNavigator,
  ) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
    this.validate = ajv.compile(schema);
  }

  diagnose(parsed: ParsedConfig): ConfigDiagnostic[] {
    const value = parsed.value;
    if (value === undefined || value === null) {
      return parsed.syntaxDiagnostics.length > 0
        ? []
        : [
            {
              range: firstLineRange(parsed.text),
              severity: 'error',
              code: 'missing-key',
              message: 'The config is empty. It needs at least `model.base` and `data.train`.',
            },
          ];
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      return [
        {
          range: valueRangeOf(parsed, []),
          severity: 'error',
          code: 'not-a-mapping',
          message: 'The config must be a mapping of keys such as `model:` and `data:` to values.',
        },
      ];
    }
    if (this.validate(value)) return [];
    return this.toDiagnostics(parsed, this.validate.errors ?? []);
  }

  private toDiagnostics(parsed: ParsedConfig, errors: ErrorObject[]): ConfigDiagnostic[] {
    const branchErrorPrefixes = errors
      .filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf')
      .map((error) => `${error.schemaPath}/`);
    const diagnostics: ConfigDiagnostic[] = [];
    const seen = new Set<string>();
    for (const error of errors) {
      if (branchErrorPrefixes.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
      const diagnostic = this.toDiagnostic(parsed, error);
      if (!diagnostic) continue;
      const key = `${diagnostic.range.start}:${diagnostic.code}:${diagnostic.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      diagnostics.push(diagnostic);
    }
    return diagnostics;
  }

  private toDiagnostic(parsed: ParsedConfig, error: ErrorObject): ConfigDiagnostic | undefined {
    const path = instancePathToConfigPath(error.instancePath);
    const where = formatPath(path);
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(params.additionalProperty);
        const present = new Set(Object.keys(objectAt(parsed.value, path)));
        // A key already in the mapping is no suggestion: renaming to it would duplicate it.
        const known = Object.keys(this.navigator.propertiesAt(path)).filter((name) => name !== '$schema' && !present.has(name));
        const suggestion = didYouMean(key, known);
        const container = path.length === 0 ? 'at the top level' : `in ${where}`;
        const hint = suggestion
          ? ` Did you mean "${suggestion}"?`
          : known.length > 0
            ? ` Known keys: ${known.join(', ')}.`
            : '';
        return {
          range: keyRangeOf(parsed, [...path, key]),
          severity: 'error',
          code: 'unknown-key',
          message: `Unknown key "${key}" ${container}.${hint}`,
          data: { path: [...path, key], ...(suggestion ? { suggestion } : {}) },
        };
      }
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

  private invalidLiteral(parsed: ParsedConfig, path: ConfigPath, data: unknown, allowed: unknown[]): ConfigDiagnostic {
    const suggestion =
      typeof data === 'string' ? didYouMean(data, allowed.filter((v): v is string => typeof v === 'string')) : undefined;
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
    const examples = branches.flatMap((branch) => (branch.pattern ? [...(schema.examples ?? []), ...(branch.examples ?? [])] : [])).filter((v): v is string => typeof v === 'string');
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

function objectAt(value: unknown, path: readonly (string | number)[]): Record<string, unknown> {
  let current = value;
  for (const segment of path) current = current && typeof current === 'object' ? (current as Record<string | number, unknown>)[segment] : undefined;
  return current && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : {};
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
  if (value === null || value === undefined) return 'empty (the key has no value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return JSON.stringify(value);
}
