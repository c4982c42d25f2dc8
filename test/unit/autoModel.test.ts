import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseModelConfig, SUPPORTED_MODEL_TYPES } from '../../src/trainer/model/autoModel';
import { loraModules, positionIdsAfterPadding } from '../../src/trainer/model/bert/bertEncoder';
import { DISTILBERT_LAYOUT } from '../../src/trainer/model/distilbert/distilbertFamily';
import { BERT_LAYOUT } from '../../src/trainer/model/encoderLayout';
import { mpnetLayout } from '../../src/trainer/model/mpnet/mpnetFamily';
import { encoderLayerOf, isLayerNormWeight } from '../../src/trainer/model/weightNames';

describe('autoModel picks the family from config.json’s model_type', () => {
  it('names an unsupported model_type and lists the supported ones', () => {
    assert.throws(
      () => parseModelConfig({ model_type: 'gpt2' }, '/models/gpt2'),
      /The model in \/models\/gpt2 has model_type "gpt2", which EmbedTune cannot train\. Supported model types: bert, roberta, xlm-roberta, mpnet, distilbert/,
    );
    assert.throws(() => parseModelConfig({}, '/models/old'), /has no model_type/);
    assert.deepEqual(SUPPORTED_MODEL_TYPES, ['bert', 'roberta', 'xlm-roberta', 'mpnet', 'distilbert']);
  });

  it('reads each family with its own layout, defaults and position limit', () => {
    const roberta = parseModelConfig({ model_type: 'roberta', max_position_embeddings: 514, pad_token_id: 1 }, 'r');
    assert.equal(roberta.layout.positionIds, 'after-padding');
    assert.equal(roberta.maxSequenceLength, 512, 'RoBERTa reserves pad_token_id + 1 positions');
    assert.equal(parseModelConfig({ model_type: 'xlm-roberta' }, 'x').layout.family, 'xlm-roberta');
    const mpnet = parseModelConfig({ model_type: 'mpnet', max_position_embeddings: 514, relative_attention_num_buckets: 32 }, 'm');
    assert.equal(mpnet.layout.relativeAttentionBias?.numBuckets, 32);
    assert.equal(mpnet.layout.tokenTypeEmbeddings, undefined);
    assert.equal(mpnet.maxSequenceLength, 512);
    const distil = parseModelConfig({ model_type: 'distilbert', dim: 64, n_layers: 3, n_heads: 4, hidden_dim: 128 }, 'd');
    assert.deepEqual(
      [distil.config.hiddenSize, distil.config.numHiddenLayers, distil.config.numAttentionHeads, distil.config.intermediateSize],
      [64, 3, 4, 128],
    );
    assert.equal(distil.config.layerNormEps, 1e-12);
    assert.equal(distil.layout.tokenTypeEmbeddings, undefined);
    assert.equal(distil.maxSequenceLength, 512);
  });
});

describe('LoRA targets per family', () => {
  it('takes each family’s own names', () => {
    assert.deepEqual(loraModules(DISTILBERT_LAYOUT, ['q_lin', 'lin1']), ['attention.q_lin', 'ffn.lin1']);
    assert.deepEqual(loraModules(mpnetLayout(32), ['q', 'v']), ['attention.attn.q', 'attention.attn.v']);
    assert.deepEqual(loraModules(mpnetLayout(32), ['o', 'dense']), ['attention.attn.o', 'intermediate.dense', 'output.dense']);
    assert.deepEqual(loraModules(BERT_LAYOUT, ['value', 'dense']), [
      'attention.self.value',
      'attention.output.dense',
      'intermediate.dense',
      'output.dense',
    ]);
  });

  it('names the family’s targets when a config names one it lacks', () => {
    assert.throws(
      () => loraModules(DISTILBERT_LAYOUT, ['query', 'key']),
      /"query", "key" are not a LoRA target of distilbert models; their targets are q_lin, k_lin, v_lin, out_lin, lin1, lin2/,
    );
    // BERT's names, the schema's default, are never read as another family's: prepareRun fills the family's default.
    assert.throws(() => loraModules(mpnetLayout(32), ['query', 'value']), /"query", "value" are not a LoRA target of mpnet models/);
    assert.throws(
      () => loraModules(BERT_LAYOUT, ['q_lin']),
      /"q_lin" is not a LoRA target of bert models; their targets are query, key, value, dense/,
    );
  });
});

describe('weights by role across families', () => {
  it('finds layers and LayerNorms under every family’s names', () => {
    assert.equal(encoderLayerOf('encoder.layer.3.attention.attn.q.weight'), 3);
    assert.equal(encoderLayerOf('transformer.layer.1.ffn.lin1.weight'), 1);
    assert.equal(encoderLayerOf('encoder.relative_attention_bias.weight'), undefined);
    assert.equal(encoderLayerOf('embeddings.word_embeddings.weight'), undefined);
    assert.ok(isLayerNormWeight('transformer.layer.0.sa_layer_norm.weight'));
    assert.ok(isLayerNormWeight('encoder.layer.0.attention.LayerNorm.bias'));
    assert.ok(!isLayerNormWeight('transformer.layer.0.ffn.lin2.weight'));
  });
});

describe('RoBERTa and MPNet position ids', () => {
  it('count from pad_token_id + 1 over each row’s tokens and give padding pad_token_id', () => {
    const ids = Int32Array.from([0, 10, 11, 2, 0, 12, 2, 1, 1, 1]);
    assert.deepEqual(Array.from(positionIdsAfterPadding(ids, 5, 1)), [2, 3, 4, 5, 6, 2, 3, 1, 1, 1]);
  });
});
