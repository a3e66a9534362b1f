"""Venue file formats: the project's own JSON, pretix seating plans, and detection.

Use `load_venue_file(path)` to read either format; `write_native(venue, path)`
writes the native one. Every reader validates the whole file and raises
`seatmap.errors.VenueFormatError` naming the JSON path of the first problem.
"""

from __future__ import annotations

from seatmap.formats._source import DEFAULT_MAX_BYTES
from seatmap.formats.detect import (
    FileFormat,
    FormatChoice,
    detect_format,
    load_venue_bytes,
    load_venue_file,
    parse_venue,
)
from seatmap.formats.native import (
    dumps_native,
    native_document,
    parse_native,
    read_native,
    write_native,
)
from seatmap.formats.pretix import parse_pretix, read_pretix

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FileFormat",
    "FormatChoice",
    "detect_format",
    "dumps_native",
    "load_venue_bytes",
    "load_venue_file",
    "native_document",
    "parse_native",
    "parse_pretix",
    "parse_venue",
    "read_native",
    "read_pretix",
    "write_native",
]
