"""Areas (stage, field, text...) in the native format: reading and writing."""

from __future__ import annotations

import math
from typing import Any

from seatmap.formats.jsonpath import check_number, child
from seatmap.model import Area, Point


def point(value: list[Any], path: str) -> Point:
    """An [x, y] pair (schema-checked) as a point of finite numbers."""
    return (check_number(value[0], f"{path}[0]"), check_number(value[1], f"{path}[1]"))


def read_area(area: dict[str, Any], path: str) -> Area:
    """A native area object (schema-checked) as a venue `Area`."""
    kind = area["kind"]
    num = {k: check_number(v, child(path, k)) for k, v in area.items() if k in _AREA_NUMBERS}
    points: tuple[Point, ...]
    if kind == "rect":
        x, y = num["x"], num["y"]
        points = ((x, y), (x + num["width"], y + num["height"]))
    elif kind == "circle":
        points = ((num["cx"], num["cy"]), (num["r"], num["r"]))
    elif kind == "ellipse":
        points = ((num["cx"], num["cy"]), (num["rx"], num["ry"]))
    elif kind == "polygon":
        points = tuple(point(p, f"{path}.points[{k}]") for k, p in enumerate(area["points"]))
    else:
        points = ((num["x"], num["y"]),)
    return Area(
        kind=kind,
        points=points,
        fill=area.get("fill", "#d9d9d9"),
        stroke=area.get("stroke", ""),
        text=area.get("text", ""),
        text_color=area.get("text_color", "#333333"),
        font_size=num.get("font_size", 12.0),
        rotation_deg=num.get("rotation", 0.0),
    )


_AREA_NUMBERS = frozenset(
    {"x", "y", "width", "height", "cx", "cy", "r", "rx", "ry", "font_size", "rotation"}
)


def area_document(area: Area) -> dict[str, Any]:
    """A venue `Area` as a native area object."""
    (x0, y0), *rest = area.points
    doc: dict[str, Any] = {"kind": area.kind}
    if area.kind == "rect":
        (x1, y1) = rest[0]
        doc.update(x=x0, y=y0, width=_span(x0, x1), height=_span(y0, y1))
    elif area.kind == "circle":
        doc.update(cx=x0, cy=y0, r=rest[0][0])
    elif area.kind == "ellipse":
        doc.update(cx=x0, cy=y0, rx=rest[0][0], ry=rest[0][1])
    elif area.kind == "polygon":
        doc["points"] = [list(p) for p in area.points]
    else:
        doc.update(x=x0, y=y0)
    doc.update(fill=area.fill, stroke=area.stroke, text=area.text, text_color=area.text_color)
    doc.update(font_size=area.font_size, rotation=area.rotation_deg)
    return doc


def _span(start: float, end: float) -> float:
    """A length that, added to `start`, gives exactly `end` (so rects read back unchanged)."""
    length = end - start
    for _ in range(8):
        total = start + length
        if total == end:
            break
        length = math.nextafter(length, math.inf if total < end else -math.inf)
    return length
