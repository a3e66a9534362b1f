"""What pretix's seating-plan schema requires of a plan, checked field by field.

Written from the schema's description (see `pretix_strategy` for a summary):
every object lists the fields it may have, which of them are required, and the
JSON type of each. `problems(doc)` names every place that breaks it.
"""

from __future__ import annotations

from typing import Any

# A field's type: a JSON type name, a nested object's name, "[name]" for an array of
# objects, or a tuple of JSON type names / enum values.
_Kind = str | tuple[Any, ...]

OBJECTS: dict[str, tuple[dict[str, _Kind], frozenset[str]]] = {
    "plan": ({"name": "string", "zones": "[zone]", "categories": "[category]", "size": "size"},
             frozenset({"name", "zones", "categories", "size"})),
    "size": ({"width": "integer", "height": "integer"}, frozenset({"width", "height"})),
    "category": ({"name": "string", "color": "string"}, frozenset({"name"})),
    "zone": ({"name": "string", "zone_id": "string", "uuid": "string", "position": "position",
              "rows": "[row]", "areas": "[area]"}, frozenset({"position", "rows"})),
    "row": ({"row_number": "string", "row_label": ("string", "null"),
             "seat_label": ("string", "null"), "uuid": "string", "seats": "[seat]",
             "row_number_position": ("enum", "start", "end", "both", None),
             "position": "position"}, frozenset({"row_number", "seats"})),
    "seat": ({"seat_guid": "string", "seat_number": "string", "uuid": "string",
              "start_direction": ("string", "null"), "radius": "integer",
              "position": "position", "category": "string"},
             frozenset({"seat_guid", "seat_number", "position", "category"})),
    "area": ({"color": "string", "border_color": "string", "rotation": "number",
              "position": "position", "uuid": "string",
              "shape": ("enum", "polygon", "rectangle", "ellipse", "circle", "text"),
              "polygon": "polygon", "rectangle": "rectangle", "ellipse": "ellipse",
              "circle": "circle", "text": "text"}, frozenset()),
    "polygon": ({"points": "[position]"}, frozenset({"points"})),
    "rectangle": ({"width": "integer", "height": "integer"}, frozenset({"width", "height"})),
    "ellipse": ({"radius": "position"}, frozenset({"radius"})),
    "circle": ({"radius": "integer"}, frozenset({"radius"})),
    "text": ({"text": "string", "color": "string", "size": "integer", "position": "position"},
             frozenset({"text", "position"})),
    "position": ({"x": "number", "y": "number"}, frozenset({"x", "y"})),
}


def _is(value: object, json_type: str) -> bool:
    if json_type == "null":
        return value is None
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if json_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    raise ValueError(json_type)


def problems(doc: object, name: str = "plan", path: str = "$") -> list[str]:
    """Every place in `doc` where it breaks the schema, as "path: what"."""
    if not isinstance(doc, dict):
        return [f"{path}: expected an object"]
    fields, required = OBJECTS[name]
    out = [f"{path}.{key}: missing" for key in sorted(required - doc.keys())]
    out += [f"{path}.{key}: not allowed" for key in sorted(doc.keys() - fields.keys())]
    for key, value in doc.items():
        kind = fields.get(key)
        where = f"{path}.{key}"
        if kind is None:
            continue
        if isinstance(kind, tuple):
            ok = value in kind[1:] if kind[0] == "enum" else any(_is(value, t) for t in kind)
            out += [] if ok else [f"{where}: {value!r} is not {kind}"]
        elif kind.startswith("["):
            if not isinstance(value, list):
                out.append(f"{where}: expected an array")
                continue
            for k, item in enumerate(value):
                out += problems(item, kind[1:-1], f"{where}[{k}]")
        elif kind in OBJECTS:
            out += problems(value, kind, where)
        elif not _is(value, kind):
            out.append(f"{where}: expected {kind}, got {value!r}")
    return out
