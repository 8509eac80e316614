"""A one-line progress bar for long jobs (import, replay, backfill), drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    """``progress(done, total)`` redraws the bar; ``close()`` ends its line. Silent when not on a terminal,
    so scripts and CI logs stay clean."""

    def __init__(self, label: str, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        share = done / total if total else 1.0
        filled = int(share * WIDTH)
        elapsed = time.monotonic() - self.started
        line = f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {share:4.0%} {done:,}/{total:,} {elapsed:.0f}s"
        self.stream.write(line)
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
