"""Loading a venue file of any supported format, telling the format from its content."""

from __future__ import annotations

import os
from typing import Literal

from seatmap.errors import VenueFormatError
from seatmap.formats._source import DEFAULT_MAX_BYTES, decode_json, read_bytes
from seatmap.formats.native import FORMAT_NAME, parse_native
from seatmap.formats.pretix import parse_pretix
from seatmap.model import Venue

FileFormat = Literal["seatmap", "pretix"]
FormatChoice = Literal["auto", "seatmap", "pretix"]
FORMATS: tuple[FormatChoice, ...] = ("auto", "seatmap", "pretix")


def detect_format(doc: object) -> FileFormat:
    """Say "seatmap" for a native venue document, "pretix" for a pretix seating plan."""
    if isinstance(doc, dict):
        if doc.get("format") == FORMAT_NAME:
            return "seatmap"
        if "zones" in doc and "format" not in doc:
            return "pretix"
    raise VenueFormatError(
        f'unknown venue format: expected an object with "format": "{FORMAT_NAME}" '
        '(seatmap venue) or with "zones" (pretix seating plan)',
        path="$",
    )


def parse_venue(doc: object, format: FormatChoice = "auto", name: str | None = None) -> Venue:
    """Build a venue from an already decoded JSON document of the given (or detected) format."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    chosen = detect_format(doc) if format == "auto" else format
    if chosen == "seatmap":
        return parse_native(doc, name=name)
    return parse_pretix(doc, name=name)


def load_venue_bytes(
    raw: bytes,
    format: FormatChoice = "auto",
    name: str | None = None,
    *,
    file: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Venue:
    """Decode, validate and build a venue from file content (e.g. an HTTP upload)."""
    try:
        return parse_venue(decode_json(raw, file, max_bytes), format, name)
    except VenueFormatError as exc:
        exc.file = exc.file or file
        raise


def load_venue_file(
    path: str | os.PathLike[str],
    format: FormatChoice = "auto",
    name: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Venue:
    """Read a venue file (native or pretix) and return the fully validated venue.

    Raises VenueFormatError naming the file and the JSON path of the first
    problem; nothing is returned unless the whole file is valid. Files larger
    than `max_bytes` (64 MB by default) are refused before they are read.
    """
    file = os.fspath(path)
    try:
        raw = read_bytes(path, max_bytes)
    except VenueFormatError as exc:
        exc.file = exc.file or file
        raise
    return load_venue_bytes(raw, format, name, file=file, max_bytes=max_bytes)
