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
LOCAL_WORLD_SIZE_VARIABLES = ("LOCAL_WORLD_SIZE", "MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "MV2_COMM_WORLD_LOCAL_SIZE")


@dataclass(frozen=True)
class LaunchRank:
    rank: int
    """The global rank over every machine; 0 is the one process that writes events and checkpoints."""
    local_rank: int
    world_size: int
    """How many processes the launch started over all machines."""
    local_world_size: int | None
    """How many it started on this machine, where the launcher says (torchrun does)."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launch_rank(environ: Mapping[str, str] | None = None) -> LaunchRank:
    """The launcher's rank and world size; a process started without a distributed launcher is rank 0 of 1."""
    env = os.environ if environ is None else environ
    local_world = _first_int(env, LOCAL_WORLD_SIZE_VARIABLES, 0)
    return LaunchRank(
        rank=_first_int(env, RANK_VARIABLES, 0),
        local_rank=_first_int(env, LOCAL_RANK_VARIABLES, 0),
        world_size=max(1, _first_int(env, WORLD_SIZE_VARIABLES, 1)),
        local_world_size=local_world if local_world > 0 else None,
    )


def device_shortfall(launched: LaunchRank, cuda_devices: int, use_cpu: bool, other_accelerator: bool) -> str | None:
    """
    Why a multi-process GPU launch cannot train on this machine, with the fix; None when it can. Checked before
    transformers sets up the devices: with no GPU it would quietly train every process alone, and with fewer GPUs
    than processes a process would ask for a device that does not exist.
    """
    if use_cpu or other_accelerator or launched.world_size <= 1:
        return None
    here = launched.local_world_size or 1
    if cuda_devices >= here:
        return None
    gpus = launched.local_world_size or launched.world_size
    if cuda_devices == 0:
        return (f"accelerate launch started {launched.world_size} processes, one per GPU, but PyTorch sees no GPU on this machine: "
                f"transformers would train every process alone on the CPU, each on all the rows, and each would write the run's "
                f"events and checkpoints. Set engine.cpu: true to train {launched.world_size} processes on the CPU, or run on a "
                f"machine with {gpus} GPUs.")
    return (f"accelerate launch started {here} processes on this machine, one per GPU, but PyTorch sees only {cuda_devices} GPU(s) "
            f"here. Set engine.num_processes to the number of GPUs over all machines, or engine.cpu: true to train on the CPU.")


def world_mismatch(launched: LaunchRank, trained_rank: int, trained_world: int, device_type: str) -> str | None:
    """
    Why training cannot go on when transformers sees another world than the launcher started; None when they agree.
    `trained_*` are TrainingArguments' process_index and world_size, `device_type` its device.
    """
    if launched.world_size == trained_world and launched.rank == trained_rank:
        return None
    return (f"accelerate launch started {launched.world_size} processes and made this one rank {launched.rank}, but transformers "
            f"trains it as rank {trained_rank} of {trained_world} on {device_type}, so every process would not share the work "
            f"and more than one would write the run's events. Check engine.num_processes, engine.cpu and engine.config_file "
            f"against the devices of this machine (engine.cpu: true trains every process on the CPU).")


def _first_int(env: Mapping[str, str], names: tuple[str, ...], default: int) -> int:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"The launcher set {name}={value!r}, which is not a process number.") from None
    return default
