import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { embedtuneSchemaNavigator } from '../../src/shared/config/embedtuneSchema';
import { LORA_TARGETS_BY_MODEL_TYPE } from '../../src/shared/config/loraTargets';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { CompletionService } from '../../src/server/service/completionService';
import { MODEL_FAMILIES, parseModelConfig } from '../../src/trainer/model/autoModel';
import { withCursor } from '../helpers/markedText';
import { TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());
workspace.write('models/distil/config.json', '{"model_type": "distilbert"}');
workspace.write('models/mpnet/config.json', '{"model_type": "mpnet"}');
workspace.write('models/bert/config.json', '{"model_type": "bert"}');
workspace.write('data/pairs.jsonl', '{"anchor": "a", "positive": "b"}\n');
const configPath = workspace.write('run.embedtune.yaml', '');

function configWith(base: string, targets: string): string {
  return `model:\n  base: ${base}\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lora\n  lora:\n    targets: ${targets}\n`;
}

function loraDiagnostics(text: string) {
  // The target check, and the schema's enum of every family's names.
  return validateConfigText(text, { configPath }).diagnostics.filter(
    (d) => d.code === 'lora-target-not-in-model' || d.code === 'invalid-value',
  );
}

describe('LoRA targets follow the model family in config.json', () => {
  it("reports a target the model's family lacks, on that item, with the family's names", () => {
    const text = configWith('./models/distil', '[q_lin, query]');
    const diagnostics = validateConfigText(text, { configPath }).diagnostics.filter((d) => d.code === 'lora-target-not-in-model');
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.severity, 'error');
    assert.match(
      diagnostics[0]!.message,
      /distilbert models have no "query" module\. Their LoRA targets are q_lin, k_lin, v_lin, out_lin, lin1, lin2\./,
    );
    assert.equal(text.slice(diagnostics[0]!.range.start, diagnostics[0]!.range.end), 'query', 'the diagnostic lands on the item');
  });

  it("accepts each family's own names, and BERT's on a BERT model", () => {
    assert.deepEqual(loraDiagnostics(configWith('./models/distil', '[q_lin, v_lin, lin1]')), []);
    assert.deepEqual(loraDiagnostics(configWith('./models/mpnet', '[q, v, o, dense]')), []);
    assert.deepEqual(loraDiagnostics(configWith('./models/bert', '[query, value, dense]')), []);
    assert.equal(
      validateConfigText(configWith('./models/bert', '[q_lin]'), { configPath }).diagnostics.filter(
        (d) => d.code === 'lora-target-not-in-model',
      ).length,
      1,
    );
  });

  it('says nothing about a hub id, whose config.json it cannot read', () => {
    const diagnostics = validateConfigText(configWith('sentence-transformers/all-mpnet-base-v2', '[q, v]'), { configPath }).diagnostics;
    assert.deepEqual(
      diagnostics.filter((d) => d.code === 'lora-target-not-in-model'),
      [],
    );
  });

  it("completes only the model family's target names", () => {
    const completion = new CompletionService(embedtuneSchemaNavigator);
    const labels = (base: string) => {
      const { text, offset } = withCursor(`model:\n  base: ${base}\nstrategy:\n  type: lora\n  lora:\n    targets:\n      - |`);
      const document = TextDocument.create('file:///x.embedtune.yaml', 'embedtune', 1, text);
      return completion.complete(document, offset, configPath).items.map((item) => item.label);
    };
    assert.deepEqual(labels('./models/distil'), ['q_lin', 'k_lin', 'v_lin', 'out_lin', 'lin1', 'lin2']);
    assert.deepEqual(labels('./models/mpnet'), ['q', 'k', 'v', 'o', 'dense']);
    assert.deepEqual(labels('./models/bert'), ['query', 'key', 'value', 'dense']);
  });

  it("names the same targets the trainer's layouts map to modules, for every supported model_type", () => {
    for (const family of MODEL_FAMILIES) {
      for (const modelType of family.modelTypes) {
        const { layout } = parseModelConfig({ model_type: modelType }, 'm');
        assert.deepEqual(LORA_TARGETS_BY_MODEL_TYPE[modelType], Object.keys(layout.loraTargets), modelType);
      }
    }
  });
});
