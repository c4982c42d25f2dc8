import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ConfigDiagnostic } from '../../src/shared/config/configDiagnostic';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { withRange } from '../helpers/markedText';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());
workspace.write('data/pairs.jsonl', pairsJsonl(200));
workspace.write('data/qa.jsonl', pairsJsonl(50, ['query', 'passage']));
const configPath = workspace.path('run.embedtune.yaml');

const HEADER = 'model:\n  base: sentence-transformers/all-MiniLM-L6-v2\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lora\n';

function diagnose(text: string): ConfigDiagnostic[] {
  return validateConfigText(text, { configPath }).diagnostics;
}

/** Asserts that exactly one diagnostic with `code` sits on the `[[marked]]` range, and returns it. */
function expectDiagnostic(marked: string, code: string): ConfigDiagnostic {
  const { text, range } = withRange(marked);
  const found = diagnose(text).filter((d) => d.code === code);
  assert.equal(found.length, 1, `expected one ${code}, got: ${JSON.stringify(diagnose(text), null, 1)}`);
  assert.deepEqual(
    found[0]!.range,
    range,
    `${code} is on "${text.slice(found[0]!.range.start, found[0]!.range.end)}", expected "${text.slice(range.start, range.end)}"`,
  );
  return found[0]!;
}

function codesOf(text: string): string[] {
  return diagnose(text).map((d) => d.code);
}

describe('schema diagnostics land on the node they are about', () => {
  it('marks an unknown key on the key and suggests the closest known key', () => {
    const d = expectDiagnostic(`${HEADER}training:\n  [[lerning_rate]]: 2e-5\n`, 'unknown-key');
    assert.match(d.message, /Did you mean "learning_rate"\?/);
    assert.equal(d.data?.suggestion, 'learning_rate');
    assert.equal(d.severity, 'error');
  });

  it('says which section a key of another section belongs to, and carries where to move it', () => {
    const d = expectDiagnostic(`${HEADER}engine:\n  type: tfjs\n  [[mixed_precision]]: bf16\n`, 'unknown-key');
    assert.equal(d.message, '"mixed_precision" does not belong in engine: it is a key of `training`. Move it to training.mixed_precision.');
    assert.deepEqual(d.data?.moveTo, ['training', 'mixed_precision']);
    const top = expectDiagnostic(`${HEADER}[[learning_rate]]: 1e-4\n`, 'unknown-key');
    assert.deepEqual(top.data?.moveTo, ['training', 'learning_rate']);
  });

  it('lists the known keys when nothing is close to an unknown key', () => {
    const d = expectDiagnostic(`${HEADER}[[zzzzqqq]]: 1\n`, 'unknown-key');
    assert.equal(d.data?.suggestion, undefined);
    assert.match(d.message, /Known keys: .*training/);
  });

  it('marks a wrong enum value on the value and suggests the intended one', () => {
    const d = expectDiagnostic(`${HEADER}loss:\n  type: [[mnlr]]\n`, 'invalid-value');
    assert.match(d.message, /loss\.type must be one of .*"mnrl".* \(got the string "mnlr"\)\. Did you mean "mnrl"\?/);
  });

  it('marks a value of the wrong type on the value', () => {
    const d = expectDiagnostic(`${HEADER}training:\n  batch_size: [["32a"]]\n`, 'wrong-type');
    assert.match(d.message, /training\.batch_size must be an integer, not the string "32a"/);
  });

  it('marks a key without a value on the key', () => {
    expectDiagnostic(`${HEADER}training:\n  [[epochs]]:\n  batch_size: 32\n`, 'wrong-type');
  });

  it('marks a number out of range and states the bound', () => {
    const d = expectDiagnostic(`${HEADER}training:\n  learning_rate: [[0]]\n`, 'out-of-range');
    assert.match(d.message, /learning_rate must be > 0/);
  });

  it('explains every accepted form when a value matches none of them', () => {
    const d = expectDiagnostic(`${HEADER}training:\n  warmup: [[1.5]]\n`, 'out-of-range');
    assert.match(d.message, /training\.warmup must be a number ≥ 0 and < 1, or an integer ≥ 1 \(got 1\.5\)/);
    const interval = expectDiagnostic(`${HEADER}evaluation:\n  every: [[epoc]]\n`, 'invalid-value');
    assert.match(interval.message, /Did you mean "epoch"\?/);
  });

  it('marks a bad item of a list on that item', () => {
    expectDiagnostic(`${HEADER}evaluation:\n  metrics: [ndcg@10, [[ndcg@0]]]\n  primary: ndcg@10\n`, 'invalid-value');
    expectDiagnostic(`${HEADER}evaluation:\n  metrics:\n    - ndcg@10\n    - [[ndcg@10]]\n  primary: ndcg@10\n`, 'invalid-value');
  });

  it('marks a missing required key on its parent key', () => {
    const { text, range } = withRange('[[model]]:\n  pooling: mean\ndata:\n  train: data/pairs.jsonl\n');
    const found = diagnose(text).find((d) => d.code === 'missing-key');
    assert.ok(found);
    assert.deepEqual(found.range, range);
    assert.match(found.message, /model is missing the required key "base"/);
  });

  it('reports an empty file as missing the required sections instead of crashing', () => {
    for (const text of ['', '# only a comment\n', '---\n']) {
      const diagnostics = diagnose(text);
      assert.deepEqual(
        diagnostics.map((d) => d.code),
        ['missing-key'],
        JSON.stringify(diagnostics),
      );
    }
  });

  it('reports a top level that is not a mapping', () => {
    assert.deepEqual(codesOf('- model\n- data\n'), ['not-a-mapping']);
    assert.deepEqual(codesOf('just a string\n'), ['not-a-mapping']);
  });
});

describe('YAML syntax errors', () => {
  it('are marked at their own position and never throw', () => {
    const d = expectDiagnostic(`${HEADER}training:\n  batch_size: 32\n  scheduler: [['cosine]]\n`, 'yaml-syntax');
    assert.equal(d.severity, 'error');
  });

  it('mark a duplicate key on the duplicate', () => {
    const { text } = withRange(`${HEADER}training:\n  epochs: 1\n  epochs: 2\n[[]]`);
    const syntax = diagnose(text).filter((d) => d.code === 'yaml-syntax');
    assert.equal(syntax.length, 1);
    assert.equal(text.slice(syntax[0]!.range.start, syntax[0]!.range.end).trim(), 'epochs');
    assert.ok(syntax[0]!.range.start > text.indexOf('epochs: 1'), 'the second epochs is marked, not the first');
  });

  it('survive every truncation of a valid config', () => {
    const full = `${HEADER}training:\n  epochs: 3\n  batch_size: 64\n  warmup: 0.1\nevaluation:\n  metrics: [ndcg@10, "mrr@10"]\n  primary: ndcg@10\n`;
    for (let cut = 0; cut <= full.length; cut++) {
      const result = validateConfigText(full.slice(0, cut), { configPath });
      for (const d of result.diagnostics) {
        assert.ok(d.range.start >= 0 && d.range.end <= cut && d.range.start <= d.range.end, `bad range at cut ${cut}`);
      }
    }
  });
});

describe('values and files that are not what they seem', () => {
  it('names .nan, .inf and numbers beyond double range for what they are, not null', () => {
    const nan = expectDiagnostic(`${HEADER}training:\n  learning_rate: [[.nan]]\n`, 'invalid-value');
    assert.equal(nan.message, 'training.learning_rate must be a finite number: .nan is "not a number" in YAML.');
    const inf = expectDiagnostic(`${HEADER}training:\n  learning_rate: [[-.inf]]\n`, 'out-of-range');
    assert.equal(inf.message, 'training.learning_rate must be a finite number: -.inf is infinity in YAML.');
    const huge = expectDiagnostic(`${HEADER}training:\n  learning_rate: [[1e309]]\n`, 'out-of-range');
    assert.match(
      huge.message,
      /^training\.learning_rate must be a finite number: 1e309 is beyond the largest number .* so it reads as infinity\.$/,
    );
    for (const d of [nan, inf, huge]) assert.doesNotMatch(d.message, /null/);
  });

  it('recognises a UTF-16 file read as UTF-8, with or without its byte order mark', () => {
    for (const bytes of [
      Buffer.from(`\uFEFF${HEADER}`, 'utf16le'),
      Buffer.from(HEADER, 'utf16le'),
      Buffer.from(HEADER, 'utf16le').swap16(),
    ]) {
      const found = diagnose(bytes.toString('utf8'));
      assert.deepEqual(
        found.map((d) => d.code),
        ['config-encoding'],
      );
      assert.match(found[0]!.message, /UTF-16 encoded.*Save it as UTF-8/);
    }
  });

  it('reports a second byte order mark instead of an unknown key', () => {
    const found = diagnose(`\uFEFF\uFEFF${HEADER}`);
    assert.deepEqual(
      found.map((d) => [d.code, d.range]),
      [['config-encoding', { start: 1, end: 2 }]],
    );
    assert.match(found[0]!.message, /more than one byte order mark/);
    assert.deepEqual(diagnose(`\uFEFF${HEADER}`), [], 'one byte order mark is fine');
  });

  it('reports 10k levels of nesting as too deep, in flow and in block style, never as a stack overflow', () => {
    let block = `${HEADER}training:\n`;
    for (let depth = 1; depth < 10_000; depth++) block += `${' '.repeat(depth)}a:\n`;
    for (const text of [
      `${HEADER}x: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
      `${HEADER}x: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`,
      block,
    ]) {
      const found = diagnose(text);
      assert.deepEqual(
        found.map((d) => d.code),
        ['nesting-too-deep'],
      );
      assert.match(found[0]!.message, /^The config nests \d+ levels deep here; EmbedTune reads at most 256 levels/);
    }
    assert.ok(!codesOf(`${HEADER}x: ${'['.repeat(200)}${']'.repeat(200)}\n`).includes('nesting-too-deep'), '200 levels are read');
  });
});

describe('thousands of problems', () => {
  it('lists the first 200 schema problems and counts the rest in one diagnostic on the first left out', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `  unknown_${i}: ${i}\n`).join('');
    const text = `${HEADER}training:\n${keys}`;
    const found = diagnose(text);
    assert.equal(found.filter((d) => d.code === 'unknown-key').length, 200);
    const summary = found.filter((d) => d.code === 'too-many-problems');
    assert.equal(summary.length, 1);
    assert.match(
      summary[0]!.message,
      /^800 more schema problems from here on are not listed: a document lists the first 200\. The next one: Unknown key "unknown_200"/,
    );
    assert.equal(text.slice(summary[0]!.range.start, summary[0]!.range.end), 'unknown_200');
  });
});

describe('thousands of syntax errors', () => {
  it('lists the first 200 and counts the rest', () => {
    const text = `${HEADER}training:\n${Array.from({ length: 250 }, (_, i) => `  key_${i}: [unclosed\n`).join('')}`;
    const found = diagnose(text);
    assert.equal(found.filter((d) => d.code === 'yaml-syntax').length, 200);
    assert.equal(found.length, 201);
    assert.equal(found[200]!.code, 'too-many-problems');
    assert.match(
      found[200]!.message,
      /^298 more syntax errors from here on are not listed: a document lists the first 200\. The next one: /,
    );
  });

  it('reports the syntax error that makes every following line nest in the one before, not only the depth', () => {
    const text = `training:\n${Array.from({ length: 1000 }, (_, i) => `  k${i}: a: b\n`).join('')}`;
    const found = diagnose(text);
    assert.equal(found[0]!.code, 'yaml-syntax');
    assert.match(found[0]!.message, /Nested mappings are not allowed in compact mappings/);
    assert.equal(found[found.length - 1]!.code, 'nesting-too-deep');
  });
});

describe('the JSON form', () => {
  it('gets the same diagnostics on the same keys', () => {
    const { text, range } = withRange(
      '{\n  "model": {"base": "x"},\n  "data": {"train": "data/pairs.jsonl"},\n  "strategy": {"type": "lora"},\n  "training": {[["lerning_rate"]]: 0.1}\n}\n',
    );
    const found = diagnose(text).filter((d) => d.code === 'unknown-key');
    assert.equal(found.length, 1);
    assert.deepEqual(found[0]!.range, range);
  });
});

describe('checks beyond the schema', () => {
  it('reports a missing data file on its path, naming where it was looked for', () => {
    const d = expectDiagnostic('model:\n  base: x\ndata:\n  train: [[data/nope.jsonl]]\n', 'data-file-missing');
    assert.ok(d.message.includes(workspace.path('data/nope.jsonl')), d.message);
  });

  it('reports a file whose format the extension does not tell', () => {
    expectDiagnostic('model:\n  base: x\ndata:\n  train: [[data/pairs.txt]]\n', 'data-format-unknown');
  });

  it('reports columns the loss needs but the data lacks, and accepts them once mapped', () => {
    const d = expectDiagnostic('model:\n  base: x\ndata:\n  [[train]]: data/qa.jsonl\nstrategy:\n  type: lora\n', 'data-missing-column');
    assert.match(d.message, /needs columns "anchor", "positive", but "data\/qa\.jsonl" has: query, passage\. Map them with data\.columns/);
    const mapped =
      'model:\n  base: x\ndata:\n  train: data/qa.jsonl\n  columns:\n    anchor: query\n    positive: passage\nstrategy:\n  type: lora\n';
    assert.deepEqual(codesOf(mapped), []);
    const wrongMapping = expectDiagnostic(
      'model:\n  base: x\ndata:\n  train: data/qa.jsonl\n  columns:\n    anchor: [[question]]\n    positive: passage\nstrategy:\n  type: lora\n',
      'data-missing-column',
    );
    assert.match(wrongMapping.message, /mapped to "question"/);
  });

  it('requires the negative column for triplet loss and the score column for cosent', () => {
    assert.ok(codesOf(`${HEADER}loss:\n  type: triplet\n`).includes('data-missing-column'));
    assert.ok(codesOf(`${HEADER}loss:\n  type: cosent\n`).includes('data-missing-column'));
  });

  it('reports malformed rows with their line numbers, as an error unless they are skipped', () => {
    workspace.write('data/bad.jsonl', `${pairsJsonl(3)}{"anchor": "a", "positive": \n[1,2]\n`);
    const text = 'model:\n  base: x\ndata:\n  train: data/bad.jsonl\nstrategy:\n  type: lora\n';
    const bad = diagnose(text).find((d) => d.code === 'data-bad-row');
    assert.ok(bad);
    assert.equal(bad.severity, 'error');
    assert.match(bad.message, /2 malformed row\(s\): line 4 is not valid JSON.*line 5 is not a JSON object/);
    const skipped = diagnose(text.replace('data:\n', 'data:\n  on_bad_row: skip\n')).find((d) => d.code === 'data-bad-row');
    assert.equal(skipped?.severity, 'information');
  });

  it('reads CSV headers with quoted fields and counts ragged rows as bad', () => {
    workspace.write('data/pairs.csv', 'anchor,positive,score\n"a, with comma",b,0.5\nc,d,0.1\ne,f\n');
    const diagnostics = diagnose('model:\n  base: x\ndata:\n  train: data/pairs.csv\nloss:\n  type: cosent\nstrategy:\n  type: lora\n');
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['data-bad-row'],
    );
    assert.match(diagnostics[0]!.message, /line 4 has 2 fields, but the header has 3/);
  });

  it('suggests cached_mnrl when gradient accumulation is used with mnrl', () => {
    const d = expectDiagnostic(
      `${HEADER}training:\n  batch_size: 32\n  gradient_accumulation_steps: [[4]]\n`,
      'mnrl-gradient-accumulation',
    );
    assert.equal(d.severity, 'warning');
    assert.deepEqual(d.data?.fixes?.[0]?.set, [
      { path: ['loss', 'type'], value: 'cached_mnrl' },
      { path: ['training', 'batch_size'], value: 128 },
      { path: ['training', 'gradient_accumulation_steps'], value: 1 },
    ]);
    assert.ok(
      !codesOf(`${HEADER}loss:\n  type: cached_mnrl\ntraining:\n  gradient_accumulation_steps: 4\n`).includes('mnrl-gradient-accumulation'),
    );
  });

  it('warns that a batch under 32 starves an in-batch-negatives loss, but not other losses', () => {
    expectDiagnostic(`${HEADER}training:\n  batch_size: [[16]]\n`, 'small-batch-in-batch-negatives');
    workspace.write('data/triplets.jsonl', '{"anchor":"a","positive":"b","negative":"c"}\n');
    assert.ok(
      !codesOf(
        'model:\n  base: x\ndata:\n  train: data/triplets.jsonl\nloss:\n  type: triplet\ntraining:\n  batch_size: 16\nstrategy:\n  type: lora\n',
      ).includes('small-batch-in-batch-negatives'),
    );
  });

  it('reports a primary metric that is not computed', () => {
    const d = expectDiagnostic(`${HEADER}evaluation:\n  metrics: [ndcg@10]\n  primary: [[mrr@10]]\n`, 'primary-metric-not-computed');
    assert.deepEqual(d.data?.fixes?.[0]?.set, [{ path: ['evaluation', 'metrics'], value: ['ndcg@10', 'mrr@10'] }]);
  });

  it('reports early stopping asked for while evaluation is turned off, and nothing when evaluation is on by default', () => {
    const d = expectDiagnostic(
      `${HEADER}evaluation:\n  enabled: false\n[[early_stopping]]:\n  patience: 2\n`,
      'early-stopping-without-evaluation',
    );
    assert.match(d.message, /evaluation\.enabled is false/);
    assert.ok(
      !codesOf(`${HEADER}evaluation:\n  enabled: false\nearly_stopping:\n  enabled: false\n`).includes('early-stopping-without-evaluation'),
    );
    assert.ok(
      !codesOf(`${HEADER}evaluation:\n  enabled: false\n`).includes('early-stopping-without-evaluation'),
      'the default early stopping just goes with evaluation',
    );
    assert.ok(
      !codesOf(`${HEADER}early_stopping:\n  patience: 2\n`).includes('early-stopping-without-evaluation'),
      'evaluation is on without a section',
    );
  });

  it('reports checkpoints that do not fall on evaluations when keep_best is on', () => {
    expectDiagnostic(`${HEADER}evaluation:\n  every: 100\ncheckpoints:\n  every: [[150]]\n`, 'checkpoint-interval-mismatch');
    assert.ok(!codesOf(`${HEADER}evaluation:\n  every: 100\ncheckpoints:\n  every: 300\n`).includes('checkpoint-interval-mismatch'));
    assert.ok(
      !codesOf(`${HEADER}evaluation:\n  every: 100\ncheckpoints:\n  every: 150\n  keep_best: false\n`).includes(
        'checkpoint-interval-mismatch',
      ),
    );
    // 200 rows less the default 10% validation split is 180 rows: 6 steps an epoch at batch 32, not a multiple of 5.
    assert.ok(codesOf(`${HEADER}evaluation:\n  every: 5\ncheckpoints:\n  every: epoch\n`).includes('checkpoint-interval-mismatch'));
    assert.ok(!codesOf(`${HEADER}evaluation:\n  every: 3\ncheckpoints:\n  every: epoch\n`).includes('checkpoint-interval-mismatch'));
    // Evaluation runs every epoch by default, so checkpoints off that grid miss it even with no evaluation section.
    expectDiagnostic(`${HEADER}checkpoints:\n  every: [[4]]\n`, 'checkpoint-interval-mismatch');
    assert.ok(!codesOf(`${HEADER}evaluation:\n  enabled: false\ncheckpoints:\n  every: 4\n`).includes('checkpoint-interval-mismatch'));
  });

  it('gives the seed dataset-size advice with fixes that switch the strategy', () => {
    const small = expectDiagnostic(
      'model:\n  base: x\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: [[full]]\n',
      'small-dataset-full-finetune',
    );
    assert.equal(small.severity, 'information');
    assert.deepEqual(
      small.data?.fixes?.map((fix) => fix.set[0]!.value),
      ['freeze', 'adapter', 'lora'],
    );
    // 112,000 rows less the default 10% validation split trains on 100,800.
    workspace.write('data/large.jsonl', pairsJsonl(112_000));
    const large = expectDiagnostic(
      'model:\n  base: x\ndata:\n  train: data/large.jsonl\nstrategy:\n  type: [[lora]]\n',
      'large-dataset-parameter-efficient',
    );
    assert.match(large.message, /100,800 training rows/);
    assert.ok(!codesOf('model:\n  base: x\ndata:\n  train: data/large.jsonl\n').includes('small-dataset-full-finetune'));
  });

  it('refuses mixed precision on the tfjs engine but not on accelerate', () => {
    expectDiagnostic(`${HEADER}training:\n  mixed_precision: [[bf16]]\n`, 'mixed-precision-unsupported');
    assert.ok(
      !codesOf(`${HEADER}training:\n  mixed_precision: bf16\nengine:\n  type: accelerate\n`).includes('mixed-precision-unsupported'),
    );
  });

  it('flags engine and strategy options that the chosen engine or strategy ignores', () => {
    expectDiagnostic(`${HEADER}engine:\n  type: tfjs\n  [[num_processes]]: 4\n`, 'engine-option-ignored');
    expectDiagnostic(`${HEADER}engine:\n  type: accelerate\n  [[backend]]: wasm\n`, 'engine-option-ignored');
    expectDiagnostic(`${HEADER}engine:\n  type: accelerate\n  [[num_machines]]: 2\n`, 'accelerate-rendezvous-missing');
    expectDiagnostic(
      `model:\n  base: x\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lora\n  [[freeze_layers]]: 2\n`,
      'strategy-option-ignored',
    );
    expectDiagnostic(`model:\n  base: x\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: [[freeze]]\n`, 'freeze-nothing');
  });

  it('flags a head learning rate where the task and loss train no head, and accepts it where they do', () => {
    const unused = expectDiagnostic(
      `model:\n  base: x\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lora\ntraining:\n  [[head_learning_rate]]: 0.01\n`,
      'head-learning-rate-unused',
    );
    assert.match(unused.message, /loss mnrl has none/);
    workspace.write('data/labels.jsonl', '{"text":"refund please","label":"billing"}\n');
    const classifier =
      'task: classification\nmodel:\n  base: x\ndata:\n  train: data/labels.jsonl\nloss:\n  type: softmax\nstrategy:\n  type: lora\ntraining:\n  head_learning_rate: 0.01\n';
    assert.ok(!codesOf(classifier).includes('head-learning-rate-unused'), codesOf(classifier).join(', '));
    const softmaxPairs =
      'model:\n  base: x\ndata:\n  train: data/pairs.jsonl\nloss:\n  type: softmax\nstrategy:\n  type: lora\ntraining:\n  head_learning_rate: 0.01\n';
    assert.ok(!codesOf(softmaxPairs).includes('head-learning-rate-unused'), codesOf(softmaxPairs).join(', '));
    assert.ok(
      codesOf('model:\n  base: x\ndata:\n  train: data/pairs.jsonl\ntraining:\n  head_learning_rate: 0\n').includes('out-of-range'),
    );
  });

  it('checks that the loss fits the task and the metrics fit both', () => {
    workspace.write('data/labels.jsonl', '{"text":"refund please","label":"billing"}\n');
    const mismatch = expectDiagnostic(
      'task: classification\nmodel:\n  base: x\ndata:\n  train: data/labels.jsonl\nloss:\n  type: [[mnrl]]\nstrategy:\n  type: lora\n',
      'loss-task-mismatch',
    );
    assert.match(mismatch.message, /softmax, focal/);
    expectDiagnostic(
      'task: classification\nmodel:\n  base: x\ndata:\n  train: data/labels.jsonl\nloss:\n  type: focal\nstrategy:\n  type: lora\nevaluation:\n  metrics: [accuracy, [[ndcg@10]]]\n  primary: accuracy\n',
      'metric-task-mismatch',
    );
  });

  it('warns when both a validation file and a split are given', () => {
    expectDiagnostic(
      `${HEADER.replace('data:\n', 'data:\n  validation: data/pairs.jsonl\n  [[validation_split]]: 0.2\n')}`,
      'validation-conflict',
    );
  });

  it('reports a local model path with no Hugging Face folder, but accepts a hub id', () => {
    expectDiagnostic('model:\n  base: [[./models/minilm]]\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lora\n', 'model-not-found');
    workspace.write('models/tiny/config.json', '{"model_type":"bert"}');
    assert.deepEqual(codesOf('model:\n  base: ./models/tiny\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lora\n'), []);
    assert.deepEqual(codesOf('model:\n  base: BAAI/bge-small-en-v1.5\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lora\n'), []);
  });

  it('does not read data for an unsaved config', () => {
    const result = validateConfigText('model:\n  base: x\ndata:\n  train: data/nope.jsonl\n');
    assert.deepEqual(result.diagnostics, []);
  });
});

describe('checks beyond the schema stay quiet about values the schema rejected', () => {
  it('does not warn about negatives for a batch size that is out of range', () => {
    assert.deepEqual(codesOf(`${HEADER}training:\n  batch_size: 0\n`), ['out-of-range']);
  });

  it('suggests a ranking metric, not one of another kind, for a ranking metric with a bad cutoff', () => {
    const d = expectDiagnostic(`${HEADER}evaluation:\n  metrics: [ndcg@10, [[recall@0]]]\n  primary: ndcg@10\n`, 'invalid-value');
    assert.match(d.message, /Did you mean "recall@\d+"\?/);
  });
});

describe('checks beyond the schema never reason from a value the schema rejected', () => {
  const cases: [string, string[]][] = [
    [`${HEADER}task: clasification\nloss:\n  type: focal\n`, ['invalid-value']],
    [`${HEADER}engine:\n  type: acelerate\n  num_processes: 4\ntraining:\n  mixed_precision: bf16\n`, ['invalid-value']],
    [`${HEADER}loss:\n  type: triplett\ntraining:\n  batch_size: 16\n`, ['invalid-value']],
    ['model:\n  base: x\ndata:\n  train: data/pairs.jsonl\nstrategy:\n  type: lorra\n', ['invalid-value']],
    [`${HEADER}evaluation:\n  metrics: [ndgc@10]\n  primary: ndgc@10\n`, ['invalid-value', 'invalid-value']],
  ];
  for (const [text, expected] of cases) {
    it(`reports only the schema error for ${JSON.stringify(
      text
        .slice(HEADER.length - 1)
        .trim()
        .split('\n')
        .slice(0, 2)
        .join(' / '),
    )}`, () => {
      assert.deepEqual(codesOf(text), expected, JSON.stringify(diagnose(text).map((d) => d.message)));
    });
  }

  it('suggests the intended ranking metric for a misspelt one', () => {
    const d = expectDiagnostic(`${HEADER}evaluation:\n  metrics: [ [[ndgc@10]] ]\n  primary: mrr@10\n`, 'invalid-value');
    assert.match(d.message, /Did you mean "ndcg@10"\?/);
  });

  it('does not suggest renaming a key to one that is already there', () => {
    const d = expectDiagnostic(`${HEADER}training:\n  epochs: 3\n  [[epocs]]: 4\n`, 'unknown-key');
    assert.equal(d.data?.suggestion, undefined);
  });

  it('reports only syntax errors while the YAML does not parse', () => {
    assert.deepEqual(codesOf(`${HEADER}training:\n\tepochs: 3\n`), ['yaml-syntax']);
    assert.deepEqual(codesOf(`${HEADER}training:\n  epochs: [3\n`), ['yaml-syntax']);
  });
});

describe('rows that the trainer would reject', () => {
  it('are reported when a needed value is missing, null or empty, with their lines', () => {
    workspace.write(
      'data/holes.jsonl',
      '{"anchor":"a","positive":"b"}\n{"anchor":"c"}\n{"anchor":"d","positive":null}\n{"anchor":"","positive":"e"}\n',
    );
    const diagnostics = diagnose('model:\n  base: x\ndata:\n  train: data/holes.jsonl\nstrategy:\n  type: lora\n').filter(
      (d) => d.code === 'data-bad-row',
    );
    assert.deepEqual(
      diagnostics.map((d) => d.message),
      [
        'data.train: 1 row(s) of "data/holes.jsonl" have no "anchor" value, e.g. line 4. Training stops on them unless data.on_bad_row is skip.',
        'data.train: 2 row(s) of "data/holes.jsonl" have no "positive" value, e.g. line 2, 3. Training stops on them unless data.on_bad_row is skip.',
      ],
    );
  });

  it('are sampled, and rows counted from lines, for a file too large to parse on every keystroke', () => {
    const rows = 160_000;
    workspace.write('data/big.jsonl', pairsJsonl(rows).replace('"anchor":"question number 5"', '"anchor":""'));
    const result = validateConfigText('model:\n  base: x\ndata:\n  train: data/big.jsonl\n', { configPath });
    const summary = result.dataset.train?.summary;
    assert.ok(summary?.ok && summary.sampledRows !== undefined && summary.sampledRows < rows, 'only a sample was parsed');
    assert.equal(summary.rows, rows);
    assert.match(
      result.diagnostics.find((d) => d.code === 'data-bad-row')?.message ?? '',
      /1 row\(s\) among the first \d+ rows .* line 6\./,
    );
  });
});
