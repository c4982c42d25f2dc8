"""Appends run events to events.jsonl exactly as the TypeScript EventLogWriter does (schemas/events.schema.json)."""

from __future__ import annotations

import json
import math
import os
import sys
from datetime import datetime, timezone
from typing import Any


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: the TypeScript writer writes them as null, and so does this one."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _timestamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventLog:
    """
    One line per event, written straight to the file descriptor so that a tailing reader (the editor's run manager)
    sees it at once. Appending to an existing log (a resumed run) continues its `seq`, and first ends a line that a
    killed process left half-written. Only the main process of a distributed run may hold one.
    """

    def __init__(self, path: str, run_id: str, mirror_stdout: bool = False) -> None:
        self.path = path
        self.run_id = run_id
        self.mirror_stdout = mirror_stdout
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.next_seq = _next_seq(path)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if _ends_with_partial_line(path):
            os.write(self.fd, b"\n")

    def write(self, type_: str, **fields: Any) -> dict[str, Any]:
        event = {"type": type_, "time": _timestamp(), "run_id": self.run_id, "seq": self.next_seq, **_finite(fields)}
        line = json.dumps(event, allow_nan=False, ensure_ascii=False) + "\n"
        os.write(self.fd, line.encode("utf-8"))
        self.next_seq += 1
        if self.mirror_stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
        return event

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _next_seq(path: str) -> int:
    if not os.path.exists(path):
        return 0
    next_seq = 0
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            try:
                seq = json.loads(line).get("seq")
            except (ValueError, AttributeError):
                continue
            if isinstance(seq, int):
                next_seq = max(next_seq, seq + 1)
    return next_seq


def _ends_with_partial_line(path: str) -> bool:
    size = os.path.getsize(path)
    if size == 0:
        return False
    with open(path, "rb") as file:
        file.seek(size - 1)
        return file.read(1) != b"\n"
