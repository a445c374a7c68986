"""A one-line progress bar on stderr for long scans: files done / total, findings so far.

Drawn only when asked (`enabled`: stderr is a terminal and the report is text), not before
`delay` seconds have passed (a short scan shows nothing), at most every `interval` seconds,
and erased when the scan ends so the report starts on a clean line.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

BAR_WIDTH = 24
ERASE = "\r\x1b[K"


class ProgressBar:
    def __init__(self, stream: TextIO, delay: float = 0.5, interval: float = 0.1,
                 clock=time.monotonic):
        self.stream = stream
        self.delay = delay
        self.interval = interval
        self.clock = clock
        self.total = 0
        self.done = 0
        self.findings = 0
        self.started = 0.0
        self.drawn_at: float | None = None

    def start(self, total: int) -> None:
        self.total = total
        self.started = self.clock()

    def advance(self, findings: int) -> None:
        self.done += 1
        self.findings += findings
        now = self.clock()
        if now - self.started < self.delay:
            return
        if self.drawn_at is None or now - self.drawn_at >= self.interval or self.done == self.total:
            self._draw(now)

    def finish(self) -> None:
        if self.drawn_at is not None:
            self.stream.write(ERASE)
            self.stream.flush()

    def line(self) -> str:
        filled = BAR_WIDTH * self.done // self.total if self.total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        noun = "finding" if self.findings == 1 else "findings"
        return f"kmspolicy [{bar}] {self.done}/{self.total} files, {self.findings} {noun}"

    def _draw(self, now: float) -> None:
        columns = shutil.get_terminal_size((80, 24)).columns
        self.stream.write(ERASE + self.line()[:max(columns - 1, 0)])
        self.stream.flush()
        self.drawn_at = now


def progress_for(formats: list[str], quiet: bool, stream: TextIO | None = None) -> ProgressBar | None:
    """A bar when stderr is a terminal and every report is text; None (silent) otherwise."""
    stream = stream or sys.stderr
    if quiet or any(name != "text" for name in formats) or not _is_tty(stream):
        return None
    return ProgressBar(stream)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
