"""
The run folder's layout, as src/shared/run/runFolder.ts declares it for the tfjs engine and the editor; both engines
write the same folder. test/unit/runFolderLayout.test.ts runs this module and keeps its names equal to that one's.
"""

from __future__ import annotations

import re

EVENTS_FILE = "events.jsonl"
CHECKPOINTS_DIR = "checkpoints"
BEST_POINTER_FILE = "best"
EXPORTED_MODEL_DIR = "model"
ACCELERATE_DIR = "accelerate"
# Besides the Hugging Face Trainer's own trainer_state.json: what EmbedTune needs to resume its bookkeeping exactly.
ACCELERATE_STATE_FILE = "embedtune_state.json"
CHECKPOINT_PREFIX = "step-"

_CHECKPOINT_NAME = re.compile(r"^step-(\d{1,12})$")


def checkpoint_name(step: int) -> str:
    return f"{CHECKPOINT_PREFIX}{step}"


def checkpoint_relative_path(step: int) -> str:
    """How events, the `best` pointer and the state file name a checkpoint: relative to the run folder, with `/`."""
    return f"{CHECKPOINTS_DIR}/{checkpoint_name(step)}"


def checkpoint_step(name: str) -> int | None:
    """The step of a checkpoint folder name; None for anything else under checkpoints/."""
    match = _CHECKPOINT_NAME.match(name)
    return int(match.group(1)) if match else None
