"""Reader for pretix seating plans (zones > rows > seats, categories, areas).

Follows pretix's published `seating-plan.schema.json`: a seat's position is
relative to its row, a row's to its zone; areas are relative to their zone.
Mapping to the venue model:

- each zone with seats becomes a section; pretix zones have no outline, so it
  is the convex hull of the zone's seats padded by 1.5 seat radii;
- labels are the identifying `row_number` and `seat_number` (pretix's
  `row_label`/`seat_label` are display templates such as "Row %s");
- categories keep their name as id and get price 0 (pretix keeps prices on
  products, not in the plan); seats without a radius get pretix's default 10;
- area rotation is clockwise about the area's position, as in pretix: kept for
  rectangles (pivot = top-left), ellipses (centre) and text (anchor); polygons
  get it baked into their vertices. Text on a shape becomes its own text area.

If anything lies left of or above the origin, the whole plan is shifted so the
venue spans [0, width] x [0, height]; the size grows to hold everything.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import numpy as np

from seatmap.errors import VenueFormatError
from seatmap.formats._geometry import padded_hull
from seatmap.formats._pretix_areas import area_bounds, parse_area
from seatmap.formats._source import DEFAULT_MAX_BYTES, decode_json, read_bytes
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
    req_text,
)
from seatmap.formats.palette import normalize_color, section_color
from seatmap.model import Area, Point, Venue
from seatmap.venuebuild import SeatRecord, VenueBuilder

PRETIX_SEAT_RADIUS = 10.0
# Outline padding around seat centres, in seat radii.
OUTLINE_PAD_RADII = 1.5
# Space left around the content when the plan's size has to grow.
MARGIN = 20.0

_Zone = tuple[str, str, list[tuple[str, list[SeatRecord]]]]


def read_pretix(
    path: str | os.PathLike[str], *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Venue:
    """Read and fully validate a pretix seating plan file."""
    file = os.fspath(path)
    try:
        return parse_pretix(decode_json(read_bytes(path, max_bytes), file, max_bytes), name=name)
    except VenueFormatError as exc:
        exc.file = exc.file or file
        raise


def parse_pretix(doc: object, name: str | None = None) -> Venue:
    """Validate a decoded pretix plan and build its venue; `name` overrides the plan's name."""
    root = as_object(doc, "$")
    plan_name = req_str(root, "name", "$")
    categories = _categories(as_array(field(root, "categories", "$"), "$.categories"))
    zones_raw = as_array(field(root, "zones", "$"), "$.zones")
    zones: list[_Zone] = []
    areas: list[Area] = []
    for zi, zone_raw in enumerate(zones_raw):
        path = f"$.zones[{zi}]"
        zone = as_object(zone_raw, path)
        origin = _position(field(zone, "position", path), path + ".position")
        rows = _rows(zone, path, origin, categories)
        if rows:
            zone_id = opt_str(zone, "zone_id", path, "") or opt_str(zone, "uuid", path, "")
            zone_name = opt_str(zone, "name", path, "")
            zones.append((zone_id or zone_name or f"zone-{zi + 1}", zone_name, rows))
        for ai, area in enumerate(as_array(zone.get("areas") or [], path + ".areas")):
            areas.extend(parse_area(area, f"{path}.areas[{ai}]", origin))
    if not any(seats for _, _, rows in zones for _, seats in rows):
        raise VenueFormatError("plan has no seats", path="$.zones")
    size = _size(root)
    return _build(name or plan_name or "pretix plan", size, categories, zones, areas)


def _categories(raw: list[Any]) -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    for ci, item in enumerate(raw):
        path = f"$.categories[{ci}]"
        category = as_object(item, path)
        cname = req_text(category, "name", path)
        if cname in out:
            raise VenueFormatError(f"duplicate category {cname!r}", path=path + ".name")
        color = normalize_color(opt_str(category, "color", path, ""), path + ".color", "#8c8c8c")
        out[cname] = (len(out), color)
    return out


def _rows(
    zone: dict[str, Any], path: str, origin: Point, categories: dict[str, tuple[int, str]]
) -> list[tuple[str, list[SeatRecord]]]:
    rows: list[tuple[str, list[SeatRecord]]] = []
    for ri, row_raw in enumerate(as_array(field(zone, "rows", path), path + ".rows")):
        row_path = f"{path}.rows[{ri}]"
        row = as_object(row_raw, row_path)
        label = req_text(row, "row_number", row_path, allow_int=True)
        offset = origin
        if row.get("position") is not None:
            rx, ry = _position(row["position"], row_path + ".position")
            offset = (origin[0] + rx, origin[1] + ry)
        seats = [
            _seat(seat, f"{row_path}.seats[{k}]", offset, categories)
            for k, seat in enumerate(as_array(field(row, "seats", row_path), row_path + ".seats"))
        ]
        if seats:
            rows.append((label, seats))
    return rows


def _seat(
    raw: object, path: str, offset: Point, categories: dict[str, tuple[int, str]]
) -> SeatRecord:
    seat = as_object(raw, path)
    guid = req_text(seat, "seat_guid", path)
    number = req_text(seat, "seat_number", path, allow_int=True)
    px, py = _position(field(seat, "position", path), path + ".position")
    category = req_str(seat, "category", path)
    if category not in categories:
        raise VenueFormatError(f"unknown category {category!r}", path=path + ".category")
    radius = check_length(opt_number(seat, "radius", path, PRETIX_SEAT_RADIUS), path + ".radius")
    return SeatRecord(
        external_id=guid,
        label=number,
        x=check_number(offset[0] + px, path + ".position.x"),
        y=check_number(offset[1] + py, path + ".position.y"),
        category_index=categories[category][0],
        radius=radius,
        where=path,
    )


def _position(raw: object, path: str) -> Point:
    position = as_object(raw, path)
    return (
        check_number(field(position, "x", path), path + ".x"),
        check_number(field(position, "y", path), path + ".y"),
    )


def _size(root: dict[str, Any]) -> Point:
    if root.get("size") is None:
        return (0.0, 0.0)
    size = as_object(root["size"], "$.size")
    return (req_length(size, "width", "$.size"), req_length(size, "height", "$.size"))


def _build(
    name: str,
    size: Point,
    categories: dict[str, tuple[int, str]],
    zones: list[_Zone],
    areas: list[Area],
) -> Venue:
    records = [s for _, _, rows in zones for _, seats in rows for s in seats]
    x = np.array([s.x for s in records])
    y = np.array([s.y for s in records])
    pad = np.array([s.radius for s in records]) * OUTLINE_PAD_RADII
    bounds = np.array([area_bounds(a) for a in areas] or [(0.0, 0.0, 0.0, 0.0)])
    min_x = min(float((x - pad).min()), float(bounds[:, 0].min()))
    min_y = min(float((y - pad).min()), float(bounds[:, 1].min()))
    dx = MARGIN - min_x if min_x < 0 else 0.0
    dy = MARGIN - min_y if min_y < 0 else 0.0
    max_x = max(float((x + pad).max()), float(bounds[:, 2].max())) + dx
    max_y = max(float((y + pad).max()), float(bounds[:, 3].max())) + dy
    width = max(size[0], max_x + MARGIN if max_x > size[0] else 0.0)
    height = max(size[1], max_y + MARGIN if max_y > size[1] else 0.0)
    builder = VenueBuilder(name, width, height)
    for cname, (_, color) in categories.items():
        builder.add_category(cname, cname, color, 0)
    used_ids: set[str] = set()
    for zi, (zone_id, zone_name, rows) in enumerate(zones):
        section_id = _unique(zone_id, used_ids)
        zone_seats = [s for _, seats in rows for s in seats]
        for s in zone_seats:
            s.x += dx
            s.y += dy
        outline = padded_hull(
            np.array([s.x for s in zone_seats]),
            np.array([s.y for s in zone_seats]),
            max(s.radius for s in zone_seats) * OUTLINE_PAD_RADII,
        )
        section = builder.add_section(
            section_id, zone_name or section_id, section_color(zi), outline
        )
        for label, seats in rows:
            builder.add_row(section, label, seats)
    for area in areas:
        moved = tuple((px + dx, py + dy) for px, py in area.points)
        if area.kind in ("circle", "ellipse"):
            moved = (moved[0], area.points[1])  # the second point is a radius pair
        builder.add_area(replace(area, points=moved))
    return builder.build()


def _unique(wanted: str, used: set[str]) -> str:
    candidate, n = wanted, 1
    while candidate in used:
        n += 1
        candidate = f"{wanted}#{n}"
    used.add(candidate)
    return candidate
