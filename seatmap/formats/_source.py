"""Reading a venue file's bytes and decoding its JSON, with clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson

from seatmap.errors import VenueFormatError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def read_bytes(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes, refusing files larger than `max_bytes` before reading them."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise VenueFormatError(
                f"file is {size} bytes, over the limit of {max_bytes} bytes", file=str(file)
            )
        with file.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise VenueFormatError(f"cannot read file: {exc.strerror or exc}", file=str(file)) from exc
    if len(raw) > max_bytes:  # grew while we looked
        raise VenueFormatError(f"file is over the limit of {max_bytes} bytes", file=str(file))
    return raw


def decode_json(raw: bytes, file: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> object:
    """Decode JSON text; an error names the line and column where it stops being JSON.

    NaN and Infinity are not JSON, but some tools write them; they are decoded
    here so that the reader can say which field holds the non-finite number.
    """
    if len(raw) > max_bytes:
        raise VenueFormatError(
            f"file is {len(raw)} bytes, over the limit of {max_bytes} bytes", file=file
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VenueFormatError(f"not JSON: invalid UTF-8 at byte {exc.start}", file=file) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise VenueFormatError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", file=file
        ) from exc
    except RecursionError as exc:
        raise VenueFormatError("not JSON: nested too deeply", file=file) from exc
