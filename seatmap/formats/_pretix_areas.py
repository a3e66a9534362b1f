"""pretix plan areas (rectangle, circle, ellipse, polygon, text) as venue `Area`s."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from seatmap.errors import VenueFormatError
from seatmap.formats._geometry import rotate
from seatmap.formats.jsonpath import (
    as_array,
    as_object,
    check_length,
    check_number,
    field,
    opt_number,
    opt_str,
    req_length,
    req_str,
)
from seatmap.formats.palette import normalize_color
from seatmap.model import Area, Point

PRETIX_TEXT_SIZE = 16.0
AREA_FILL = "#d9d9d9"
TEXT_COLOR = "#333333"


def parse_area(raw: object, path: str, origin: Point) -> list[Area]:
    """One pretix area as venue areas in absolute coordinates (shape, then its text)."""
    area = as_object(raw, path)
    pos = _position(field(area, "position", path), path + ".position", origin)
    rotation = math.fmod(opt_number(area, "rotation", path, 0.0), 360.0)
    fill = normalize_color(opt_str(area, "color", path, ""), path + ".color", AREA_FILL)
    stroke = normalize_color(opt_str(area, "border_color", path, ""), path + ".border_color", "")
    shape = area.get("shape")
    if shape is None and "width" in area:
        shape = "rectangle"  # plans written before areas had a shape
    if shape is None:
        raise VenueFormatError("missing field 'shape'", path=path + ".shape")
    out: list[Area] = []
    if shape in ("rectangle", "rect"):
        box = as_object(area.get(shape, area), f"{path}.{shape}")
        box_path = f"{path}.{shape}" if shape in area else path
        width = req_length(box, "width", box_path)
        height = req_length(box, "height", box_path)
        corner = (pos[0] + width, pos[1] + height)
        out.append(Area("rect", (pos, corner), fill, stroke, rotation_deg=rotation))
    elif shape == "circle":
        circle = as_object(field(area, "circle", path), path + ".circle")
        radius = req_length(circle, "radius", path + ".circle")
        out.append(Area("circle", (pos, (radius, radius)), fill, stroke))
    elif shape == "ellipse":
        ellipse = as_object(field(area, "ellipse", path), path + ".ellipse")
        rx, ry = _position(field(ellipse, "radius", path), path + ".ellipse.radius", (0.0, 0.0))
        check_length(rx, path + ".ellipse.radius.x")
        check_length(ry, path + ".ellipse.radius.y")
        out.append(Area("ellipse", (pos, (rx, ry)), fill, stroke, rotation_deg=rotation))
    elif shape == "polygon":
        out.append(_polygon(area, path, pos, rotation, fill, stroke))
    elif shape != "text":
        raise VenueFormatError(
            f"unknown shape {shape!r}; expected rectangle, circle, ellipse, polygon or text",
            path=path + ".shape",
        )
    if shape == "text" or area.get("text") is not None:
        text_area = _text(area, path, pos, rotation)
        if text_area.text:
            out.append(text_area)
    return out


def _polygon(
    area: dict[str, Any], path: str, pos: Point, rotation: float, fill: str, stroke: str
) -> Area:
    polygon = as_object(field(area, "polygon", path), path + ".polygon")
    raw_points = as_array(field(polygon, "points", path + ".polygon"), path + ".polygon.points")
    if len(raw_points) < 3:
        raise VenueFormatError("a polygon needs at least 3 points", path=path + ".polygon.points")
    points = np.array(
        [_position(p, f"{path}.polygon.points[{k}]", pos) for k, p in enumerate(raw_points)]
    )
    turned = rotate(points, pos, rotation)
    return Area("polygon", tuple((float(x), float(y)) for x, y in turned.tolist()), fill, stroke)


def _text(area: dict[str, Any], path: str, pos: Point, rotation: float) -> Area:
    text_path = path + ".text"
    text = as_object(field(area, "text", path), text_path)
    content = req_str(text, "text", text_path)
    color = normalize_color(opt_str(text, "color", text_path, ""), text_path + ".color", TEXT_COLOR)
    size = opt_number(text, "size", text_path, PRETIX_TEXT_SIZE)
    check_length(size, text_path + ".size")
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
        font_size=size,
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
