"""Venue file formats: the project's own JSON, pretix seating plans, and detection.

Use `load_venue_file(path)` to read either format; `dumps_venue(venue, fmt)`
writes either (`write_native(venue, path)` writes the native one to a file).
Every reader validates the whole file and raises
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
from seatmap.formats.export import EXPORT_FORMATS, ExportFormat, dumps_venue
from seatmap.formats.export_pretix import dumps_pretix, pretix_document
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
    "EXPORT_FORMATS",
    "ExportFormat",
    "FileFormat",
    "FormatChoice",
    "detect_format",
    "dumps_native",
    "dumps_pretix",
    "dumps_venue",
    "load_venue_bytes",
    "load_venue_file",
    "native_document",
    "parse_native",
    "parse_pretix",
    "parse_venue",
    "pretix_document",
    "read_native",
    "read_pretix",
    "write_native",
]
