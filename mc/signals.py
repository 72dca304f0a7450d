"""SIGTERM and SIGINT stop a run cleanly at a batch boundary.

Inside :func:`graceful_stop` the first SIGTERM or SIGINT only raises a flag;
the batch loop looks at it between kernel calls and raises :class:`Interrupted`,
abandoning the batch in progress (every finished batch is already on disk),
and a table being published is finished first, so a stop never leaves a
half-written set of files.  A second Ctrl-C raises KeyboardInterrupt at once.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class Interrupted(Exception):
    """A run stopped on request at a batch boundary; ``signum`` says which signal asked."""

    def __init__(self, signum: int, detail: str = ""):
        self.signum = signum
        self.detail = detail
        super().__init__(f"stopped by {signal.Signals(signum).name}{': ' + detail if detail else ''}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class StopFlag:
    """Set by the signal handler, read by the batch loops."""

    def __init__(self):
        self.signum: int | None = None

    def check(self, detail: str = "") -> None:
        if self.signum is not None:
            raise Interrupted(self.signum, detail)


@contextmanager
def graceful_stop():
    """Turn SIGTERM and SIGINT into a :class:`StopFlag` (handlers exist in the main thread only)."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag.signum = signum

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
