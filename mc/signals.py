"""SIGTERM and SIGINT: at once before a run has written anything, at a batch boundary after.

The command line installs :func:`command_signals` first thing.  Until a run
directory is opened, a SIGINT or SIGTERM prints one line and ends the process
at once (``os._exit(128 + signal)``): nothing has been written yet, and a
KeyboardInterrupt raised while numba compiles can land in one of llvmlite's
ctypes callbacks, which swallows it and lets the run go on.  Inside
:func:`graceful_stop` (the run) the first signal only raises a flag; the batch
loop looks at it between kernel calls and raises :class:`Interrupted`,
abandoning the batch in progress (every finished batch is already on disk),
and a table being published is finished first, so a stop never leaves a
half-written set of files.  A second Ctrl-C raises KeyboardInterrupt at once.
Python code that uses :func:`graceful_stop` without the command line gets
the same flag through handlers installed for the duration of the block.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):
    """A run stopped on request at a batch boundary; ``signum`` says which signal asked.

    A BaseException, like KeyboardInterrupt: the ``except Exception`` that keeps a
    campaign going past a failing point (or a study's own error handling) must not
    swallow a stop."""

    def __init__(self, signum: int, detail: str = ""):
        self.signum = signum
        self.detail = detail
        super().__init__(f"stopped by {signal.Signals(signum).name}{' ' + detail if detail else ''}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class StopFlag:
    """Set by the signal handler, read by the batch loops."""

    def __init__(self, graceful: bool = True):
        self.signum: int | None = None
        self.graceful = graceful

    def check(self, detail: str = "") -> None:
        if self.signum is not None:
            raise Interrupted(self.signum, detail)

    def handle(self, signum, frame) -> None:
        if not self.graceful:
            sys.stderr.write(f"emmc: interrupted by {signal.Signals(signum).name} before anything was written\n")
            sys.stderr.flush()
            os._exit(128 + signum)
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum


_COMMAND: StopFlag | None = None


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def command_signals():
    """The command line's handlers: end at once until :func:`graceful_stop`, then stop at a batch boundary."""
    global _COMMAND
    if not _main_thread():
        yield
        return
    flag = StopFlag(graceful=False)
    previous = {sig: signal.signal(sig, flag.handle) for sig in _SIGNALS}
    _COMMAND = flag
    try:
        yield
    finally:
        _COMMAND = None
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def graceful_stop():
    """A :class:`StopFlag` that SIGTERM and SIGINT set for the duration of the block (a run)."""
    if _COMMAND is not None:
        _COMMAND.graceful = True
        try:
            yield _COMMAND
        finally:
            _COMMAND.graceful = False
        return
    flag = StopFlag()
    if not _main_thread():
        yield flag
        return
    previous = {sig: signal.signal(sig, flag.handle) for sig in _SIGNALS}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
