import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PRIMARY_SEED, type ImageCaseResult, type RealImagesResults } from './realImagesTypes';

/**
 * Writes the image section of docs/results.md between its two markers, leaving the rest of the file (the text
 * real-data report, bench/realData/resultsDoc.ts) as it is; without the markers, the section is appended.
 */
const DOC = join(resolve(__dirname, '../..'), 'docs/results.md');
export const SECTION_START = '<!-- bench/realImages: start -->';
export const SECTION_END = '<!-- bench/realImages: end -->';

export function writeImagesResultsSection(results: RealImagesResults, doc = DOC): void {
  const text = readFileSync(doc, 'utf8');
  const section = [SECTION_START, ...imagesSection(results), SECTION_END].join('\n');
  const start = text.indexOf(SECTION_START);
  const end = text.indexOf(SECTION_END);
  const updated =
    start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + SECTION_END.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(doc, updated);
  console.log(`wrote the image section of ${doc}`);
}

export function imagesSection(results: RealImagesResults): string[] {
  const all = Object.values(results.cases);
  const rows = all
    .filter((r) => r.settings.seed === PRIMARY_SEED)
    .sort((a, b) => a.engine.localeCompare(b.engine) * -1 || a.loss.localeCompare(b.loss) * -1);
  const classes = Object.entries(results.data.classes);
  const lines = [
    '## Images: a random ResNet-18 on a 4-class, imbalanced Fashion-MNIST subset',
    '',
    '`npm run bench:images-real` (`bench/realImages/`) over Fashion-MNIST as Debian ships it (`dataset-fashion-mnist`,',
    `IDX files): the four upper-body garments, the dataset's most confusable classes, in seeded imbalanced counts, for the`,
    "seed's 4-class defect case:",
    '',
    '| Class | Training images | Validation images (from t10k) |',
    '| --- | ---: | ---: |',
    ...classes.map(([name, count]) => `| ${name} | ${count.train} | ${count.validation} |`),
    '',
    `- Each 28×28 image is padded with 2 black pixels to ${results.data.image_side}×${results.data.image_side} and written as an RGB PNG: no resampling, so both engines see`,
    '  the same pixels; 32 is the smallest side a ResNet reduces to a 1×1 map, and keeps an epoch to seconds on 2 cores.',
    `- Model: ${results.model.description}, ${JSON.stringify(results.model.config)}; every run starts from the same folder`,
    `  (model.safetensors SHA-256 \`${results.model.sha256.slice(0, 16)}…\`), and each engine puts a new 4-class head in place of its`,
    '  10-class placeholder head, seeded by `training.seed` from its own generator.',
    '- **Pretrained ImageNet weights cannot be downloaded on this machine** (no network beyond package registries), so the',
    "  backbone is random and the step-0 scores are chance: this measures training from scratch, not the seed's transfer",
    '  from ImageNet (its 65 % → 91 % mAP). The loaders are tested on the real layouts with random weights (docs/images.md).',
  ];
  if (rows.length === 0) return [...lines, '', 'No case has been recorded yet.', ''];
  const s = sharedSettings(all);
  lines.push(
    `- Settings (from each run's config.resolved.yaml): ${s.epochs} epochs, batch ${s.batch_size}, AdamW at ${s.learning_rate} with weight decay ${s.weight_decay}, warmup ${s.warmup}, ${s.scheduler} schedule, seed ${s.seed}, \`strategy: full\` (BatchNorm in train mode); augmentation ${imageAugment(s.augment)} on the training split (each engine draws its own).`,
    "- Softmax is plain cross-entropy; focal is `gamma: 2` with `class_weights: balanced` (inverse class frequency as alpha), the seed's answer to imbalance.",
    '- Threads: tfjs-node with 2 intra-op threads; PyTorch with `OMP_NUM_THREADS=2` and `OMP_WAIT_POLICY=PASSIVE`. Without the wait policy, GNU OpenMP threads spin while waiting, and on this oversubscribed machine a ResNet-18 training step at batch 32 ran at about 20 images/s with 2 threads against about 200 with 1 (measured alone, outside the runs).',
    "- Wall is the whole `embedtune train` process (start, data loading, every evaluation and checkpoint, the export; Python and torch's import for accelerate); Training is the optimizer steps alone, from the events' times.",
    '- Before = the step-0 evaluation (random backbone, new head), after = the evaluation after the last step; F1 is macro; mAP is the mean over classes of one-vs-rest average precision of the softmax probabilities.',
    '',
    '| Engine | Loss | Steps | Accuracy before → after | Macro-F1 before → after | mAP before → after | AP per class after | Wall (s) | Training (s) | Load (1 min) |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
    ...rows.map(tableRow),
    '',
    ...otherCliNote(rows),
    `Machine: ${results.machine}, shared with other jobs; the load column is the 1-minute load average when each run started and ended, so the times are upper bounds that depend on it. Runs finished ${dateRange(all)}.`,
    '',
    ...seedSection(all, rarestClass(results)),
  );
  const failed = Object.values(results.failed);
  if (failed.length > 0)
    lines.push('', 'Cases that failed in the last run:', ...failed.map((f) => `- ${f.case} (${f.failed_at}): ${f.error.split('\n')[0]}`));
  lines.push('');
  return lines;
}

/** Rows run by a CLI bundle other than dist/cli.js are marked, and the note names the bundle. */
const OTHER_CLI_MARK = '†';
const DEFAULT_CLI = 'dist/cli.js';

function otherCliNote(rows: readonly ImageCaseResult[]): string[] {
  const others = [...new Set(rows.filter((r) => r.cli !== DEFAULT_CLI).map((r) => r.cli))];
  if (others.length === 0) return [];
  return [
    `${OTHER_CLI_MARK} Run with the CLI bundle ${others.map((cli) => `\`${cli}\``).join(', ')} (\`--cli\`), not \`${DEFAULT_CLI}\`: when these runs were made,`,
    '`dist/cli.js` refused `task: image-classification` with `engine.type: accelerate` before launch (`accelerate-option-unsupported`,',
    '"task image-classification has no counterpart in the accelerate engine", from `src/shared/config/checks/accelerateChecks.ts`),',
    "although the engine's Python side trains the task. `bench/realImages/buildLiftedCli.mjs` bundles the same source with that one",
    'check admitting the task, and nothing else changed.',
    '',
  ];
}

/** The settings every recorded run shares but its seed and loss; runs recorded with others cannot share one description. */
function sharedSettings(all: readonly ImageCaseResult[]): ImageCaseResult['settings'] {
  const recipe = (r: ImageCaseResult) =>
    JSON.stringify({ ...r.settings, seed: undefined, loss: undefined, augment: { ...r.settings.augment, seed: undefined } });
  const recipes = [...new Set(all.map(recipe))];
  if (recipes.length !== 1)
    throw new Error(`The recorded runs differ in their settings (${recipes.join(' / ')}); run the cases again together.`);
  return { ...all[0]!.settings, seed: PRIMARY_SEED };
}

function rarestClass(results: RealImagesResults): string {
  return Object.entries(results.data.classes).sort(([, a], [, b]) => a.train - b.train)[0]![0];
}

/** The image keys of the resolved augment section (the text ones are defaults that image runs do not use). */
const IMAGE_AUGMENT_KEYS = ['horizontal_flip', 'vertical_flip', 'rotation', 'random_resized_crop', 'color_jitter'];

function imageAugment(augment: Record<string, unknown>): string {
  const set = IMAGE_AUGMENT_KEYS.filter((key) => augment[key] !== undefined && augment[key] !== 0).map(
    (key) => `${key} ${JSON.stringify(augment[key])}`,
  );
  return set.length === 0 ? 'none' : `\`${set.join(', ')}\``;
}

/** Every case over the seeds recorded for it: the spread says how much of a difference between rows is noise. */
function seedSection(all: readonly ImageCaseResult[], rarest: string): string[] {
  const byCase = new Map<string, ImageCaseResult[]>();
  for (const r of all) byCase.set(r.case, [...(byCase.get(r.case) ?? []), r]);
  const cases = [...byCase.entries()].filter(([, runs]) => runs.length > 1).sort(([a], [b]) => b.localeCompare(a));
  if (cases.length === 0) return [];
  const lines = [
    '### The same cases over several seeds',
    '',
    '`training.seed` draws the new head, the batch order and the augmentation; the backbone is the same folder in every run.',
    'Each cell is the mean after training, with the lowest and highest run in brackets.',
    '',
    `| Engine | Loss | Seeds | Accuracy after | Macro-F1 after | mAP after | AP of ${rarest} after (the rarest class) |`,
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [, runs] of cases) {
    const seeds = runs.map((r) => r.settings.seed).sort((a, b) => a - b);
    const spread = (pick: (r: ImageCaseResult) => number) => {
      const values = runs.map(pick);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      return `${percent(mean)} (${percent(Math.min(...values))}–${percent(Math.max(...values))})`;
    };
    lines.push(
      `| ${runs[0]!.engine} | ${runs[0]!.loss} | ${seeds.join(', ')} | ${spread((r) => metric(r.after, 'accuracy'))} | ${spread((r) => metric(r.after, 'f1'))} | ${spread((r) => metric(r.after, 'map'))} | ${spread((r) => r.after_per_class_ap[rarest] ?? Number.NaN)} |`,
    );
  }
  lines.push(
    '',
    ...lossComparison(cases),
    '',
    'Balanced class weights move predictions toward the rare classes, which costs accuracy on a validation set whose',
    "majority class is the most frequent training class; mAP ranks the validation images by each class's probability,",
    'so it does not score where the argmax falls. The spread over the seeds is the yardstick for every difference above.',
  );
  return lines;
}

/** Focal against softmax per engine: the difference of the means beside the spread of the seeds. */
function lossComparison(cases: readonly (readonly [string, ImageCaseResult[]])[]): string[] {
  const mean = (runs: readonly ImageCaseResult[], name: string) => runs.reduce((sum, r) => sum + metric(r.after, name), 0) / runs.length;
  const range = (runs: readonly ImageCaseResult[], name: string) =>
    Math.max(...runs.map((r) => metric(r.after, name))) - Math.min(...runs.map((r) => metric(r.after, name)));
  const lines: string[] = [];
  for (const engine of ['tfjs', 'accelerate'] as const) {
    const of = (loss: string) => cases.find(([, runs]) => runs[0]!.engine === engine && runs[0]!.loss === loss)?.[1];
    const softmax = of('softmax');
    const focal = of('focal');
    if (!softmax || !focal) continue;
    const parts = (['map', 'f1', 'accuracy'] as const).map((name) => {
      const delta = mean(focal, name) - mean(softmax, name);
      const noise = Math.max(range(softmax, name), range(focal, name));
      return `${name === 'f1' ? 'macro-F1' : name === 'map' ? 'mAP' : name} ${points(delta)} (seeds spread up to ${(100 * noise).toFixed(1)} pt)`;
    });
    lines.push(`- ${engine}: focal minus softmax, means over the seeds: ${parts.join(', ')}.`);
  }
  return lines;
}

const points = (delta: number) => `${delta >= 0 ? '+' : '−'}${Math.abs(100 * delta).toFixed(1)} pt`;

function tableRow(r: ImageCaseResult): string {
  const mark = r.cli === DEFAULT_CLI ? '' : ` ${OTHER_CLI_MARK}`;
  const backend = r.backend === 'tensorflow' ? 'tfjs-node' : r.backend;
  const engine = (r.engine === 'tfjs' ? `tfjs (${backend})` : `accelerate (${r.backend}, PyTorch)`) + mark;
  const ap = Object.entries(r.after_per_class_ap)
    .map(([name, value]) => `${name} ${value === null ? '—' : percent(value)}`)
    .join(', ');
  return `| ${engine} | ${r.loss} | ${r.steps} | ${beforeAfter(r, 'accuracy')} | ${beforeAfter(r, 'f1')} | ${beforeAfter(r, 'map')} | ${ap} | ${r.wall_seconds.toFixed(0)} | ${r.train_seconds.toFixed(0)} | ${r.load_before.toFixed(1)} → ${r.load_after.toFixed(1)} |`;
}

function dateRange(rows: readonly ImageCaseResult[]): string {
  const times = rows.map((r) => r.finished_at).sort();
  const day = (t: string) => `${t.slice(0, 10)} ${t.slice(11, 16)} UTC`;
  return times.length === 1 ? day(times[0]!) : `${day(times[0]!)} to ${day(times.at(-1)!)}`;
}

function metric(values: Readonly<Record<string, number | null>>, name: string): number {
  const value = values[name];
  if (value === undefined || value === null) throw new Error(`No ${name} in ${JSON.stringify(values)}.`);
  return value;
}

const percent = (value: number) => `${(100 * value).toFixed(1)} %`;
const beforeAfter = (r: ImageCaseResult, name: string) => `${percent(metric(r.before, name))} → **${percent(metric(r.after, name))}**`;
