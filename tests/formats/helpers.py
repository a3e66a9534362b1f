"""Shared helpers for the venue format tests: fixture files and writing variants."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from seatmap.errors import VenueFormatError
from seatmap.formats import load_venue_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NATIVE_SMALL = FIXTURES / "native_small.json"
PRETIX_SMALL = FIXTURES / "pretix_small_hall.json"


def fixture_doc(path: Path) -> dict[str, Any]:
    """A fresh, mutable copy of a fixture file's JSON."""
    doc: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return copy.deepcopy(doc)


def write_json(tmp_path: Path, doc: object, name: str = "venue.json") -> Path:
    """Write `doc` as JSON (NaN and Infinity written as such) and return the path."""
    path = tmp_path / name
    path.write_text(json.dumps(doc), "utf-8")
    return path


def load_error(path: Path, **kwargs: Any) -> VenueFormatError:
    """The VenueFormatError that loading `path` raises."""
    with pytest.raises(VenueFormatError) as caught:
        load_venue_file(path, **kwargs)
    return caught.value
