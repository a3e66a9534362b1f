"""A one-line progress report of a pre-render on stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """A one-line progress report on stderr (a line per 10% when not a terminal)."""

    def __init__(self, name: str, total: int, enabled: bool) -> None:
        self.name, self.total, self.enabled = name, total, enabled
        self.done = 0
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._last_decile = -1

    def add(self, count: int) -> None:
        """Count finished tiles; print a line when enabled (each decile when not a terminal)."""
        self.done += count
        if not self.enabled:
            return
        share = self.done / max(self.total, 1)
        line = (f"pre-render {self.name}: {self.done}/{self.total} tiles "
                f"({share:.0%}) {time.monotonic() - self.start:.1f} s")
        if self.tty:
            sys.stderr.write("\r" + line)
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif int(share * 10) != self._last_decile:
            self._last_decile = int(share * 10)
            sys.stderr.write(line + "\n")
