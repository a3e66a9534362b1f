"""How the tile benchmark prints: its targets, one row per figure, progress on stderr."""

from __future__ import annotations

import sys
import time

TARGETS = {
    "prerender_s": 90.0,
    "tiles_per_s": 1500.0,
    "speedup": 5.0,
    "cached_rps": 8000.0,
    "rss_mb": 400.0,
}


def row(name: str, value: str, target: str = "", note: str = "") -> None:
    """One figure: its name, value, target and a note, in aligned columns."""
    print(f"  {name:<44} {value:>16}  {target:<18} {note}", flush=True)


def phase(text: str) -> None:
    """A timestamped progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)
