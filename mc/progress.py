"""One progress display per command, over points and histories.

On a terminal it is a tqdm bar on stderr; otherwise (a batch job, a pipe, CI)
a plain line at most every :data:`INTERVAL` seconds, so logs stay short.
Totals may grow while it runs (a campaign script starts runs of its own, a
precision target adds batches).
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

INTERVAL = 10.0
"""Seconds between two plain progress lines when stderr is not a terminal."""


class Progress:
    def __init__(self, enabled: bool = True, *, label: str = "emmc", points: int = 0, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.label = label
        self.points = points
        self.points_done = 0
        self.total = 0
        self.done = 0
        self.start = time.monotonic()
        self._last_line = self.start
        tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = tqdm(total=0, unit=" hist", unit_scale=True, desc=label, delay=1.0, file=self.stream,
                        dynamic_ncols=True) if tty else None

    def add(self, histories: int) -> None:
        """More histories are to be run."""
        self.total += int(histories)
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def advance(self, histories: int) -> None:
        """Histories finished."""
        self.done += int(histories)
        if self.bar is not None:
            self.bar.update(int(histories))
        else:
            self._maybe_line()

    def point_done(self) -> None:
        self.points_done += 1
        if self.bar is not None and self.points:
            self.bar.set_description(f"{self.label} {self.points_done}/{self.points}")
        else:
            self._maybe_line()

    def line(self) -> str:
        fraction = self.done / self.total if self.total else 0.0
        parts = [f"{self.label}: {fraction:.0%} of {self.total:,} histories"]
        if self.points:
            parts.append(f"{self.points_done}/{self.points} points")
        parts.append(f"{time.monotonic() - self.start:.0f} s")
        return ", ".join(parts)

    def _maybe_line(self) -> None:
        now = time.monotonic()
        if self.enabled and now - self._last_line >= INTERVAL:
            self._last_line = now
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
