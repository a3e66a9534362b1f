"""Writing a venue in either file format: the project's own JSON or a pretix seating plan."""

from __future__ import annotations

from typing import Literal

from seatmap.formats.export_pretix import dumps_pretix
from seatmap.formats.native import dumps_native
from seatmap.model import Venue

ExportFormat = Literal["seatmap", "pretix"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("seatmap", "pretix")


def dumps_venue(venue: Venue, fmt: ExportFormat) -> bytes:
    """The venue as JSON bytes of `fmt` ("seatmap" native or "pretix" seating plan)."""
    if fmt == "pretix":
        return dumps_pretix(venue)
    if fmt == "seatmap":
        return dumps_native(venue)
    raise ValueError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
