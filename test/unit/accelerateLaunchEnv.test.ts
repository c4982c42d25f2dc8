import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

/**
 * python/embedtune_accelerate/launch_env.py: the rank and world the launcher set, and the checks that end a launch
 * whose processes cannot share the work. It imports neither torch nor transformers, so any Python 3 runs it.
 */

interface Case {
  readonly env: Record<string, string>;
  readonly cuda: number;
  readonly cpu?: boolean;
  readonly other?: boolean;
  /** TrainingArguments' process_index and world_size. */
  readonly trained?: [number, number];
}

interface Outcome {
  readonly rank: number;
  readonly local_rank: number;
  readonly world_size: number;
  readonly local_world_size: number | null;
  readonly is_main: boolean;
  readonly shortfall: string | null;
  readonly mismatch: string | null;
}

function evaluate(cases: readonly Case[]): Outcome[] {
  const script = `
import json, sys
from embedtune_accelerate.launch_env import launch_rank, device_shortfall, world_mismatch
out = []
for case in json.loads(sys.argv[1]):
    launched = launch_rank(case["env"])
    trained = case.get("trained") or [launched.rank, launched.world_size]
    out.append({"rank": launched.rank, "local_rank": launched.local_rank, "world_size": launched.world_size,
                "local_world_size": launched.local_world_size, "is_main": launched.is_main,
                "shortfall": device_shortfall(launched, case["cuda"], case.get("cpu", False), case.get("other", False)),
                "mismatch": world_mismatch(launched, trained[0], trained[1], "cpu")})
print(json.dumps(out))
`;
  const result = spawnSync('python3', ['-c', script, JSON.stringify(cases)], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', PYTHONPATH: resolve(__dirname, '../../python'), PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Outcome[];
}

const TORCHRUN_RANK_1 = { RANK: '1', LOCAL_RANK: '1', WORLD_SIZE: '2', LOCAL_WORLD_SIZE: '2' };

describe("the accelerate engine's reading of the launcher's environment", () => {
  it('takes the rank from RANK, not from what transformers believes, and only global rank 0 is the main process', () => {
    const [rank1, rank0, alone, mpi] = evaluate([
      { env: TORCHRUN_RANK_1, cuda: 2 },
      { env: { ...TORCHRUN_RANK_1, RANK: '0', LOCAL_RANK: '0' }, cuda: 2 },
      { env: {}, cuda: 0 },
      { env: { OMPI_COMM_WORLD_RANK: '3', OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_LOCAL_RANK: '1' }, cuda: 0, cpu: true },
    ]);
    assert.deepEqual([rank1!.rank, rank1!.world_size, rank1!.local_world_size, rank1!.is_main], [1, 2, 2, false]);
    assert.equal(rank0!.is_main, true);
    assert.deepEqual([alone!.rank, alone!.world_size, alone!.local_world_size, alone!.is_main], [0, 1, null, true]);
    assert.deepEqual([mpi!.rank, mpi!.local_rank, mpi!.world_size, mpi!.is_main], [3, 1, 4, false]);
  });

  it('ends a multi-process GPU launch on a machine with no GPU, naming engine.cpu and the GPUs it needs', () => {
    const [outcome] = evaluate([{ env: TORCHRUN_RANK_1, cuda: 0 }]);
    assert.match(outcome!.shortfall ?? '', /started 2 processes, one per GPU, but PyTorch sees no GPU on this machine/);
    assert.match(outcome!.shortfall ?? '', /Set engine\.cpu: true to train 2 processes on the CPU, or run on a machine with 2 GPUs\.$/);
  });

  it('ends a launch that starts more processes on this machine than it has GPUs', () => {
    const [outcome] = evaluate([{ env: { RANK: '5', LOCAL_RANK: '1', WORLD_SIZE: '8', LOCAL_WORLD_SIZE: '4' }, cuda: 2 }]);
    assert.match(outcome!.shortfall ?? '', /started 4 processes on this machine, one per GPU, but PyTorch sees only 2 GPU\(s\) here/);
  });

  it('lets through CPU runs, single processes, enough GPUs and other accelerators', () => {
    const outcomes = evaluate([
      { env: TORCHRUN_RANK_1, cuda: 0, cpu: true },
      { env: {}, cuda: 0 },
      { env: TORCHRUN_RANK_1, cuda: 2 },
      { env: { RANK: '0', WORLD_SIZE: '4', LOCAL_WORLD_SIZE: '2' }, cuda: 2 },
      { env: TORCHRUN_RANK_1, cuda: 0, other: true },
    ]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.shortfall),
      [null, null, null, null, null],
    );
  });

  it('ends a launch whose rank or world transformers sees differently', () => {
    const [agree, oneWorld, otherRank] = evaluate([
      { env: TORCHRUN_RANK_1, cuda: 2 },
      { env: TORCHRUN_RANK_1, cuda: 2, trained: [0, 1] },
      { env: TORCHRUN_RANK_1, cuda: 2, trained: [0, 2] },
    ]);
    assert.equal(agree!.mismatch, null);
    assert.match(
      oneWorld!.mismatch ?? '',
      /started 2 processes and made this one rank 1, but transformers trains it as rank 0 of 1 on cpu/,
    );
    assert.match(otherRank!.mismatch ?? '', /rank 0 of 2/);
  });

  it('says which variable holds a rank that is not a number', () => {
    const result = spawnSync('python3', ['-c', 'from embedtune_accelerate.launch_env import launch_rank; launch_rank({"RANK": "one"})'], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', PYTHONPATH: resolve(__dirname, '../../python'), PYTHONDONTWRITEBYTECODE: '1' },
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /The launcher set RANK='one', which is not a process number/);
  });
});
