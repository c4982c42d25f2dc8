/**
 * Hard-negative mining parity: `embedtune mine-negatives` (the built CLI, a child process, on PARITY_BACKEND) and
 * sentence-transformers' `mine_hard_negatives` mine the same real all-MiniLM-L6-v2 over the same 332 WordNet pairs
 * (definitions of noun.animal synsets and their word lists; 308 distinct definitions, as some synsets share one, plus
 * a few anchors given a second positive and two pairs repeated).
 * Their mined (anchor, positive, negative) triplets must overlap by at least 95%, once with `top` sampling inside a
 * range and a margin, once with max_score; a failure lists each anchor whose negatives differ, with both scores.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { cli, ensureBuilt } from './embedtuneRuns';
import { PARITY_BACKEND } from './parityBackend';
import { miniLmFolder, peersProblem, peerVersions, runReference } from './pythonPeers';
import { wordNetGlossPairs, type GlossPair } from './wordNetPairs';

const REQUIRED_OVERLAP = 0.95;
const TIMEOUT_MS = 20 * 60_000;

/** The mining pairs: real glosses, plus second positives and a repeated pair, which mine_hard_negatives groups per anchor. */
function miningPairs(): GlossPair[] {
  const pairs = wordNetGlossPairs('noun.animal', 320);
  const secondPositives = Array.from({ length: 10 }, (_, i) => ({ anchor: pairs[i * 30]!.anchor, positive: pairs[i * 30 + 1]!.positive }));
  return [...pairs, ...secondPositives, pairs[5]!, pairs[77]!];
}

interface MinedRow {
  readonly anchor: string;
  readonly positive: string;
  readonly negatives: readonly string[];
  /** The positive's score, then each negative's. */
  readonly scores: readonly number[];
}

interface Case {
  readonly name: string;
  readonly flags: readonly string[];
  readonly settings: Record<string, unknown>;
  readonly outputFormat: 'triplet' | 'n-tuple';
}

const CASES: readonly Case[] = [
  {
    name: 'top sampling between ranks 2 and 25 with an absolute margin of 0.05, as 6-tuples',
    flags: ['--num-negatives', '4', '--range-min', '2', '--range-max', '25', '--margin', '0.05', '--output-format', 'n-tuple'],
    settings: { num_negatives: 4, range_min: 2, range_max: 25, absolute_margin: 0.05, sampling_strategy: 'top', output_format: 'n-tuple' },
    outputFormat: 'n-tuple',
  },
  {
    name: 'top sampling under a max_score of 0.5 with the derived range_max, as triplets',
    flags: ['--num-negatives', '3', '--max-score', '0.5', '--output-format', 'triplet'],
    settings: { num_negatives: 3, max_score: 0.5, sampling_strategy: 'top', output_format: 'triplet' },
    outputFormat: 'triplet',
  },
];

/** Each row as (anchor, positive, negative) keys, with the negative's score. */
function triplets(rows: readonly MinedRow[]): Map<string, number> {
  const keyed = new Map<string, number>();
  for (const row of rows)
    row.negatives.forEach((negative, i) => keyed.set(tripletKey(row.anchor, row.positive, negative), row.scores[i + 1]!));
  return keyed;
}

function tripletKey(anchor: string, positive: string, negative: string): string {
  return JSON.stringify([anchor, positive, negative]);
}

/** Our output file, read back into the reference's row shape. */
function readOurs(file: string, outputFormat: Case['outputFormat']): MinedRow[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      const negatives =
        outputFormat === 'triplet'
          ? [row['negative'] as string]
          : Object.keys(row)
              .filter((key) => key.startsWith('negative_'))
              .sort((a, b) => Number(a.slice(9)) - Number(b.slice(9)))
              .map((key) => row[key] as string);
      return { anchor: row['anchor'] as string, positive: row['positive'] as string, negatives, scores: row['scores'] as number[] };
    });
}

/** Per anchor, the negatives only one side mined, with that side's score: what a failing test prints. */
function differences(ours: Map<string, number>, theirs: Map<string, number>): string[] {
  const lines: string[] = [];
  const only = (side: Map<string, number>, other: Map<string, number>, who: string) => {
    for (const [key, score] of side) {
      if (other.has(key)) continue;
      const [anchor, positive, negative] = JSON.parse(key) as string[];
      lines.push(
        `${who} only: ${JSON.stringify(anchor!.slice(0, 60))} (positive ${JSON.stringify(positive)}) → ${JSON.stringify(negative)} at ${score.toFixed(5)}`,
      );
    }
  };
  only(ours, theirs, 'embedtune');
  only(theirs, ours, 'sentence-transformers');
  return lines.sort();
}

describe(`mine-negatives against sentence-transformers' mine_hard_negatives (backend ${PARITY_BACKEND})`, { skip: peersProblem }, () => {
  for (const testCase of CASES) {
    it(`mines at least ${REQUIRED_OVERLAP * 100}% of the same negatives: ${testCase.name}`, { timeout: TIMEOUT_MS }, () => {
      ensureBuilt();
      const pairs = miningPairs();
      const workspace = new TempWorkspace();
      try {
        const data = workspace.write('pairs.jsonl', `${pairs.map((pair) => JSON.stringify(pair)).join('\n')}\n`);
        const out = workspace.path('mined.jsonl');
        const ran = cli(
          [
            'mine-negatives',
            miniLmFolder(),
            '--data',
            data,
            '--out',
            out,
            '--output-scores',
            '--backend',
            PARITY_BACKEND,
            ...testCase.flags,
          ],
          workspace.root,
          TIMEOUT_MS,
        );
        const reference = runReference<{ rows: MinedRow[]; seconds: number }>(
          'mine_negatives.py',
          {
            model: miniLmFolder(),
            anchors: pairs.map((pair) => pair.anchor),
            positives: pairs.map((pair) => pair.positive),
            settings: testCase.settings,
          },
          { timeoutMs: TIMEOUT_MS },
        );
        const ours = triplets(readOurs(out, testCase.outputFormat));
        const theirs = triplets(reference.rows);
        const shared = [...ours.keys()].filter((key) => theirs.has(key)).length;
        const overlap = shared / Math.max(ours.size, theirs.size, 1);
        const report = JSON.parse(readFileSync(workspace.path('mined.report.json'), 'utf8')) as { rows_written: number; anchors: number };
        console.log(
          `# ${testCase.name}: ${ours.size} triplets from embedtune (${ran.seconds.toFixed(1)} s), ${theirs.size} from sentence-transformers (${reference.seconds.toFixed(1)} s of mining), ${shared} shared: ${(overlap * 100).toFixed(2)}% (${peerVersions()})`,
        );
        assert.ok(
          theirs.size > pairs.length,
          `sentence-transformers mined ${theirs.size} triplets: too few for the comparison to mean anything`,
        );
        assert.equal(report.anchors, new Set(pairs.map((pair) => pair.anchor)).size, 'the report counts the distinct anchors');
        assert.equal(report.rows_written, readOurs(out, testCase.outputFormat).length, 'the report counts the rows written');
        assert.ok(
          overlap >= REQUIRED_OVERLAP,
          `only ${(overlap * 100).toFixed(2)}% of the mined triplets agree (${shared} of ${Math.max(ours.size, theirs.size)}):\n${differences(ours, theirs).join('\n')}`,
        );
        // Scores of the shared triplets: the same model on both sides, so they may differ only by float rounding.
        for (const [key, score] of ours) {
          const other = theirs.get(key);
          if (other !== undefined)
            assert.ok(
              Math.abs(score - other) < 1e-4,
              `the negative score of ${key} is ${score} here and ${other} in sentence-transformers`,
            );
        }
      } finally {
        workspace.dispose();
      }
    });
  }
});
