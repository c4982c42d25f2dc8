/**
 * MNRL on n-tuples against sentence-transformers (issue 16): on the real all-MiniLM-L6-v2, EmbedTune's mnrl and
 * cached_mnrl on a batch with 2 and 3 negative columns, built by the trainer's own toTextBatch, equal
 * `MultipleNegativesRankingLoss` / `CachedMultipleNegativesRankingLoss` on a dataset with the columns
 * (anchor, positive, negative_1, …, negative_n) within 1e-5. Run with `npm run test:parity`; skips without the peers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { NTupleExample } from '../../src/shared/data/trainingExamples';
import { encoderOpsFor } from '../../src/trainer/backend/encoderOpsFor';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { loadInferenceModel } from '../../src/trainer/model/inferenceModel';
import type { SentenceEmbedder } from '../../src/trainer/model/sentenceEmbedder';
import { toTextBatch } from '../../src/trainer/training/embeddingExamples';
import { embeddingLoss } from '../../src/trainer/training/embeddingLosses';
import { miniLmFolder, peersProblem, peerVersions, ROOT, runReference } from './pythonPeers';
import { PARITY_BACKEND } from './parityBackend';

const TOLERANCE = 1e-5;

interface Case {
  loss: 'mnrl' | 'cached_mnrl';
  scale: number;
  mini_batch_size: number;
  anchor: string[];
  positive: string[];
  negatives: string[][];
}

function tuples(negativeCount: number): NTupleExample[] {
  const rows = readFileSync(join(ROOT, 'examples/retrieval/data/train.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, 8)
    .map((line) => JSON.parse(line) as { query: string; passage: string });
  // Each anchor's k-th negative is another row's passage, a different one per column.
  return rows.map((row, i) => ({
    anchor: row.query,
    positive: row.passage,
    negatives: Array.from({ length: negativeCount }, (_, k) => rows[(i + 2 * k + 3) % rows.length]!.passage),
  }));
}

function ourLoss(embedder: SentenceEmbedder, loss: Case['loss'], examples: NTupleExample[]): number {
  return tf.tidy(() => {
    const batch = toTextBatch(examples);
    const all = embedder.embed([...batch.anchor, ...batch.positive, ...(batch.negative ?? [])]);
    const n = batch.anchor.length;
    const roles = {
      anchor: tf.slice(all, [0, 0], [n, -1]),
      positive: tf.slice(all, [n, 0], [n, -1]),
      negative: tf.slice(all, [2 * n, 0], [batch.negative?.length ?? 0, -1]),
    };
    return embeddingLoss(loss, roles, batch.targets, { scale: 20, margin: 0 }).dataSync()[0]!;
  });
}

describe('mnrl on n-tuples equals sentence-transformers MultipleNegativesRankingLoss on all-MiniLM-L6-v2', { skip: peersProblem }, () => {
  it(`gives (Cached)MultipleNegativesRankingLoss's value with 2 and 3 negative columns, within ${TOLERANCE}`, async (t) => {
    const folder = miniLmFolder();
    const shapes = [2, 3].flatMap((count) => (['mnrl', 'cached_mnrl'] as const).map((loss) => ({ loss, count })));
    const cases: Case[] = shapes.map(({ loss, count }) => {
      const examples = tuples(count);
      return {
        loss,
        scale: 20,
        mini_batch_size: 3,
        anchor: examples.map((row) => row.anchor),
        positive: examples.map((row) => row.positive),
        negatives: Array.from({ length: count }, (_, k) => examples.map((row) => row.negatives[k]!)),
      };
    });
    const python = runReference<{ losses: number[] }>('ntuple_mnrl_loss.py', { model: folder, cases });
    const backend = await selectBackend(PARITY_BACKEND);
    const model = await loadInferenceModel(folder, encoderOpsFor(backend.name));
    const lines: string[] = [];
    const failures: string[] = [];
    shapes.forEach(({ loss, count }, i) => {
      const ours = ourLoss(model.embedder, loss, tuples(count));
      const pairsOnly = ourLoss(
        model.embedder,
        loss,
        tuples(0).map((row) => ({ ...row, negatives: [] })),
      );
      const theirs = python.losses[i]!;
      lines.push(
        `${loss} with ${count} negative columns: ours ${ours.toFixed(7)}, sentence-transformers ${theirs.toFixed(7)} (pairs only ${pairsOnly.toFixed(5)})`,
      );
      if (!(Math.abs(ours - theirs) <= TOLERANCE * Math.max(1, Math.abs(theirs))))
        failures.push(`${loss} ×${count}: ours ${ours}, theirs ${theirs}`);
      // The negatives move the loss, so a batch that dropped them could not pass the check above.
      if (Math.abs(theirs - pairsOnly) < 1e-3) failures.push(`${loss} ×${count}: the negatives do not change the loss here`);
    });
    t.diagnostic(`${PARITY_BACKEND}; ${peerVersions()}\n${lines.join('\n')}`);
    assert.deepEqual(failures, []);
  });
});
