import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { MODEL_FAMILIES } from '../../src/trainer/model/autoModel';
import { LORA_TARGETS_BY_MODEL_TYPE } from '../../src/shared/config/loraTargets';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { TempWorkspace } from '../helpers/tempWorkspace';

const PYTHON_FAMILIES = join(__dirname, '..', '..', 'python', 'embedtune_accelerate', 'model_families.py');

interface PythonFamily {
  layer_prefix: string;
  lora_targets: Record<string, string[]>;
  default_lora_targets: string[];
}

/** Runs the accelerate engine's model_families.py (standard library only) and returns its table and what it answers. */
function pythonFamilies(): {
  families: Record<string, PythonFamily>;
  patterns: Record<string, string>;
  layers: Record<string, (number | null)[]>;
  refusals: string[];
} {
  const script = `
import importlib.util, json, re, sys
spec = importlib.util.spec_from_file_location("model_families", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
def refusal(call):
    try:
        call()
        return ""
    except ValueError as error:
        return str(error)
print(json.dumps({
    "families": module.FAMILIES,
    "patterns": {t: module.lora_target_pattern(t, f["default_lora_targets"]) for t, f in module.FAMILIES.items()},
    "layers": {t: [module.layer_index(t, n) for n in ["encoder.layer.3.x", "transformer.layer.2.y", "embeddings.z"]] for t in module.FAMILIES},
    "refusals": [
        refusal(lambda: module.lora_target_pattern("mpnet", ["query", "v"])),
        refusal(lambda: module.lora_target_pattern("albert", ["query"])),
        refusal(lambda: module.layer_index("albert", "encoder.layer.0.x")),
    ],
}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, PYTHON_FAMILIES], { encoding: 'utf8' }));
}

/** Each model_type the tfjs engine loads, with its layout (MPNet's bucket count does not change names). */
function tfjsLayouts() {
  return MODEL_FAMILIES.flatMap((family) =>
    family.modelTypes.map((modelType) => {
      const json = { model_type: modelType };
      return { modelType, layout: family.layout(family.parseConfig(json, 'unit-test'), json) };
    }),
  );
}

test('the accelerate engine reads every family the tfjs engine loads, with the same layer prefix and LoRA targets', () => {
  const { families } = pythonFamilies();
  const layouts = tfjsLayouts();
  assert.deepEqual(Object.keys(families).sort(), layouts.map(({ modelType }) => modelType).sort());
  for (const { modelType, layout } of layouts) {
    const python = families[modelType]!;
    assert.equal(python.layer_prefix, layout.layerPrefix, `${modelType}: layer prefix`);
    assert.deepEqual(python.lora_targets, layout.loraTargets, `${modelType}: LoRA targets`);
    assert.deepEqual(python.default_lora_targets, layout.defaultLoraTargets, `${modelType}: default LoRA targets`);
    assert.deepEqual(Object.keys(python.lora_targets), LORA_TARGETS_BY_MODEL_TYPE[modelType], `${modelType}: the validator's names`);
  }
});

test("the accelerate engine's LoRA pattern wraps exactly the family's modules in each layer", () => {
  const { patterns } = pythonFamilies();
  const matches = (modelType: string, name: string) => new RegExp(`^(?:${patterns[modelType]!})$`).test(name);
  assert.ok(matches('mpnet', 'encoder.layer.0.attention.attn.q'));
  assert.ok(matches('mpnet', 'encoder.layer.11.attention.attn.v'));
  assert.ok(!matches('mpnet', 'encoder.layer.0.attention.attn.k'));
  assert.ok(matches('distilbert', 'transformer.layer.1.attention.q_lin'));
  assert.ok(!matches('distilbert', 'transformer.layer.1.ffn.lin1'));
  assert.ok(matches('bert', 'encoder.layer.2.attention.self.value'));
  assert.ok(!matches('bert', 'encoder.layer.2.attention.self.key'));
});

test('the accelerate engine finds each family its layers, and names what it cannot map', () => {
  const { layers, refusals } = pythonFamilies();
  assert.deepEqual(layers['bert'], [3, null, null]);
  assert.deepEqual(layers['mpnet'], [3, null, null]);
  assert.deepEqual(layers['distilbert'], [null, 2, null]);
  assert.match(refusals[0]!, /strategy\.lora\.targets: query is not a LoRA target of mpnet models; their targets are q, k, v, o, dense/);
  assert.match(refusals[1]!, /not model_type 'albert'/);
  assert.match(refusals[2]!, /strategy freeze .*bert, roberta, xlm-roberta, mpnet, distilbert.*'albert'/);
});

test('validate refuses lora and freeze on the accelerate engine for a model_type it has no module names for', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  workspace.write('albert/config.json', '{"model_type": "albert"}');
  workspace.write('mpnet/config.json', '{"model_type": "mpnet"}');
  workspace.write('data/pairs.jsonl', '{"anchor": "a", "positive": "b"}\n');
  const configPath = workspace.write('run.embedtune.yaml', '');
  const refusals = (base: string, strategy: string, engine: string) =>
    validateConfigText(
      `model:\n  base: ./${base}\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: ${strategy}\n  freeze_layers: 1\nengine:\n  type: ${engine}\n`,
      { configPath },
    ).diagnostics.filter((d) => d.code === 'accelerate-option-unsupported');
  for (const strategy of ['lora', 'freeze']) {
    const [refusal, ...more] = refusals('albert', strategy, 'accelerate');
    assert.equal(more.length, 0);
    assert.equal(refusal?.severity, 'error');
    assert.match(refusal!.message, new RegExp(`strategy.type ${strategy}: .*not of model_type albert`));
  }
  assert.deepEqual(refusals('albert', 'full', 'accelerate'), []);
  assert.deepEqual(refusals('mpnet', 'lora', 'accelerate'), []);
  assert.deepEqual(refusals('mpnet', 'freeze', 'accelerate'), []);
});

test('validate lets an image run on the accelerate engine freeze a ResNet by stage', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  workspace.write('resnet/config.json', '{"model_type": "resnet"}');
  const configPath = workspace.write('run.embedtune.yaml', '');
  const text =
    'task: image-classification\nmodel:\n  base: ./resnet\ndata:\n  train: images/train\nstrategy:\n  type: freeze\n  freeze_layers: 2\nengine:\n  type: accelerate\n';
  const codes = validateConfigText(text, { configPath }).diagnostics.map((d) => d.code);
  assert.ok(!codes.includes('accelerate-option-unsupported'), codes.join(', '));
});
