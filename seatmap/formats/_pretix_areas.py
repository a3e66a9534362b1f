"""pretix plan areas (rectangle, circle, ellipse, polygon, text) as venue `Area`s.

pretix's schema requires no field of an area, so an area may lack its
position (then it sits at its zone's origin), its shape or its shape's
measures. A shape that an SVG renderer would not draw (no measures, a size or
radius that is not positive, a polygon of fewer than 3 points) is left out;
its text, if any, is still kept. `color` and `border_color` are CSS colours;
"none" means no paint, as in SVG.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from seatmap.errors import VenueFormatError
from seatmap.formats._geometry import rotate
from seatmap.formats.jsonpath import (
    as_array,
    as_object,
    check_number,
    field,
    opt_number,
    opt_str,
    req_number,
    req_str,
)
from seatmap.formats.palette import normalize_color
from seatmap.model import Area, Point

PRETIX_TEXT_SIZE = 16.0
AREA_FILL = "#d9d9d9"
TEXT_COLOR = "#333333"
SHAPES = ("rectangle", "circle", "ellipse", "polygon", "text")


def parse_area(raw: object, path: str, origin: Point) -> list[Area]:
    """One pretix area as venue areas in absolute coordinates (shape, then its text)."""
    area = as_object(raw, path)
    pos = origin
    if area.get("position") is not None:
        pos = _position(area["position"], path + ".position", origin)
    rotation = math.fmod(opt_number(area, "rotation", path, 0.0), 360.0)
    fill = _paint(area, "color", path, AREA_FILL)
    stroke = _paint(area, "border_color", path, "")
    shape = opt_str(area, "shape", path, "")
    if not shape and "width" in area:
        shape = "rectangle"  # plans written before areas had a shape
    if shape and shape not in SHAPES:
        choices = ", ".join(SHAPES)
        raise VenueFormatError(f"unknown shape {shape!r}; expected {choices}", path=path + ".shape")
    out: list[Area] = []
    label = area.get("text")
    drawn = _shape(area, path, shape, pos, rotation) if shape not in ("", "text") else None
    if drawn is not None:
        kind, points, turn = drawn
        own_text = label if isinstance(label, str) else ""  # older plans: a plain string
        out.append(Area(kind, points, fill, stroke, text=own_text, rotation_deg=turn))
    if label is not None and not isinstance(label, str):
        text_area = _text(area, path, pos, rotation)
        if text_area is not None:
            out.append(text_area)
    return out


def _paint(area: dict[str, Any], key: str, path: str, default: str) -> str:
    """A fill or border colour; "" (no paint) for "none" and for fully transparent ones."""
    value = opt_str(area, key, path, "")
    if value.strip().lower() == "none":
        return ""
    color = normalize_color(value, f"{path}.{key}", default)
    return "" if len(color) == 9 and color.endswith("00") else color


def _shape(
    area: dict[str, Any], path: str, shape: str, pos: Point, rotation: float
) -> tuple[Any, tuple[Point, ...], float] | None:
    """(kind, points, rotation) of a drawable shape, or None when there is nothing to draw."""
    legacy = shape == "rectangle" and "rectangle" not in area and "width" in area
    measures = area if legacy else area.get(shape)
    if measures is None:
        return None
    where = path if measures is area else f"{path}.{shape}"
    box = as_object(measures, where)
    if shape == "rectangle":
        width, height = req_number(box, "width", where), req_number(box, "height", where)
        if width <= 0 or height <= 0:
            return None
        return "rect", (pos, (pos[0] + width, pos[1] + height)), rotation
    if shape == "circle":
        radius = req_number(box, "radius", where)
        return ("circle", (pos, (radius, radius)), 0.0) if radius > 0 else None
    if shape == "ellipse":
        rx, ry = _position(field(box, "radius", where), where + ".radius", (0.0, 0.0))
        return ("ellipse", (pos, (rx, ry)), rotation) if rx > 0 and ry > 0 else None
    raw_points = as_array(field(box, "points", where), where + ".points")
    if len(raw_points) < 3:
        return None
    points = np.array(
        [_position(p, f"{where}.points[{k}]", pos) for k, p in enumerate(raw_points)]
    )
    turned = rotate(points, pos, rotation)
    return "polygon", tuple((float(x), float(y)) for x, y in turned.tolist()), 0.0


def _text(area: dict[str, Any], path: str, pos: Point, rotation: float) -> Area | None:
    text_path = path + ".text"
    text = as_object(area["text"], text_path)
    content = req_str(text, "text", text_path)
    color = normalize_color(opt_str(text, "color", text_path, ""), text_path + ".color", TEXT_COLOR)
    size = opt_number(text, "size", text_path, PRETIX_TEXT_SIZE)
    if not content.strip():
        return None
    anchor = pos
    if text.get("position") is not None:
        offset = _position(text["position"], text_path + ".position", pos)
        turned = rotate(np.array([offset]), pos, rotation)
        anchor = (float(turned[0, 0]), float(turned[0, 1]))
    return Area(
        "text",
        (anchor,),
        fill="",
        text=content,
        text_color=color,
        font_size=size if size > 0 else PRETIX_TEXT_SIZE,
        rotation_deg=rotation,
    )


def _position(raw: object, path: str, origin: Point) -> Point:
    position = as_object(raw, path)
    x = check_number(field(position, "x", path), path + ".x")
    y = check_number(field(position, "y", path), path + ".y")
    return (check_number(origin[0] + x, path + ".x"), check_number(origin[1] + y, path + ".y"))


def area_bounds(area: Area) -> tuple[float, float, float, float]:
    """(min x, min y, max x, max y) of an area's shape; text counts only its anchor."""
    (x0, y0), *rest = area.points
    if area.kind in ("circle", "ellipse"):
        reach = max(rest[0])
        return (x0 - reach, y0 - reach, x0 + reach, y0 + reach)
    points = np.array(area.points, dtype=np.float64)
    if area.kind == "rect":
        x1, y1 = rest[0]
        corners = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=np.float64)
        points = rotate(corners, (x0, y0), area.rotation_deg)
    low, high = points.min(axis=0), points.max(axis=0)
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
