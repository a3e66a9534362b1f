"""Validating a native venue document against the JSON Schema `seatmap/venue.schema.json`.

The jsonschema library needs ~150 us per seat object (~20 s for a 150k-seat
stadium). So the document is validated in parts: everything but the rows goes
through jsonschema as it is; each row and each seat goes through a fast
predicate that is stricter than the schema's definition (it never passes what
the schema rejects), and only what it flags is run through jsonschema, which
then either names the problem or lets it pass. A test checks the predicates
against the schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from seatmap.errors import VenueFormatError
from seatmap.formats.jsonpath import child, join, type_name

_SEAT_KEYS = frozenset(
    {"id", "label", "x", "y", "category", "radius", "accessible", "type", "gap_before",
     "source_id"}
)
_SEAT_TYPES = frozenset({"standard", "wheelchair", "companion", "restricted_view"})
_NUMBER = (int, float)
_ROW_KEYS = frozenset({"label", "seats"})


@cache
def venue_schema() -> dict[str, Any]:
    """The JSON Schema of the native venue format (package data of `seatmap`)."""
    text = resources.files("seatmap").joinpath("venue.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(frozen=True)
class _Validators:
    document: jsonschema.Draft202012Validator
    row: jsonschema.Draft202012Validator
    seat: jsonschema.Draft202012Validator


@cache
def _validators() -> _Validators:
    schema = venue_schema()

    def part(name: str) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(
            {"$defs": schema["$defs"], "$ref": f"#/$defs/{name}"}
        )

    return _Validators(jsonschema.Draft202012Validator(schema), part("row"), part("seat"))


def validate_native_schema(doc: object) -> None:
    """Raise VenueFormatError at the first place where `doc` breaks the schema."""
    validators = _validators()
    skeleton, row_lists = _split_rows(doc)
    error = best_match(validators.document.iter_errors(skeleton))
    if error is not None:
        raise _to_format_error(error, "$")
    for rows_path, rows in row_lists:
        for ri, row in enumerate(rows):
            row_path = child(rows_path, ri)
            if not _row_looks_valid(row):
                _raise_first(validators.row, row, row_path)
            seats_path = child(row_path, "seats")
            for k, seat in enumerate(row.get("seats", ()) if isinstance(row, dict) else ()):
                if not _seat_looks_valid(seat):
                    _raise_first(validators.seat, seat, child(seats_path, k))


def _raise_first(validator: jsonschema.Draft202012Validator, instance: object, path: str) -> None:
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise _to_format_error(error, path)


def _split_rows(doc: object) -> tuple[object, list[tuple[str, list[Any]]]]:
    """A copy of `doc` with every well-formed rows array emptied, and those arrays."""
    row_lists: list[tuple[str, list[Any]]] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("sections"), list):
        return doc, row_lists
    sections: list[Any] = []
    for si, section in enumerate(doc["sections"]):
        if isinstance(section, dict) and isinstance(section.get("rows"), list):
            row_lists.append((join(("sections", si, "rows")), section["rows"]))
            section = {**section, "rows": []}
        sections.append(section)
    return {**doc, "sections": sections}, row_lists


def _row_looks_valid(row: object) -> bool:
    """True only for rows (seats aside) the schema accepts."""
    return (
        type(row) is dict
        and row.keys() == _ROW_KEYS
        and _short_text(row["label"], 100)
        and type(row["seats"]) is list
    )


def _seat_looks_valid(seat: object) -> bool:
    """True only for seats the schema accepts; may be False for some it accepts too."""
    if type(seat) is not dict or not seat.keys() <= _SEAT_KEYS:
        return False
    x, y = seat.get("x"), seat.get("y")
    if type(x) not in _NUMBER or type(y) not in _NUMBER:
        return False
    if not (-1e6 <= x <= 1e6 and -1e6 <= y <= 1e6):  # type: ignore[operator]
        return False
    if not (
        _short_text(seat.get("id"), 200)
        and _short_text(seat.get("label"), 100)
        and _short_text(seat.get("category"), 200)
    ):
        return False
    if len(seat) == 5:
        return True
    if "radius" in seat:
        radius = seat["radius"]
        if type(radius) not in _NUMBER or not 0 < radius <= 1e6:
            return False
    kind = seat.get("type", "standard")
    if type(kind) is not str or kind not in _SEAT_TYPES:
        return False
    source = seat.get("source_id", "")
    return (
        type(seat.get("accessible", False)) is bool
        and type(seat.get("gap_before", False)) is bool
        and type(source) is str
        and len(source) <= 200
    )


def _short_text(value: object, max_len: int) -> bool:
    return type(value) is str and 0 < len(value) <= max_len


def _to_format_error(error: ValidationError, base: str) -> VenueFormatError:
    """A VenueFormatError with a JSON path and a short message for a schema error."""
    path = join(error.absolute_path, root=base)
    instance = error.instance
    kind = error.validator
    if kind == "required" and isinstance(instance, dict):
        missing = next((k for k in error.validator_value if k not in instance), "?")
        return VenueFormatError(f"missing field {missing!r}", path=child(path, missing))
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {})
        extra = next((k for k in instance if k not in known), "?")
        return VenueFormatError(f"unknown field {extra!r}", path=child(path, extra))
    if kind == "type":
        expected = error.validator_value
        return VenueFormatError(f"expected {expected}, got {type_name(instance)}", path=path)
    if kind == "const":
        return VenueFormatError(f"must be {error.validator_value!r}", path=path)
    if kind == "enum":
        choices = ", ".join(repr(v) for v in error.validator_value)
        return VenueFormatError(f"must be one of {choices}", path=path)
    message = error.message
    if len(message) > 200:
        message = message[:197] + "..."
    return VenueFormatError(message, path=path)
