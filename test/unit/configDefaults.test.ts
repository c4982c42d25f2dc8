import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { HoverService } from '../../src/server/service/hoverService';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { ConfigView } from '../../src/shared/config/configView';
import { evaluationPlanOf } from '../../src/shared/config/evaluationSchedule';
import { embedtuneSchemaNavigator as navigator } from '../../src/shared/config/embedtuneSchema';
import type { JsonSchema } from '../../src/shared/config/jsonSchema';
import { planRun } from '../../src/shared/config/runPlan';

/*
 * One source of defaults: the schema. For every key it gives a default, the trainer's resolved config applies that
 * value, hover tells the user that value, and the language server's dry run plans with it. The accelerate engine's
 * Python reads the resolved config from the launch plan, every key filled in, so it must state no default of its own.
 */

const MINIMAL: EmbedTuneConfig = { model: { base: 'x' }, data: { train: 't.jsonl' } };

interface DefaultedKey {
  readonly path: string[];
  readonly value: unknown;
  /** A section that must be written (as `{}`) for this default to apply: an augment operation's count is 1 once it is written. */
  readonly written?: string[];
}

/**
 * Every key with a default that a config can reach: a required key has none (its `default` is completion's
 * placeholder), and a key inside a section the config leaves unset (with no default of its own) is not reached.
 */
function defaultedKeys(schema: JsonSchema = navigator.root, path: string[] = [], written?: string[]): DefaultedKey[] {
  const resolved = navigator.resolve(schema);
  const required = new Set(resolved.required ?? []);
  const found: DefaultedKey[] = [];
  for (const [key, child] of Object.entries(navigator.propertiesOf(resolved))) {
    const childPath = [...path, key];
    const value = required.has(key) ? undefined : navigator.resolve(child).default;
    const isSection = value === undefined ? required.has(key) : isObject(value);
    // A section's `{}` default only says it may be left out; its keys are listed one by one.
    const ownKeys = isObject(value) && Object.keys(value).length > 0;
    if (value !== undefined && (!isSection || ownKeys)) found.push({ path: childPath, value, ...(written ? { written } : {}) });
    if (!isSection) continue;
    // A section whose own default states its keys (off unless written) applies its keys' defaults once written.
    found.push(...defaultedKeys(child, childPath, ownKeys ? childPath : written));
  }
  return found;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function at(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((current, key) => (isObject(current) ? current[key] : undefined), value);
}

function configWriting(section: readonly string[] | undefined): EmbedTuneConfig {
  const config = structuredClone(MINIMAL) as unknown as Record<string, unknown>;
  let current = config;
  for (const key of section ?? []) current = (current[key] ??= {}) as Record<string, unknown>;
  return config as unknown as EmbedTuneConfig;
}

const hover = new HoverService(navigator);

/** The hover text on the last key of `path`, in a document that writes the path down to it. */
function hoverText(path: readonly string[]): string {
  const lines = path.map((key, depth) => `${'  '.repeat(depth)}${key}:`);
  const text = `${lines.join('\n')}\n`;
  const offset = text.lastIndexOf(`${path.at(-1)!}:`) + 1;
  const result = hover.hover(TextDocument.create('file:///x.embedtune.yaml', 'embedtune', 1, text), offset);
  assert.ok(result, `no hover on ${path.join('.')}`);
  return (result.contents as MarkupContent).value;
}

/** A default as a user reads it in hover. */
function shown(value: unknown): string {
  return Array.isArray(value) ? `[${value.map(String).join(', ')}]` : String(value);
}

const keys = defaultedKeys();
const name = (key: DefaultedKey) => key.path.join('.');

describe('every default the schema states', () => {
  it('is found at every depth, in sections with their own defaults too', () => {
    const names = keys.map(name);
    assert.ok(keys.length > 70, `only ${keys.length} keys with defaults`);
    for (const expected of ['training.epochs', 'preprocess.augment.random_swap', 'preprocess.augment.random_swap.count', 'engine.python'])
      assert.ok(names.includes(expected), `${expected} missing from ${names.join(', ')}`);
    for (const placeholder of ['model.base', 'data.train', 'data.validation', 'engine.config_file', 'loss.type', 'loss.matryoshka.dims'])
      assert.ok(!names.includes(placeholder), `${placeholder} is not a default the trainer applies`);
  });

  it('is what the trainer applies: resolveConfig on a minimal config gives it', () => {
    const drifted = keys.flatMap((key) => {
      const applied = at(resolveConfig(configWriting(key.written)), key.path);
      try {
        assert.deepEqual(applied, key.value);
        return [];
      } catch {
        return [`${name(key)}: the schema says ${JSON.stringify(key.value)}, the trainer applies ${JSON.stringify(applied)}`];
      }
    });
    assert.deepEqual(drifted, []);
  });

  it('is what hover tells the user', () => {
    const drifted = keys.flatMap((key) => {
      if (isObject(key.value)) return []; // A section's default is its keys', each shown on its own key.
      const text = hoverText(key.path);
      const applied = at(resolveConfig(configWriting(key.written)), key.path);
      return text.includes(`Default: \`${shown(applied)}\``)
        ? []
        : [`${name(key)}: the trainer applies ${shown(applied)}, hover says: ${text}`];
    });
    assert.deepEqual(drifted, []);
  });

  it('is what the dry run plans with', () => {
    const resolved = resolveConfig(MINIMAL);
    const view = new ConfigView(MINIMAL, navigator);
    const plan = planRun(view, {});
    assert.deepEqual(
      {
        task: plan.task,
        loss: plan.loss,
        strategy: plan.strategy,
        engine: plan.engine,
        epochs: plan.epochs,
        effectiveBatchSize: plan.effectiveBatchSize,
      },
      {
        task: resolved.task,
        loss: resolved.loss.type,
        strategy: resolved.strategy.type,
        engine: resolved.engine.type,
        epochs: resolved.training.epochs,
        effectiveBatchSize: resolved.training.batch_size * resolved.training.gradient_accumulation_steps,
      },
    );
    const evaluation = evaluationPlanOf(view, 10);
    assert.deepEqual(
      { evaluates: evaluation.evaluates, stopsEarly: evaluation.stopsEarly, every: evaluation.every, primary: evaluation.primary },
      {
        evaluates: resolved.evaluation.enabled,
        stopsEarly: resolved.early_stopping.enabled,
        every: resolved.evaluation.every,
        primary: resolved.evaluation.primary,
      },
    );
    assert.equal(evaluation.patience, resolved.early_stopping.patience);
  });
});

const PYTHON_PACKAGE = join(__dirname, '..', '..', 'python', 'embedtune_accelerate');
const CONFIG_SECTIONS = Object.keys(navigator.propertiesOf(navigator.root)).filter((key) => key !== '$schema');

describe('the accelerate engine', () => {
  it('reads every defaulted key from the resolved config, with no fallback value of its own', () => {
    // A `section.get("key", value)` on the resolved config would be a second default, free to drift from the schema's.
    const sectionVariable = new RegExp(`\\b(${CONFIG_SECTIONS.join('|')}|config\\["\\w+"\\])\\.get\\("(\\w+)",`, 'g');
    const defaulted = new Set(keys.map((key) => key.path.at(-1)!));
    const fallbacks = readdirSync(PYTHON_PACKAGE)
      .filter((file) => file.endsWith('.py'))
      .flatMap((file) =>
        [...readFileSync(join(PYTHON_PACKAGE, file), 'utf8').matchAll(sectionVariable)]
          .filter((match) => defaulted.has(match[2]!))
          .map((match) => `${file}: ${match[0]}`),
      );
    assert.ok(CONFIG_SECTIONS.includes('engine') && CONFIG_SECTIONS.includes('training'));
    assert.deepEqual(fallbacks, []);
  });
});
