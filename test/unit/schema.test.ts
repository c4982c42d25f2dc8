import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020';
import { parseDocument } from 'yaml';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { resolveColumnPrompts } from '../../src/shared/config/promptSettings';
import { defaultLossFor, defaultMetricsFor } from '../../src/shared/config/taskRequirements';

interface JsonSchema {
  $id?: string;
  $ref?: string;
  description?: string;
  default?: unknown;
  examples?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $defs?: Record<string, JsonSchema>;
}

/** The repository root: the nearest folder above the working directory that has the schema. */
function findRoot(start: string): string {
  let dir = resolve(start);
  while (!existsSync(join(dir, 'schemas', 'embedtune.schema.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`schemas/embedtune.schema.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

const root = findRoot(process.cwd());
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'embedtune.schema.json'), 'utf8')) as JsonSchema;
const schemaId = schema.$id ?? 'embedtune.schema.json';

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addSchema(schema, schemaId);
  return ajv;
}

const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Every schema that documents a config key: each entry of `properties` at any depth
 * (also inside `items` and `anyOf`/`oneOf`/`allOf` branches) and each entry of `$defs`.
 */
function documentedKeys(node: JsonSchema, pointer = ''): Array<{ pointer: string; schema: JsonSchema }> {
  const found: Array<{ pointer: string; schema: JsonSchema }> = [];
  for (const [container, entries] of [
    ['properties', node.properties],
    ['$defs', node.$defs],
  ] as const) {
    for (const [key, child] of Object.entries(entries ?? {})) {
      const childPointer = `${pointer}/${container}/${escapePointer(key)}`;
      found.push({ pointer: childPointer, schema: child });
      found.push(...documentedKeys(child, childPointer));
    }
  }
  if (node.items) found.push(...documentedKeys(node.items, `${pointer}/items`));
  for (const combinator of ['anyOf', 'oneOf', 'allOf'] as const) {
    node[combinator]?.forEach((branch, i) => found.push(...documentedKeys(branch, `${pointer}/${combinator}/${i}`)));
  }
  return found;
}

const keys = documentedKeys(schema);

/**
 * Keys whose default is another key's resolved value, which a JSON Schema `default` cannot say (their descriptions
 * do); a literal default there would be offered by completion as if it were the real one.
 */
const DERIVED_DEFAULTS: Readonly<Record<string, (resolved: ReturnType<typeof resolveConfig>) => unknown>> = {
  '/training/head_learning_rate': (resolved) => resolved.training.learning_rate,
  // These follow the task (and loss); each description names the default per task.
  '/loss/type': (resolved) => defaultLossFor(resolved.task),
  '/evaluation/metrics': (resolved) => defaultMetricsFor(resolved.task, resolved.loss.type),
  '/evaluation/primary': (resolved) => resolved.evaluation.metrics[0],
  // Files that play a part only when named: left out, there is none (their examples still feed completion).
  '/$schema': () => undefined,
  '/data/validation': () => undefined,
  '/engine/config_file': () => undefined,
  '/preprocess/clean/spelling/protect_file': () => undefined,
  // Prompt roles follow the prompts defined (query → anchor, document → positive and negative).
  '/model/column_prompts': (resolved) => resolveColumnPrompts(resolved.model.prompts ?? {}, undefined),
  '/model/column_prompts/anchor': (resolved) => resolveColumnPrompts(resolved.model.prompts ?? {}, undefined).anchor,
  '/model/column_prompts/positive': (resolved) => resolveColumnPrompts(resolved.model.prompts ?? {}, undefined).positive,
  '/model/column_prompts/negative': (resolved) => resolveColumnPrompts(resolved.model.prompts ?? {}, undefined).negative,
  // No default prompt and no Matryoshka unless written; a written matryoshka weighs each dimension 1.
  '/model/default_prompt_name': () => undefined,
  '/loss/matryoshka': () => undefined,
  '/loss/matryoshka/weights': (resolved) => resolved.loss.matryoshka?.dims.map(() => 1),
  // Image preprocessing left out follows the model's preprocessor_config.json, read when the run loads the model.
  '/preprocess/image/size': () => undefined,
  '/preprocess/image/crop': () => undefined,
  '/preprocess/image/crop_box': () => undefined,
  '/preprocess/image/mean': () => undefined,
  '/preprocess/image/std': () => undefined,
  // Off unless written; written, their keys take their own defaults.
  '/preprocess/augment/random_resized_crop': () => undefined,
  '/preprocess/augment/color_jitter': () => undefined,
};
/** Definitions used only by keys with derived defaults: a metric's default is the task's, which the definition cannot know. */
const DEFINITIONS_WITHOUT_DEFAULT = new Set(['/$defs/metric']);
/**
 * The members of an image size written as an object ({height, width} or {shortest_edge}): required in their form, and
 * a default there would be filled into the other form too, since defaults are filled across the forms of a value.
 */
const SIZE_MEMBERS = ['size/anyOf/1/properties/height', 'size/anyOf/1/properties/width', 'size/anyOf/2/properties/shortest_edge'];
const MEMBERS_WITHOUT_DEFAULT = new Set(
  [...SIZE_MEMBERS, 'crop/anyOf/1/properties/height', 'crop/anyOf/1/properties/width'].map(
    (member) => `/properties/preprocess/properties/image/properties/${member}`,
  ),
);
const hasDerivedDefault = (pointer: string) =>
  DEFINITIONS_WITHOUT_DEFAULT.has(pointer) ||
  MEMBERS_WITHOUT_DEFAULT.has(pointer) ||
  Object.keys(DERIVED_DEFAULTS).some((path) => pointer.endsWith(path.replace(/\//g, '/properties/').replace(/^\/properties/, '')));

function findExampleConfigs(): string[] {
  const dir = join(root, 'examples');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.embedtune.yaml'))
    .map((file) => join(dir, file))
    .sort();
}

function loadYaml(file: string): unknown {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  assert.deepEqual(
    [...doc.errors, ...doc.warnings].map((e) => e.message),
    [],
    `${file} has YAML errors or warnings`,
  );
  return doc.toJS();
}

test('the schema compiles under ajv 2020 strict mode', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  assert.doesNotThrow(() => ajv.compile(schema));
  assert.ok(keys.length > 50, `expected the schema to document many keys, found ${keys.length}`);
});

test('every property at every depth has a description, a default and examples', () => {
  const problems: string[] = [];
  for (const { pointer, schema: s } of keys) {
    if (typeof s.description !== 'string' || s.description.trim().length < 20) {
      problems.push(`${pointer}: missing or too short description`);
    }
    if (!('default' in s) && !hasDerivedDefault(pointer)) problems.push(`${pointer}: missing default`);
    if ('default' in s && hasDerivedDefault(pointer)) problems.push(`${pointer}: a literal default for a key that defaults to another key`);
    if (!Array.isArray(s.examples) || s.examples.length === 0) problems.push(`${pointer}: missing examples`);
  }
  assert.deepEqual(problems, []);
});

test('every default and every example validates against its own property schema', () => {
  const ajv = newAjv();
  const problems: string[] = [];
  for (const { pointer, schema: s } of keys) {
    const validate = ajv.compile({ $ref: `${schemaId}#${pointer}` });
    const values: Array<[string, unknown]> = [
      ...('default' in s ? [['default', s.default] as [string, unknown]] : []),
      ...(Array.isArray(s.examples) ? s.examples : []).map((e, i): [string, unknown] => [`examples[${i}]`, e]),
    ];
    for (const [label, value] of values) {
      if (!validate(value)) {
        problems.push(`${pointer} ${label} ${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('every example config parses and validates against the schema', () => {
  const files = findExampleConfigs();
  assert.ok(files.length >= 4, `expected at least 4 example configs, found ${files.length}`);
  const validate = newAjv().getSchema(schemaId);
  assert.ok(validate);
  for (const file of files) {
    const config = loadYaml(file);
    assert.ok(validate(config), `${file}: ${newAjv().errorsText(validate.errors)}`);
  }
});

test('every example config follows the recommended settings and its data files exist', () => {
  for (const file of findExampleConfigs()) {
    const config = resolveConfig(loadYaml(file) as EmbedTuneConfig);
    for (const path of [config.data.train, config.data.validation]) {
      if (path !== undefined) assert.ok(existsSync(join(dirname(file), path)), `${file}: ${path} does not exist`);
    }
    assert.deepEqual(config.checkpoints.every, config.evaluation.every, `${file}: checkpoints.every != evaluation.every`);
    assert.ok(config.evaluation.metrics.includes(config.evaluation.primary), `${file}: primary metric not in metrics`);
    if (config.loss.type === 'mnrl' || config.loss.type === 'cached_mnrl') {
      assert.ok(config.training.batch_size >= 32, `${file}: batch_size < 32 with in-batch negatives`);
    }
    if (config.engine.type === 'tfjs') assert.equal(config.training.mixed_precision, 'no', `${file}: tfjs trains in fp32`);
  }
});

test('resolveConfig fills every default with the value the schema declares', () => {
  const minimal: EmbedTuneConfig = { model: { base: 'x' }, data: { train: 't.jsonl' } };
  const resolved = resolveConfig(minimal);

  const validate = newAjv().getSchema(schemaId);
  assert.ok(validate);
  assert.ok(validate(resolved), newAjv().errorsText(validate.errors));

  const fromInput: Record<string, unknown> = { '/model/base': 'x', '/data/train': 't.jsonl' };
  const leftUnset = new Set([
    '/$schema',
    '/data/validation',
    '/engine/config_file',
    '/preprocess/clean/spelling/protect_file',
    '/model/default_prompt_name',
    '/loss/matryoshka',
    '/preprocess/image/size',
    '/preprocess/image/crop',
    '/preprocess/image/crop_box',
    '/preprocess/image/mean',
    '/preprocess/image/std',
    '/preprocess/augment/random_resized_crop',
    '/preprocess/augment/color_jitter',
  ]);
  const deref = (s: JsonSchema): JsonSchema => {
    if (!s.$ref) return s;
    const name = s.$ref.replace(/^#\/\$defs\//, '');
    const target = schema.$defs?.[name];
    assert.ok(target, `unresolvable $ref ${s.$ref}`);
    return target;
  };

  let compared = 0;
  const walk = (node: JsonSchema, value: unknown, path: string): void => {
    assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${path || '/'} should be an object`);
    const object = value as Record<string, unknown>;
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const childPath = `${path}/${key}`;
      const target = deref(child);
      if (leftUnset.has(childPath)) {
        assert.equal(object[key], undefined, `${childPath} should stay unset`);
      } else if (target.properties && child.$ref && child.default !== undefined) {
        // A referenced section with its own default (an augment operation that is off unless written) resolves to that default.
        assert.deepEqual(object[key], child.default, `${childPath}: resolveConfig gives ${JSON.stringify(object[key])}`);
        compared++;
      } else if (target.properties) {
        walk(target, object[key], childPath);
      } else {
        const derived = DERIVED_DEFAULTS[childPath];
        const expected = childPath in fromInput ? fromInput[childPath] : derived ? derived(resolved) : child.default;
        assert.deepEqual(object[key], expected, `${childPath}: resolveConfig gives ${JSON.stringify(object[key])}`);
        compared++;
      }
    }
  };
  walk(schema, resolved, '');
  assert.ok(compared > 50, `compared only ${compared} keys`);
});

test('resolveConfig keeps given values, takes the first metric as primary and does not modify its input', () => {
  const config: EmbedTuneConfig = {
    model: { base: 'x', pooling: 'cls' },
    data: { train: 't.csv', validation: 'v.csv', columns: { anchor: 'q' } },
    strategy: { lora: { targets: ['key'] } },
    evaluation: { metrics: ['f1', 'accuracy'] },
    engine: { type: 'accelerate', config_file: 'acc.yaml' },
  };
  const snapshot = structuredClone(config);
  const resolved = resolveConfig(config);

  assert.deepEqual(config, snapshot);
  assert.equal(resolved.model.pooling, 'cls');
  assert.equal(resolved.data.validation, 'v.csv');
  assert.equal(resolved.data.columns.anchor, 'q');
  assert.equal(resolved.data.columns.positive, 'positive');
  assert.equal(resolved.evaluation.primary, 'f1');
  assert.equal(resolved.engine.config_file, 'acc.yaml');
  assert.equal(resolved.engine.python, 'python3');
  assert.notEqual(resolved.strategy.lora.targets, config.strategy?.lora?.targets);
  assert.notEqual(resolved.evaluation.metrics, config.evaluation?.metrics);
});
