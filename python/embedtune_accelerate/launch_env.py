"""
Which process this is, as the launcher said: the rank and world size that `accelerate launch` (torchrun, or mpirun)
put in the environment, read independently of what transformers made of them.

transformers derives its own rank and world size from the device it finds. When the launcher starts several GPU
processes on a machine with no visible GPU, every process ends up believing it is rank 0 of a world of 1, and each
would train on all the rows and write the run's events and checkpoints. The launcher's numbers are the ones that
decide which process may write, and a disagreement ends the run before training starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# The variables accelerate itself reads (accelerate.utils.environment), torchrun's first.
RANK_VARIABLES = ("RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK")
WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
LOCAL_RANK_VARIABLES = ("LOCAL_RANK", "MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_RANK")


@dataclass(frozen=True)
class LaunchRank:
    rank: int
    """The global rank over every machine; 0 is the one process that writes events and checkpoints."""
    local_rank: int
    world_size: int
    """How many processes the launch started over all machines."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launch_rank(environ: Mapping[str, str] | None = None) -> LaunchRank:
    """The launcher's rank and world size; a process started without a distributed launcher is rank 0 of 1."""
    env = os.environ if environ is None else environ
    return LaunchRank(
        rank=_first_int(env, RANK_VARIABLES, 0),
        local_rank=_first_int(env, LOCAL_RANK_VARIABLES, 0),
        world_size=max(1, _first_int(env, WORLD_SIZE_VARIABLES, 1)),
    )


def world_mismatch(launched: LaunchRank, trained_rank: int, trained_world: int, device_type: str, cuda_devices: int, use_cpu: bool) -> str | None:
    """
    Why training cannot go on when transformers sees another world than the launcher started, with the fix; None
    when they agree. `trained_*` are TrainingArguments' process_index and world_size, `device_type` its device.
    """
    if launched.world_size == trained_world and launched.rank == trained_rank:
        return None
    n = launched.world_size
    seen = (f"accelerate launch started {n} processes, but this process (rank {launched.rank}) trains as rank {trained_rank} "
            f"of {trained_world} on {device_type}")
    if not use_cpu and cuda_devices == 0:
        return (f"{seen}: no GPU is visible to PyTorch, so transformers would train every process alone on the CPU, each "
                f"on all the rows, and each would write the run's events and checkpoints. Set engine.cpu: true to train "
                f"{n} processes on the CPU, or run on a machine with {n} GPUs.")
    if not use_cpu and cuda_devices < launched.local_rank + 1:
        return (f"{seen}: this machine shows PyTorch {cuda_devices} GPU(s), fewer than the processes started on it. "
                f"Set engine.num_processes to the number of GPUs over all machines, or engine.cpu: true to train on the CPU.")
    return (f"{seen}. The launcher and transformers disagree on the processes; check engine.num_processes, engine.cpu "
            f"and the accelerate config file against the devices of this machine.")


def _first_int(env: Mapping[str, str], names: tuple[str, ...], default: int) -> int:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"The launcher set {name}={value!r}, which is not a process number.") from None
    return default
