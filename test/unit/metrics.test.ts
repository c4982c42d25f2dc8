import { test } from 'node:test';
import { TEST_PYTHON } from '../helpers/pythonPeer';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { classificationReport } from '../../src/trainer/evaluation/classificationMetrics';
import { averageRanks, pearson, spearman } from '../../src/trainer/evaluation/correlation';
import { entityReport, extractEntities } from '../../src/trainer/evaluation/entityMetrics';
import { parseRankingMetric, rankingMetrics, type SimilarityMatrix } from '../../src/trainer/evaluation/rankingMetrics';
import { buildRetrievalEvalSet } from '../../src/trainer/evaluation/retrievalEvalSet';

function matrix(rows: number[][]): SimilarityMatrix {
  return { data: Float32Array.from(rows.flat()), queries: rows.length, corpus: rows[0]?.length ?? 0 };
}

function assertClose(actual: Record<string, number>, expected: Record<string, number>, tolerance = 1e-6): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [name, value] of Object.entries(expected)) {
    assert.ok(Math.abs(actual[name]! - value) <= tolerance, `${name}: expected ${value}, got ${actual[name]}`);
  }
}

const log2 = Math.log2;

test('ranking metrics follow sentence-transformers, with ties ranked in corpus order and k past the corpus size', () => {
  // Ranking: doc 1 (0.9), doc 3 (0.9, tied, later index), doc 2, doc 4, doc 0. Relevant: 3 and 4, at ranks 2 and 4.
  const scores = matrix([[0.1, 0.9, 0.5, 0.9, 0.3]]);
  const names = ['accuracy@1', 'accuracy@2', 'precision@2', 'precision@10', 'recall@1', 'recall@2', 'recall@4', 'mrr@1', 'mrr@10'];
  const more = ['ndcg@2', 'ndcg@10', 'map@1', 'map@2', 'map@10'];
  assertClose(rankingMetrics(scores, [[3, 4]], [...names, ...more]), {
    'accuracy@1': 0,
    'accuracy@2': 1,
    'precision@2': 1 / 2,
    'precision@10': 2 / 10, // divided by k, not by the 5 documents there are
    'recall@1': 0,
    'recall@2': 1 / 2,
    'recall@4': 1,
    'mrr@1': 0,
    'mrr@10': 1 / 2,
    'ndcg@2': 1 / log2(3) / (1 + 1 / log2(3)),
    'ndcg@10': (1 / log2(3) + 1 / log2(5)) / (1 + 1 / log2(3)),
    'map@1': 0,
    'map@2': 1 / 2 / 2,
    'map@10': (1 / 2 + 2 / 4) / 2,
  });
});

test('a perfect ranking scores 1 and a worst ranking scores by the rank of the only relevant document', () => {
  const all = ['accuracy@1', 'recall@1', 'mrr@10', 'ndcg@10', 'map@10', 'precision@1'];
  assertClose(rankingMetrics(matrix([[1, 0, 0, 0]]), [[0]], all), Object.fromEntries(all.map((name) => [name, 1])));
  assertClose(rankingMetrics(matrix([[0, 1, 1, 1]]), [[0]], ['mrr@3', 'mrr@10', 'recall@3', 'ndcg@10', 'map@10']), {
    'mrr@3': 0,
    'mrr@10': 1 / 4,
    'recall@3': 0,
    'ndcg@10': 1 / log2(5),
    'map@10': 1 / 4,
  });
});

test('with several relevant documents, the ideal DCG and the MAP denominator are capped at k', () => {
  // Three relevant documents, the top two both relevant: perfect at k=2 even though one is missed.
  assertClose(rankingMetrics(matrix([[0.9, 0.8, 0.1, 0.7]]), [[0, 1, 2]], ['ndcg@2', 'map@2', 'recall@2', 'precision@2', 'map@4']), {
    'ndcg@2': 1,
    'map@2': 1,
    'recall@2': 2 / 3,
    'precision@2': 1,
    'map@4': (1 + 1 + 3 / 4) / 3,
  });
});

test('metrics average over queries, leaving out a query without relevant documents; NaN scores rank last', () => {
  const scores = matrix([
    [0.9, 0.1, 0.2],
    [0.9, 0.1, 0.2],
    [0.5, 0.5, 0.5],
  ]);
  assertClose(rankingMetrics(scores, [[0], [1], []], ['mrr@10', 'recall@1']), { 'mrr@10': (1 + 1 / 3) / 2, 'recall@1': 1 / 2 });
  assertClose(rankingMetrics(matrix([[Number.NaN, 0.2, 0.1]]), [[0]], ['mrr@10']), { 'mrr@10': 1 / 3 });
  assert.ok(Number.isNaN(rankingMetrics(scores, [[], [], []], ['ndcg@10'])['ndcg@10']));
});

test('ranking metric names are parsed, and bad input is refused with a message', () => {
  assert.deepEqual(parseRankingMetric('ndcg@10'), { name: 'ndcg@10', measure: 'ndcg', k: 10 });
  assert.deepEqual(parseRankingMetric('precision@5'), { name: 'precision@5', measure: 'precision', k: 5 });
  assert.equal(parseRankingMetric('ndcg'), undefined);
  assert.equal(parseRankingMetric('ndcg@0'), undefined);
  assert.equal(parseRankingMetric('spearman'), undefined);
  assert.throws(() => rankingMetrics(matrix([[1]]), [[0]], ['f1']), /"f1" is not a ranking metric/);
  assert.throws(() => rankingMetrics(matrix([[1]]), [[1]], ['mrr@1']), /document 1, outside the corpus of 1/);
  assert.throws(() => rankingMetrics({ data: new Float32Array(3), queries: 2, corpus: 2 }, [[0], [0]], ['mrr@1']), /holds 3 scores/);
});

test('the retrieval eval set has one query per distinct anchor, with all of its positives, over a deduplicated corpus', () => {
  const set = buildRetrievalEvalSet([
    { anchor: 'a1', positive: 'p1' },
    { anchor: 'a2', positive: 'p2' },
    { anchor: 'a1', positive: 'p3' },
    { anchor: 'a3', positive: 'p1' },
    { anchor: 'a4', positive: 'p4', relevant: false },
    { anchor: 'a1', positive: 'p1' },
  ]);
  assert.deepEqual(set, {
    queries: ['a1', 'a2', 'a3'],
    corpus: ['p1', 'p2', 'p3', 'p4'],
    relevant: [[0, 2], [1], [0]],
  });
});

test('Spearman averages the ranks of ties; Pearson matches the textbook formula', () => {
  assert.deepEqual([...averageRanks([10, 20, 20, 30])], [1, 2.5, 2.5, 4]);
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 8 / Math.sqrt(95)) < 1e-12);
  assert.ok(Math.abs(pearson([1, 2, 3], [1, 2, 4]) - 3 / Math.sqrt((2 * 42) / 9)) < 1e-12);
  assert.equal(pearson([1, 2, 3], [3, 2, 1]), -1);
  assert.equal(spearman(Float32Array.from([0.1, 0.5, 0.9]), [1, 10, 100]), 1);
});

test('correlations are NaN where scipy gives NaN: constant input, a NaN value, or fewer than two values', () => {
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])));
  assert.ok(Number.isNaN(spearman([1, Number.NaN, 3], [1, 2, 3])));
  assert.ok(Number.isNaN(pearson([1], [1])));
  assert.throws(() => pearson([1, 2], [1]), /Cannot correlate 2 predictions with 1 gold scores/);
});

test('classification metrics are macro-averaged over the sorted labels, with 0 for a zero denominator', () => {
  const report = classificationReport(['a', 'a', 'b', 'b', 'c'], ['a', 'b', 'b', 'b', 'a']);
  assert.deepEqual(report.confusionMatrix, {
    labels: ['a', 'b', 'c'],
    matrix: [
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ],
  });
  assert.deepEqual(report.perClass, {
    a: { precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
    b: { precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
    c: { precision: 0, recall: 0, f1: 0, support: 1 },
  });
  assertClose(report.metrics, { accuracy: 0.6, precision: (0.5 + 2 / 3) / 3, recall: 0.5, f1: (0.5 + 0.8) / 3 }, 1e-12);
  assert.equal(report.microF1, 0.6);

  const neverRight = classificationReport(['x'], ['y']);
  assert.deepEqual(neverRight.perClass, {
    x: { precision: 0, recall: 0, f1: 0, support: 1 },
    y: { precision: 0, recall: 0, f1: 0, support: 0 },
  });
  assert.ok(Number.isNaN(classificationReport([], []).accuracy));
});

test('entities count only with an exact span and type; I- without B- starts an entity, as in seqeval', () => {
  // seqeval's own docstring example.
  const gold = [
    ['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  const predicted = [
    ['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  const report = entityReport(gold, predicted);
  // Two of the ten tokens are tagged wrong: O→B-MISC and B-MISC→I-MISC.
  assertClose(report.metrics, { precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 8 / 10 }, 1e-12);
  assert.deepEqual(report.perType, {
    MISC: { precision: 0, recall: 0, f1: 0, support: 1 },
    PER: { precision: 1, recall: 1, f1: 1, support: 1 },
  });

  assert.deepEqual(
    extractEntities([
      ['I-PER', 'I-PER', 'O', 'I-LOC'],
      ['B-PER', 'I-LOC', 'B-DRUG', 'B-DRUG'],
    ]),
    [
      { type: 'PER', start: 0, end: 1 },
      { type: 'LOC', start: 3, end: 3 },
      // The second sentence starts at offset 5: the first has 4 tags, then one 'O' between them.
      { type: 'PER', start: 5, end: 5 },
      { type: 'LOC', start: 6, end: 6 },
      { type: 'DRUG', start: 7, end: 7 },
      { type: 'DRUG', start: 8, end: 8 },
    ],
  );
  assertClose(entityReport([['O', 'O']], [['O', 'O']]).metrics, { precision: 0, recall: 0, f1: 0, accuracy: 1 });
  assert.throws(() => entityReport([['O']], [['O', 'O']]), /Sentence 1 has 1 gold tags but 2 predicted ones/);
});

// ---------------------------------------------------------------------------------------------
// Cross-check against scipy, scikit-learn and seqeval on random inputs, when Python has them.
// Set EMBEDTUNE_TEST_PYTHON to a Python with `pip install scipy scikit-learn seqeval`.

const python = TEST_PYTHON;
const REFERENCE = String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from seqeval.metrics import precision_score, recall_score, f1_score
def num(value):
    value = float(value)
    return None if value != value else value  # JSON has no NaN
cases = json.load(sys.stdin)
out = []
for case in cases:
    if case["kind"] == "correlation":
        out.append({"pearson": num(pearsonr(case["x"], case["y"])[0]), "spearman": num(spearmanr(case["x"], case["y"])[0])})
    elif case["kind"] == "classification":
        g, p = case["gold"], case["predicted"]
        prec, rec, f1, _ = precision_recall_fscore_support(g, p, average="macro", zero_division=0)
        out.append({"accuracy": num(accuracy_score(g, p)), "precision": num(prec), "recall": num(rec), "f1": num(f1)})
    else:
        g, p = case["gold"], case["predicted"]
        out.append({"precision": num(precision_score(g, p, zero_division=0)), "recall": num(recall_score(g, p, zero_division=0)), "f1": num(f1_score(g, p, zero_division=0))})
print(json.dumps(out))
`;

function pythonUnavailable(): string | undefined {
  const probe = spawnSync(python, ['-c', 'import scipy, sklearn, seqeval'], { encoding: 'utf8' });
  if (probe.error) return `${python} is not available (${probe.error.message})`;
  if (probe.status !== 0) return `${python} lacks scipy, scikit-learn or seqeval: ${probe.stderr.trim().split('\n').at(-1)}`;
  return undefined;
}

test('the metrics match scipy, scikit-learn and seqeval on random inputs', (t) => {
  const reason = pythonUnavailable();
  if (reason) {
    t.skip(`cross-check skipped: ${reason}`);
    return;
  }
  const random = createRandom(2024);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const tags = ['O', 'O', 'O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC', 'I-MISC'];
  type Case =
    | { kind: 'correlation'; x: number[]; y: number[] }
    | { kind: 'classification'; gold: string[]; predicted: string[] }
    | { kind: 'entities'; gold: string[][]; predicted: string[][] };
  const cases: Case[] = [];
  for (let i = 0; i < 40; i++) {
    const n = 3 + Math.floor(random() * 30);
    // Rounded values make ties common, which is where Spearman implementations differ.
    const value = () => (i % 2 === 0 ? Math.round(random() * 5) : random());
    cases.push({ kind: 'correlation', x: Array.from({ length: n }, value), y: Array.from({ length: n }, value) });
    const labels = ['ant', 'bee', 'cat', 'dog'].slice(0, 2 + (i % 3));
    cases.push({
      kind: 'classification',
      gold: Array.from({ length: n }, () => pick(labels)),
      predicted: Array.from({ length: n }, () => pick(labels)),
    });
    const sentence = (length: number) => Array.from({ length }, () => pick(tags));
    const lengths = Array.from({ length: 1 + (i % 4) }, () => 1 + Math.floor(random() * 8));
    cases.push({ kind: 'entities', gold: lengths.map(sentence), predicted: lengths.map(sentence) });
  }
  const run = spawnSync(python, ['-c', REFERENCE], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const expected = JSON.parse(run.stdout) as Array<Record<string, number | null>>;
  cases.forEach((testCase, i) => {
    const actual: Record<string, number> =
      testCase.kind === 'correlation'
        ? { pearson: pearson(testCase.x, testCase.y), spearman: spearman(testCase.x, testCase.y) }
        : testCase.kind === 'classification'
          ? classificationReport(testCase.gold, testCase.predicted).metrics
          : (({ precision, recall, f1 }) => ({ precision, recall, f1 }))(entityReport(testCase.gold, testCase.predicted));
    for (const [name, reference] of Object.entries(expected[i]!)) {
      const mine = actual[name]!;
      // The reference script sends scipy's NaN as null.
      if (reference === null) assert.ok(Number.isNaN(mine), `case ${i} ${name}: expected NaN, got ${mine}`);
      else
        assert.ok(
          Math.abs(mine - reference) < 1e-9,
          `case ${i} ${name}: expected ${reference}, got ${mine} for ${JSON.stringify(testCase)}`,
        );
    }
  });
});
