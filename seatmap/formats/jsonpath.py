"""JSON paths for error messages, and typed field access that fails with one.

Paths look like `$.sections[2].rows[0].seats[5].x`, so an error names the exact
place in the file that is wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from seatmap.errors import VenueFormatError

# Coordinates beyond this (in venue units) are treated as a broken file.
MAX_ABS_COORD = 1e6

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def child(path: str, key: str | int) -> str:
    """The path of `key` (an object field or array index) below `path`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def join(parts: Iterable[str | int], root: str = "$") -> str:
    """The path of a sequence of keys and indices, starting at `root`."""
    path = root
    for part in parts:
        path = child(path, part)
    return path


def type_name(value: object) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def as_object(value: object, path: str) -> dict[str, Any]:
    """`value` as a JSON object, or a VenueFormatError naming `path`."""
    if not isinstance(value, dict):
        raise VenueFormatError(f"expected an object, got {type_name(value)}", path=path)
    return value


def as_array(value: object, path: str) -> list[Any]:
    """`value` as a JSON array, or a VenueFormatError naming `path`."""
    if not isinstance(value, list):
        raise VenueFormatError(f"expected an array, got {type_name(value)}", path=path)
    return value


def field(obj: dict[str, Any], key: str, path: str) -> Any:
    """A required field of an object; a missing one is an error naming its path."""
    if key not in obj:
        raise VenueFormatError(f"missing field {key!r}", path=child(path, key))
    return obj[key]


def req_str(obj: dict[str, Any], key: str, path: str, *, allow_int: bool = False) -> str:
    """A required string field (optionally accepting an integer, turned into text)."""
    value = field(obj, key, path)
    return _to_str(value, child(path, key), allow_int)


def req_text(obj: dict[str, Any], key: str, path: str, *, allow_int: bool = False) -> str:
    """A required string field that is not empty or blank."""
    text = req_str(obj, key, path, allow_int=allow_int)
    if not text.strip():
        raise VenueFormatError("must not be empty", path=child(path, key))
    return text


def opt_str(obj: dict[str, Any], key: str, path: str, default: str) -> str:
    """An optional string field; null or absent gives `default`."""
    value = obj.get(key)
    if value is None:
        return default
    return _to_str(value, child(path, key), False)


def _to_str(value: object, where: str, allow_int: bool) -> str:
    if isinstance(value, str):
        return value
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise VenueFormatError(f"expected a string, got {type_name(value)}", path=where)


def req_number(obj: dict[str, Any], key: str, path: str) -> float:
    """A required finite number field within +-MAX_ABS_COORD."""
    return check_number(field(obj, key, path), child(path, key))


def opt_number(obj: dict[str, Any], key: str, path: str, default: float) -> float:
    """An optional finite number field; absent or null gives `default`."""
    value = obj.get(key)
    if value is None:
        return default
    return check_number(value, child(path, key))


def check_number(value: object, where: str) -> float:
    """`value` as a float if it is a finite, non-absurd number; else an error at `where`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VenueFormatError(f"expected a number, got {type_name(value)}", path=where)
    number = float(value)
    if not math.isfinite(number):
        raise VenueFormatError(f"number is not finite ({number})", path=where)
    if abs(number) > MAX_ABS_COORD:
        raise VenueFormatError(f"number {number:g} is beyond +-{MAX_ABS_COORD:g}", path=where)
    return number


def check_length(value: float, where: str) -> float:
    """`value` if it is > 0 (a radius, width or height); else an error at `where`."""
    if value <= 0:
        raise VenueFormatError(f"must be greater than 0, got {value:g}", path=where)
    return value


def req_length(obj: dict[str, Any], key: str, path: str) -> float:
    """A required number field that must be > 0 (a radius, width or height)."""
    return check_length(req_number(obj, key, path), child(path, key))
