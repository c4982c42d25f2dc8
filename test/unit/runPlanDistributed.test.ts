import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatRunPlan, runPlanTitle, stepsPerEpochOf, rowsLeftOutPerEpoch, type RunPlan } from '../../src/shared/config/runPlan';
import { planFromValidation, validateConfigText } from '../../src/shared/config/validateConfig';
import { TempWorkspace } from '../helpers/tempWorkspace';

const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
const PYTHON = join(PEERS, 'bin', 'python');

function rowsJsonl(count: number): string {
  return Array.from({ length: count }, (_, i) => `${JSON.stringify({ anchor: `question ${i}`, positive: `answer ${i}` })}\n`).join('');
}

describe('the dry run of a multi-process accelerate config counts what DistributedDataParallel trains', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  workspace.write('data/train.jsonl', rowsJsonl(152));
  workspace.write('data/validation.jsonl', rowsJsonl(8));

  function planOf(engine: string, training = 'epochs: 3, batch_size: 8'): RunPlan {
    const configPath = workspace.write(
      'run.embedtune.yaml',
      `model: {base: m}\ndata: {train: data/train.jsonl, validation: data/validation.jsonl}\ntraining: {${training}}\nengine: {${engine}}\n`,
    );
    return planFromValidation(validateConfigText(readFileSync(configPath, 'utf8'), { configPath }));
  }

  it("plans the issue's run: 152 rows on 2 processes of batch 8 make 9 steps an epoch and 27 in 3 epochs, as the run did", () => {
    const plan = planOf('type: accelerate, cpu: true, num_processes: 2');
    assert.equal(plan.trainRows, 152);
    assert.equal(plan.effectiveBatchSize, 16);
    assert.equal(plan.stepsPerEpoch, 9);
    assert.equal(plan.totalSteps, 27);
    assert.equal(plan.rowsLeftOutPerEpoch, 8);
    assert.match(runPlanTitle(plan), /· 9 steps\/epoch · 27 total · 3 warmup · 8 rows\/epoch left out$/);
    assert.ok(formatRunPlan(plan).some((line) => line.startsWith('each epoch leaves out 8 training rows')));
  });

  it('keeps the partial last batch on one process, for either engine', () => {
    for (const engine of ['type: accelerate, cpu: true', 'type: tfjs']) {
      const plan = planOf(engine);
      assert.equal(plan.stepsPerEpoch, 19, engine);
      assert.equal(plan.rowsLeftOutPerEpoch, undefined, engine);
      assert.doesNotMatch(runPlanTitle(plan), /left out/);
    }
  });

  it('rounds a partial accumulation up, as the Trainer does', () => {
    // 152 rows on 2 processes of 4: 19 micro-batches each, 3 to an optimizer step → 7 steps.
    const plan = planOf('type: accelerate, cpu: true, num_processes: 2', 'epochs: 1, batch_size: 4, gradient_accumulation_steps: 3');
    assert.equal(plan.stepsPerEpoch, 7);
    assert.equal(plan.rowsLeftOutPerEpoch, undefined);
  });

  it('plans no steps when the rows do not fill one batch on every process', () => {
    assert.equal(stepsPerEpochOf(15, 8, 1, 2), 0);
    assert.equal(rowsLeftOutPerEpoch(15, 8, 2), 15);
    assert.equal(stepsPerEpochOf(15, 8, 1, 1), 2);
  });
});

function missingPeers(): string | undefined {
  if (!existsSync(PYTHON)) return `no Python peers at ${PEERS} (run bench/python/setup)`;
  return undefined;
}

describe('the dry-run arithmetic against sentence-transformers and accelerate themselves', { skip: missingPeers() }, () => {
  it('gives every process the number of batches its sharded sampler yields, and the Trainer the same optimizer steps', () => {
    // rows, batch, processes, accumulation
    const cases: [number, number, number, number][] = [
      [152, 8, 2, 1],
      [150, 8, 2, 1],
      [151, 4, 3, 2],
      [64, 4, 2, 2],
      [38, 4, 2, 1],
      [33, 8, 4, 1],
      [17, 5, 1, 2],
      [15, 8, 2, 1],
    ];
    // The samplers the accelerate engine trains with (train.py: NO_DUPLICATES for mnrl, dataloader_drop_last under
    // DDP, even_batches off as SentenceTransformerTrainer sets it), sharded by accelerate as in training, and the
    // optimizer steps per epoch by transformers' own rule (Trainer.set_initial_training_values).
    const script = `
import json, math, sys
from datasets import Dataset
from accelerate.data_loader import BatchSamplerShard
from sentence_transformers.base.sampler import NoDuplicatesBatchSampler
out = []
for rows, batch, processes, accumulation in json.loads(sys.argv[1]):
    dataset = Dataset.from_dict({"anchor": [f"q{i}" for i in range(rows)], "positive": [f"p{i}" for i in range(rows)]})
    sampler = NoDuplicatesBatchSampler(dataset, batch_size=batch, drop_last=processes > 1, seed=12)
    per_process = []
    for index in range(processes):
        shard = BatchSamplerShard(sampler, num_processes=processes, process_index=index, even_batches=False) if processes > 1 else sampler
        batches = list(shard)
        assert len(batches) == len(shard), (len(batches), len(shard))
        per_process.append({"batches": len(shard), "rows": sum(len(b) for b in batches)})
    length = per_process[0]["batches"]
    steps = max(length // accumulation + int(length % accumulation > 0), 1) if length else 0
    out.append({"per_process": per_process, "steps": steps})
print(json.dumps(out))
`;
    const result = spawnSync(PYTHON, ['-c', script, JSON.stringify(cases)], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, result.stderr);
    const measured = JSON.parse(result.stdout) as { per_process: { batches: number; rows: number }[]; steps: number }[];
    cases.forEach(([rows, batch, processes, accumulation], i) => {
      const label = `${rows} rows, batch ${batch}, ${processes} processes, accumulation ${accumulation}`;
      const trained = measured[i]!.per_process.reduce((sum, process) => sum + process.rows, 0);
      assert.equal(stepsPerEpochOf(rows, batch, accumulation, processes), measured[i]!.steps, label);
      assert.equal(rowsLeftOutPerEpoch(rows, batch, processes), rows - trained, label);
    });
  });
});
