/**
 * How training cost grows with sequence length and batch size, EmbedTune (wasm) against PyTorch on the CPU, for the
 * BERT-mini shape with MNRL: throughput against sequence length, throughput against batch size, and peak memory
 * against batch size. Writes the "Cost growth" section of docs/benchmarks.md with three PNG charts in docs/images/,
 * and the raw numbers to bench/results/costGrowth.json. Run with `node --import tsx bench/costGrowth.ts`.
 *
 * It reuses bench/trainThroughput.ts's workers (one child process per measurement, peers alternating), so each
 * point is the same optimizer step that benchmark times.
 *
 * Options: --rounds N (default 1) --steps N (timed steps per child, default 2) --python PATH --no-docs
 *          --no-checkpointing (EmbedTune keeps all activations)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { writePngCharts, type ChartSpec } from './pngChart';
import { BERT_MINI, defaultPython, fmt, median, plainStepSpec, runChild, writeDocsSection, type WorkerReport } from './trainThroughput';

const ROOT = resolve(__dirname, '..');
const IMAGES = join(ROOT, 'docs', 'images');
const RESULTS_PATH = join(ROOT, 'bench', 'results', 'costGrowth.json');
const SECTION_TITLE = '## Cost growth';

/** BERT-mini keeps a full sweep within minutes on 2 cores; MiniLM-L6's cost grows the same way, about 3.4× higher. */
const SHAPE = BERT_MINI;

/** tfjs-node is left out here: the sweep is about how EmbedTune's default engine here (wasm) grows. */
type Peer = 'embedtune' | 'pytorch';

const SEQ_SWEEP = { batch: 8, seqs: [32, 64, 128, 256] };
const BATCH_SWEEP = { seq: 64, batches: [4, 8, 16, 32] };

interface Options {
  rounds: number;
  steps: number;
  python: string;
  docs: boolean;
  gradientCheckpointing: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { rounds: 1, steps: 2, python: defaultPython(), docs: true, gradientCheckpointing: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const count = () => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) throw new Error(`${arg} needs a whole number of at least 1, not "${argv[i]}".`);
      return value;
    };
    if (arg === '--rounds') options.rounds = count();
    else if (arg === '--steps') options.steps = count();
    else if (arg === '--python') options.python = argv[++i] ?? '';
    else if (arg === '--no-docs') options.docs = false;
    else if (arg === '--no-checkpointing') options.gradientCheckpointing = false;
    else throw new Error(`Unknown option ${arg}. See the comment at the top of bench/costGrowth.ts.`);
  }
  return options;
}

interface Point {
  readonly seq: number;
  readonly batch: number;
  /** Pairs per second, from the median step over all rounds; NaN when EmbedTune ran out of wasm memory. */
  readonly pairsPerSecond: Record<Peer, number>;
  readonly peakRssMib: Record<Peer, number>;
  readonly outOfMemory?: string;
}

/** Share of one layer's forward FLOPs spent in attention's two products, which grow with the sequence length. */
function attentionShare(seq: number): number {
  const { hidden: h, intermediate: f } = SHAPE;
  const attention = 4 * seq * h;
  const dense = 2 * (4 * h * h + 2 * h * f);
  return attention / (attention + dense);
}

function measure(seq: number, batch: number, options: Options, log: (line: string) => void): Point {
  const spec = plainStepSpec(SHAPE, seq, batch, {
    mode: 'train',
    warmup: 1,
    steps: options.steps,
    gradientCheckpointing: options.gradientCheckpointing,
  });
  const reports: Record<Peer, WorkerReport[]> = { embedtune: [], pytorch: [] };
  for (let round = 0; round < options.rounds; round++) {
    const order: Peer[] = round % 2 === 0 ? ['embedtune', 'pytorch'] : ['pytorch', 'embedtune'];
    for (const peer of order)
      reports[peer].push(
        runChild(peer, spec, { ...options, tfjsNode: undefined }, `cost-seq${seq}-batch${batch}-${peer}-round${round + 1}`),
      );
  }
  const outOfMemory = reports.embedtune.find((r) => r.out_of_memory)?.out_of_memory;
  const rate = (peer: Peer) =>
    peer === 'embedtune' && outOfMemory ? Number.NaN : batch / median(reports[peer].flatMap((r) => r.step_seconds));
  const point: Point = {
    seq,
    batch,
    pairsPerSecond: { embedtune: rate('embedtune'), pytorch: rate('pytorch') },
    peakRssMib: {
      embedtune: Math.max(...reports.embedtune.map((r) => r.peak_rss_mib)),
      pytorch: Math.max(...reports.pytorch.map((r) => r.peak_rss_mib)),
    },
    ...(outOfMemory ? { outOfMemory } : {}),
  };
  log(
    `  seq ${seq}, batch ${batch}: EmbedTune ${fmt(point.pairsPerSecond.embedtune)} pairs/s (${fmt(point.peakRssMib.embedtune, 0)} MiB), ` +
      `PyTorch ${fmt(point.pairsPerSecond.pytorch)} pairs/s (${fmt(point.peakRssMib.pytorch, 0)} MiB)${outOfMemory ? ` — ${outOfMemory}` : ''}`,
  );
  return point;
}

const first = (points: readonly Point[]) => points[0]!;
const last = (points: readonly Point[]) => points[points.length - 1]!;

/** "×1.23" from a to b, in tokens/s or pairs/s. */
function change(a: Point, b: Point, peer: Peer, perToken: boolean): string {
  const rate = (p: Point) => p.pairsPerSecond[peer] * (perToken ? 2 * p.seq : 1);
  return `×${fmt(rate(b) / rate(a))}`;
}

/** MiB of peak RSS per extra pair, between the smallest and the largest batch. */
function slope(points: readonly Point[], peer: Peer): number {
  return (last(points).peakRssMib[peer] - first(points).peakRssMib[peer]) / (last(points).batch - first(points).batch);
}

const ratio = (p: Point) => p.pairsPerSecond.embedtune / p.pairsPerSecond.pytorch;
const nullable = (value: number) => (Number.isFinite(value) ? value : null);

function charts(bySeq: readonly Point[], byBatch: readonly Point[]): Array<{ spec: ChartSpec; path: string; file: string }> {
  const throughputSeries = (points: readonly Point[], perToken: boolean) => {
    const value = (p: Point, peer: Peer) => nullable(perToken ? p.pairsPerSecond[peer] * 2 * p.seq : p.pairsPerSecond[peer]);
    return [
      { label: 'EmbedTune (wasm)', values: points.map((p) => value(p, 'embedtune')), color: '#1f77b4' },
      { label: 'PyTorch (CPU)', values: points.map((p) => value(p, 'pytorch')), color: '#d62728' },
      { label: 'ratio (right)', values: points.map((p) => nullable(ratio(p))), color: '#555', dash: true, right: true },
    ];
  };
  const specs: Array<{ spec: ChartSpec; file: string }> = [
    {
      file: 'cost-growth-sequence.png',
      spec: {
        title: `BERT-mini training, batch ${SEQ_SWEEP.batch} pairs: tokens/s against sequence length`,
        xLabel: 'sequence length (tokens)',
        x: bySeq.map((p) => p.seq),
        yLabel: 'tokens/s',
        yRightLabel: 'EmbedTune ÷ PyTorch',
        series: throughputSeries(bySeq, true),
        logX: true,
      },
    },
    {
      file: 'cost-growth-batch.png',
      spec: {
        title: `BERT-mini training, seq ${BATCH_SWEEP.seq}: pairs/s against batch size`,
        xLabel: 'batch size (pairs)',
        x: byBatch.map((p) => p.batch),
        yLabel: 'pairs/s',
        yRightLabel: 'EmbedTune ÷ PyTorch',
        series: throughputSeries(byBatch, false),
        logX: true,
      },
    },
    {
      file: 'memory-growth-batch.png',
      spec: {
        title: `BERT-mini training, seq ${BATCH_SWEEP.seq}: peak RSS against batch size`,
        xLabel: 'batch size (pairs)',
        x: byBatch.map((p) => p.batch),
        yLabel: 'peak RSS (MiB)',
        series: [
          { label: 'EmbedTune (wasm)', values: byBatch.map((p) => nullable(p.peakRssMib.embedtune)), color: '#1f77b4' },
          { label: 'PyTorch (CPU)', values: byBatch.map((p) => nullable(p.peakRssMib.pytorch)), color: '#d62728' },
        ],
        logX: true,
      },
    },
  ];
  return specs.map((s) => ({ ...s, path: join(IMAGES, s.file) }));
}

function renderSection(bySeq: readonly Point[], byBatch: readonly Point[], files: readonly string[], options: Options): string {
  const row = (p: Point, x: number) =>
    `| ${x} | ${fmt(p.pairsPerSecond.embedtune)} | ${fmt(p.pairsPerSecond.pytorch)} | ${fmt(ratio(p))}× | ${fmt(p.pairsPerSecond.embedtune * 2 * p.seq, 0)} | ${fmt(p.pairsPerSecond.pytorch * 2 * p.seq, 0)} | ${fmt(p.peakRssMib.embedtune, 0)} | ${fmt(p.peakRssMib.pytorch, 0)} |`;
  const header = (x: string) => [
    `| ${x} | EmbedTune pairs/s | PyTorch pairs/s | ratio | EmbedTune tokens/s | PyTorch tokens/s | EmbedTune peak RSS (MiB) | PyTorch peak RSS (MiB) |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const ooms = [...bySeq, ...byBatch].filter((p) => p.outOfMemory);
  return [
    SECTION_TITLE,
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores) · BERT-mini shape (4 layers, hidden 256), random weights, MNRL, one optimizer step as in "Training throughput and memory" · EmbedTune on wasm (2 threads, activation checkpointing ${options.gradientCheckpointing ? 'on, as `auto` chooses there' : 'off'}) · PyTorch on 2 threads · ${options.rounds} round(s) × ${options.steps} timed steps per point · load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}. Raw numbers: \`bench/results/costGrowth.json\`.`,
    '',
    ...files.map((file) => `![${file}](images/${file})`),
    '',
    `### Against sequence length (batch ${SEQ_SWEEP.batch} pairs)`,
    '',
    ...header('seq'),
    ...bySeq.map((p) => row(p, p.seq)),
    '',
    `Attention's two products grow with the square of the sequence length while everything else grows linearly; their share of a layer's forward FLOPs is ${bySeq.map((p) => `${fmt(100 * attentionShare(p.seq), 0)}% at ${p.seq}`).join(', ')} for this shape. ` +
      `From seq ${first(bySeq).seq} to ${last(bySeq).seq}, tokens/s changed ${change(first(bySeq), last(bySeq), 'embedtune', true)} for EmbedTune and ${change(first(bySeq), last(bySeq), 'pytorch', true)} for PyTorch. ` +
      'Short sequences make small matrix products that fill the vector units poorly; long ones add the quadratic attention work. EmbedTune runs attention as grouped products (a depthwise convolution, see src/trainer/backend/groupedMatMul.ts), slower per FLOP in XNNPACK than its dense GEMM, and its softmax over [batch, heads, seq, seq] is elementwise work on one thread, while PyTorch runs fused scaled-dot-product attention.',
    '',
    `### Against batch size (seq ${BATCH_SWEEP.seq})`,
    '',
    ...header('batch'),
    ...byBatch.map((p) => row(p, p.batch)),
    '',
    `From batch ${first(byBatch).batch} to ${last(byBatch).batch}, pairs/s changed ${change(first(byBatch), last(byBatch), 'embedtune', false)} for EmbedTune and ${change(first(byBatch), last(byBatch), 'pytorch', false)} for PyTorch: larger batches make larger matrix products, which use the cores better until they are full. ` +
      `Peak memory grew by ${fmt(slope(byBatch, 'embedtune'), 1)} MiB per extra pair for EmbedTune and ${fmt(slope(byBatch, 'pytorch'), 1)} MiB for PyTorch. EmbedTune's slope is one layer's activations per token plus every layer's input (activation checkpointing recomputes the rest), PyTorch's is every layer's activations. ` +
      "EmbedTune's fixed part is smaller (Node and the wasm module, against Python and torch with its CUDA libraries mapped), and WebAssembly's 4 GiB address space caps it.",
    ...(ooms.length > 0
      ? ['', `Out of wasm memory: ${ooms.map((p) => `seq ${p.seq}, batch ${p.batch} (${p.outOfMemory})`).join('; ')}.`]
      : []),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log('costGrowth: sequence sweep');
  const bySeq = SEQ_SWEEP.seqs.map((seq) => measure(seq, SEQ_SWEEP.batch, options, log));
  log('costGrowth: batch sweep');
  const byBatch = BATCH_SWEEP.batches.map((batch) => measure(BATCH_SWEEP.seq, batch, options, log));
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(RESULTS_PATH, `${JSON.stringify({ measuredAt: new Date().toISOString(), options, bySeq, byBatch }, null, 2)}\n`);
  const drawn = charts(bySeq, byBatch);
  if (options.docs) {
    mkdirSync(IMAGES, { recursive: true });
    await writePngCharts(drawn);
  }
  const section = renderSection(
    bySeq,
    byBatch,
    drawn.map((c) => c.file),
    options,
  );
  if (options.docs) writeDocsSection(SECTION_TITLE, section);
  process.stdout.write(`${section}\n`);
}

main().catch((error: unknown) => {
  console.error(`costGrowth failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
