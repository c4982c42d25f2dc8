import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_LORA_TARGETS_BY_MODEL_TYPE } from '../../src/shared/config/loraTargets';
import { MODEL_FAMILIES } from '../../src/trainer/model/autoModel';
import { openRunFolder, prepareRun } from '../../src/trainer/run/prepareRun';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());
for (const modelType of ['mpnet', 'distilbert', 'bert', 'albert']) {
  workspace.write(`models/${modelType}/config.json`, JSON.stringify({ model_type: modelType }));
  workspace.write(`models/${modelType}/model.safetensors`, '');
}
workspace.write('data/train.jsonl', pairsJsonl(8));

/** What config.resolved.yaml says strategy.lora.targets are, for a config on `modelType` with `lora` written. */
async function resolvedTargets(modelType: string, lora: string): Promise<unknown> {
  const configPath = workspace.write(
    `${modelType}-${lora.length}.embedtune.yaml`,
    `model: {base: ./models/${modelType}}\ndata: {train: data/train.jsonl}\nstrategy:\n  type: lora\n  lora: ${lora}\noutput_dir: runs\n`,
  );
  const prepared = await prepareRun({ configPath, env: { ...process.env, EMBEDTUNE_OFFLINE: '1' } });
  const opened = openRunFolder(prepared);
  opened.finish();
  const resolved = parse(readFileSync(join(opened.directory.path, 'config.resolved.yaml'), 'utf8')) as {
    strategy: { lora: { targets: unknown } };
  };
  assert.deepEqual(prepared.config.strategy.lora.targets, resolved.strategy.lora.targets, 'both engines train what the file records');
  return resolved.strategy.lora.targets;
}

describe("LoRA's default targets follow the model's family", () => {
  it("records the family's own query and value projections when the config names no targets", async () => {
    assert.deepEqual(await resolvedTargets('mpnet', '{r: 4}'), ['q', 'v']);
    assert.deepEqual(await resolvedTargets('distilbert', '{r: 4}'), ['q_lin', 'v_lin']);
    assert.deepEqual(await resolvedTargets('bert', '{r: 4}'), ['query', 'value']);
  });

  it('keeps written targets as they are, even the schema default on another family', async () => {
    assert.deepEqual(await resolvedTargets('mpnet', '{targets: [q, o]}'), ['q', 'o']);
    assert.deepEqual(await resolvedTargets('bert', '{targets: [query, value]}'), ['query', 'value']);
  });

  it("names each family's defaults as its layout does", () => {
    for (const family of MODEL_FAMILIES) {
      for (const modelType of family.modelTypes) {
        const json = { model_type: modelType };
        const layout = family.layout(family.parseConfig(json, 'unit-test'), json);
        assert.deepEqual(DEFAULT_LORA_TARGETS_BY_MODEL_TYPE[modelType], layout.defaultLoraTargets, modelType);
      }
    }
  });
});
