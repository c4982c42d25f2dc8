/**
 * Parity of the model families beside BERT: for RoBERTa, XLM-RoBERTa, DistilBERT and MPNet, a small random checkpoint
 * that transformers itself builds and saves (test/parity/python/tiny_family.py: the family's own model class, a
 * byte-level BPE tokenizer for RoBERTa, a SentencePiece Unigram one for XLM-RoBERTa, WordPiece with RoBERTa's
 * post-processor for MPNet) is loaded by EmbedTune through config.json's model_type, and
 * - tokenizes ~1,000 varied sentences to the ids transformers gives;
 * - computes the transformer's last hidden state (padding included) within 1e-5 of transformers' forward;
 * - embeds the sentences within 1e-5 of SentenceTransformer.encode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encoderOpsFor } from '../../src/trainer/backend/encoderOpsFor';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { loadInferenceModel } from '../../src/trainer/model/inferenceModel';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { exampleTexts, paritySentences } from './paritySentences';
import { maxAbsDifference, miniLmFolder, mpnetFolder, mpnetProblem, peerVersions, runReference } from './pythonPeers';
import { PARITY_BACKEND } from './parityBackend';

const TOLERANCE = 1e-5;
const MAX_SEQ_LENGTH = 64;
const FAMILIES = ['roberta', 'xlm-roberta', 'distilbert', 'mpnet'] as const;
const SENTENCES = paritySentences(1000);
/** Texts of every length up to truncation, so that batches pad (and RoBERTa's position ids skip the padding). */
const FORWARD_TEXTS = SENTENCES.filter((_, i) => i % 16 === 0);

/** Whether `--test-name-pattern` (when given) selects the test of `family`. */
function selected(family: string): boolean {
  const patterns = process.execArgv.flatMap((arg, i, all) =>
    arg.startsWith('--test-name-pattern=') ? [arg.split('=')[1]!] : arg === '--test-name-pattern' ? [all[i + 1]!] : [],
  );
  return patterns.length === 0 || patterns.some((pattern) => new RegExp(pattern).test(`${family}: `) || new RegExp(pattern).test(family));
}

interface ForwardAnswer {
  readonly model_class: string;
  readonly input_ids: number[][];
  readonly batch_ids: number[][];
  readonly attention_mask: number[][];
  readonly hidden: number[][][];
  readonly embeddings: number[][];
}

describe('model families match transformers on small random checkpoints', { skip: mpnetProblem }, () => {
  const workspace = new TempWorkspace();
  let folders: Record<string, string> = {};
  before(() => {
    folders = runReference<{ folders: Record<string, string> }>('tiny_family.py', {
      out: workspace.path('models'),
      // Only the families this run tests (--test-name-pattern), since each costs seconds to build.
      families: FAMILIES.filter((family) => selected(family)),
      corpus: exampleTexts(),
      wordpiece_from: miniLmFolder(),
      mpnet_tokenizer_from: mpnetFolder(),
      seed: 5,
    }).folders;
  });
  after(() => workspace.dispose());

  const answers = new Map<string, ForwardAnswer>();
  /** transformers' answer for `family`, computed once for both of its tests. */
  const reference = (family: string): ForwardAnswer => {
    if (!answers.has(family)) {
      answers.set(
        family,
        runReference<ForwardAnswer>('forward.py', {
          model: folders[family]!,
          token_texts: SENTENCES,
          forward_texts: FORWARD_TEXTS,
          max_seq_length: MAX_SEQ_LENGTH,
        }),
      );
    }
    return answers.get(family)!;
  };

  for (const family of FAMILIES) {
    it(`${family}: tokenizes ~1,000 varied sentences to transformers' ids`, async (t) => {
      const python = reference(family);
      const backend = await selectBackend(PARITY_BACKEND);
      const { embedder } = await loadInferenceModel(folders[family]!, encoderOpsFor(backend.name));
      const mismatches = SENTENCES.flatMap((text, i) => {
        const ours = embedder.tokenizer.encode(text, MAX_SEQ_LENGTH).ids.join(' ');
        const theirs = python.input_ids[i]!.join(' ');
        return ours === theirs
          ? []
          : [`#${i} ${JSON.stringify(text.slice(0, 60))}: ours [${ours.slice(0, 80)}] vs [${theirs.slice(0, 80)}]`];
      });
      t.diagnostic(`${family}: ${SENTENCES.length - mismatches.length} of ${SENTENCES.length} sentences tokenized alike`);
      assert.deepEqual(
        mismatches.slice(0, 5),
        [],
        `${mismatches.length} of ${SENTENCES.length} sentences tokenize differently (${python.model_class})`,
      );
    });

    it(`${family}: same last hidden state as transformers and same sentence embeddings as sentence-transformers within ${TOLERANCE}`, async (t) => {
      const python = reference(family);
      const backend = await selectBackend(PARITY_BACKEND);
      const { embedder } = await loadInferenceModel(folders[family]!, encoderOpsFor(backend.name));
      assert.equal(embedder.encoder.layout.family, family, `EmbedTune read the model as ${family}, as its config.json's model_type says`);
      assert.equal(embedder.settings.maxSeqLength, MAX_SEQ_LENGTH);
      // transformers' own padded batch, so that this compares the forward alone.
      const batchSize = python.batch_ids.length;
      const seqLength = python.batch_ids[0]!.length;
      const batch = {
        inputIds: Int32Array.from(python.batch_ids.flat()),
        attentionMask: Int32Array.from(python.attention_mask.flat()),
        tokenTypeIds: new Int32Array(batchSize * seqLength),
        batchSize,
        seqLength,
      };
      const hidden = embedder.encoder.forward(batch);
      const ours = (await hidden.array()) as number[][][];
      hidden.dispose();
      const forwardWorst = maxAbsDifference(ours.flat(), python.hidden.flat());
      const vectors = await embedder.encode(FORWARD_TEXTS, 16);
      const encodeWorst = maxAbsDifference(vectors, python.embeddings);
      t.diagnostic(
        `${family} (${python.model_class}): ${batchSize} texts padded to ${seqLength} tokens; max |Δ| last hidden state ${forwardWorst.value.toExponential(2)}, ` +
          `sentence embeddings ${encodeWorst.value.toExponential(2)}; ${PARITY_BACKEND}; ${peerVersions()}`,
      );
      assert.ok(forwardWorst.value <= TOLERANCE, `${family}: the last hidden state differs from transformers' by ${forwardWorst.value}`);
      assert.ok(
        encodeWorst.value <= TOLERANCE,
        `${family}: the sentence embeddings differ from SentenceTransformer.encode's by ${encodeWorst.value}`,
      );
    });
  }
});
