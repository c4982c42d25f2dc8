import assert from 'node:assert/strict';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { readBertConfig, readBertWeights } from '../../src/trainer/model/bertConfig';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { buildTinyBert } from '../helpers/tinyBert';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());
workspace.write('data/pairs.jsonl', pairsJsonl(20));

/** A tiny real model folder, then `damage` applied to it. */
function modelFolder(name: string, damage: (folder: string) => void): string {
  const folder = workspace.path(name);
  buildTinyBert(folder, { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
  damage(folder);
  return folder;
}

function editConfigJson(folder: string, edit: (json: Record<string, unknown>) => void): void {
  const path = join(folder, 'config.json');
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(path, JSON.stringify(json));
}

function pointAtDevZero(folder: string, file: string): void {
  rmSync(join(folder, file));
  symlinkSync('/dev/zero', join(folder, file));
}

function modelDiagnostics(base: string) {
  const text = `model:\n  base: ./${base}\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lora\n`;
  return validateConfigText(text, { configPath: workspace.path('run.embedtune.yaml') }).diagnostics.filter((d) =>
    d.code.startsWith('model-'),
  );
}

describe('a model folder built to exhaust memory is refused before it can', () => {
  it('compares num_hidden_layers with the layers the weights hold before listing a million layers of weights', () => {
    const folder = modelFolder('million-layers', (dir) => editConfigJson(dir, (json) => (json['num_hidden_layers'] = 1_000_000)));
    const { config } = readBertConfig(folder);
    const started = performance.now();
    assert.throws(() => readBertWeights(folder, config), /hold 1 encoder layer\(s\), but its config\.json says num_hidden_layers 1000000/);
    assert.ok(performance.now() - started < 2000, 'the mismatch is found from the names alone');
  });

  it('reads no weights from a model.safetensors that is a symlink to /dev/zero', () => {
    const folder = modelFolder('zero-weights', (dir) => pointAtDevZero(dir, 'model.safetensors'));
    const { config } = readBertConfig(folder);
    assert.throws(() => readBertWeights(folder, config), /model\.safetensors is not a regular file \(it is a character device\)/);
  });

  it('reads no config.json or tokenizer.json that is not a regular file', () => {
    const badConfig = modelFolder('zero-config', (dir) => pointAtDevZero(dir, 'config.json'));
    assert.throws(() => readBertConfig(badConfig), /config\.json is not a regular file/);
    const badTokenizer = modelFolder('zero-tokenizer', (dir) => pointAtDevZero(dir, 'tokenizer.json'));
    assert.throws(() => TextTokenizer.fromFolder(badTokenizer), /tokenizer\.json is not a regular file/);
  });
});

describe('validate reads a local model folder’s config.json', () => {
  it('accepts a sound one', () => {
    modelFolder('sound', () => {});
    assert.deepEqual(modelDiagnostics('sound'), []);
  });

  const cases: [string, (folder: string) => void, RegExp][] = [
    ['invalid JSON', (dir) => writeFileSync(join(dir, 'config.json'), '{"model_type": "bert",'), /config\.json is not valid JSON/],
    [
      'a million layers',
      (dir) => editConfigJson(dir, (json) => (json['num_hidden_layers'] = 1_000_000)),
      /"num_hidden_layers": 1000000, more than any model has/,
    ],
    [
      'a size that is not an integer',
      (dir) => editConfigJson(dir, (json) => (json['hidden_size'] = 'big')),
      /"hidden_size": "big", which is not a positive integer/,
    ],
    ['no model_type', (dir) => editConfigJson(dir, (json) => delete json['model_type']), /has no "model_type"/],
    ['a symlink to /dev/zero', (dir) => pointAtDevZero(dir, 'config.json'), /config\.json is not a regular file/],
  ];
  for (const [what, damage, message] of cases) {
    it(`reports a config.json with ${what}`, () => {
      const name = `validate-${what.replace(/\W+/g, '-')}`;
      modelFolder(name, damage);
      const found = modelDiagnostics(name);
      assert.deepEqual(
        found.map((d) => [d.code, d.severity]),
        [['model-config-invalid', 'error']],
      );
      assert.match(found[0]!.message, message);
    });
  }
});
