import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import { benchConfigText } from '../../bench/fixtures/benchConfig';
import { embedtuneSchema } from '../../src/shared/config/embedtuneSchema';
import { parseConfigText } from '../../src/shared/config/parsedConfig';
import { SectionwiseValidation } from '../../src/shared/config/sectionwiseValidation';

const options = { allErrors: true, verbose: true, strict: true } as const;
const EXAMPLES = ['retrieval/retrieval', 'similarity/similarity', 'classification/classification', 'ner/ner'].map((name) =>
  readFileSync(resolve(__dirname, '../../examples', `${name}.embedtune.yaml`), 'utf8'),
);
const BROKEN = [
  'model:\n  base: x\n  pooling: meen\ndata:\n  train: 1\ntraining:\n  lerning_rate: 1\n  epochs: a\nzzz: 1\n',
  'loss:\n  type: mnrl\n  alpha: x\nevaluation:\n  metrics: [ndcg@0, ndcg@10, ndcg@10]\n  every: -1\n',
  'task: clasification\nstrategy:\n  type: lora\n  lora:\n    r: 0\n    targets: []\n',
  'model: 1\ndata: [a]\n',
];

function summary(errors: readonly { instancePath: string; schemaPath: string; keyword: string; message?: string }[]): string[] {
  return errors.map((error) => `${error.instancePath} ${error.schemaPath} ${error.keyword} ${error.message ?? ''}`);
}

describe('section-wise schema validation', () => {
  const sectionwise = new SectionwiseValidation(new Ajv2020(options), embedtuneSchema);
  const whole = new Ajv2020(options).compile(embedtuneSchema);

  it('gives exactly the errors of validating the whole config, in the same order and with the same paths', () => {
    for (const text of [...EXAMPLES, benchConfigText(), ...BROKEN]) {
      const value = parseConfigText(text).value as Record<string, unknown>;
      whole(value);
      assert.deepEqual(summary(sectionwise.errors(value)), summary(whole.errors ?? []), text);
    }
  });

  it('does not validate again a section whose value is the same object as before', () => {
    const value = parseConfigText(BROKEN[0]!).value as Record<string, unknown>;
    const first = sectionwise.errors(value).filter((error) => error.instancePath.startsWith('/training'));
    const again = sectionwise.errors({ ...value, model: { base: 'y' } }).filter((error) => error.instancePath.startsWith('/training'));
    assert.equal(again.length, 2);
    again.forEach((error, i) => assert.equal(error, first[i], 'the training section errors are the ones kept from the first validation'));
  });

  it('validates whole a schema whose root has keywords that tie sections together', () => {
    const tied = { ...embedtuneSchema, minProperties: 3 };
    const fallback = new SectionwiseValidation(new Ajv2020(options), tied);
    const value = parseConfigText(BROKEN[3]!).value as Record<string, unknown>;
    const reference = new Ajv2020(options).compile(tied);
    reference(value);
    assert.ok(summary(reference.errors ?? []).some((line) => line.includes('minProperties')));
    assert.deepEqual(summary(fallback.errors(value)), summary(reference.errors ?? []));
  });
});
