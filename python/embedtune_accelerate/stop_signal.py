"""Stop requests: SIGTERM (the editor's Stop, or the CLI forwarding Ctrl+C) and the supervising CLI going away."""

from __future__ import annotations

import os
import signal
import threading
import time


class StopSignal:
    """
    SIGTERM and SIGINT only set a flag; the training callback checks it after each optimizer step, agrees on it with
    the other processes and then saves a checkpoint and ends the run. A second signal does not exit at once: under a
    multi-process launch the launcher forwards the same SIGTERM to every worker, so a worker often receives it twice.
    Killing at once is the CLI's job (a second Stop sends SIGKILL to the whole process group).
    """

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: str | None = None

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if not self.requested:
            self.signal_name = signal.Signals(signum).name
        self.requested = True


def watch_supervisor(pid: int, interval_seconds: float = 1.0) -> None:
    """
    Ends the launch when the `embedtune train` process that started it is gone (for example killed with SIGKILL,
    the editor's second Stop): otherwise the training processes would live on with nobody to report to and nothing
    to stop them. torchrun starts each worker in a session of its own, so the launcher's group (led by the parent)
    is killed as well as this process's.
    """

    def watch() -> None:
        while True:
            time.sleep(interval_seconds)
            try:
                os.kill(pid, 0)
                continue
            except ProcessLookupError:
                pass
            except PermissionError:
                pass  # Another user's process took the pid: ours is gone too.
            parent = os.getppid()
            try:
                # Only the launcher's own group: the CLI made the launcher a group leader, so the parent leads it.
                if parent > 1 and os.getpgid(parent) == parent and parent != os.getpgrp():
                    os.killpg(parent, signal.SIGKILL)
            except OSError:
                pass
            os.killpg(os.getpgrp(), signal.SIGKILL)

    if pid > 0:
        threading.Thread(target=watch, name="embedtune-supervisor-watch", daemon=True).start()
