"""Reader for pretix seating plans (zones > rows > seats, categories, areas).

Accepts every plan that pretix's published `seating-plan.schema.json` accepts,
and reads it the way pretix does: a seat's position is relative to its row, a
row's to its zone; areas are relative to their zone; every seat in the file is
a seat, even when its `seat_guid` repeats one used before (pretix's own demo
plan reuses the ground floor's guids on its balcony). Only a wrong JSON type
or a missing required field is an error, named by its JSON path; fields the
plan does not need are ignored. Mapping to the venue model:

- each zone with seats becomes a section; pretix zones have no outline, so it
  is the convex hull of the zone's seats padded by 1.5 seat radii;
- labels are the identifying `row_number` and `seat_number` (pretix's
  `row_label`/`seat_label` are display templates such as "Row %s");
- a seat's id is its `seat_guid` when that is unique in the plan; repeated
  (or empty) guids get an id scoped by their section, "SECTION/GUID", and the
  guid itself is kept as the seat's source id;
- categories keep their name as id and get price 0 (pretix keeps prices on
  products, not in the plan); a category a seat names but the plan does not
  list is added, grey, as pretix also sells such a seat; a repeated category
  name keeps its first colour;
- seats without a positive radius get pretix's default 10;
- colours are CSS colour strings (see `palette`); areas are read in `_pretix_areas`.

If anything lies left of or above the origin, the whole plan is shifted so the
venue spans [0, width] x [0, height]; the size grows to hold everything. A plan
with no seat at all is refused: there would be nothing to sell.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from seatmap.errors import VenueFormatError
from seatmap.formats._geometry import padded_hull
from seatmap.formats._pretix_areas import area_bounds, parse_area
from seatmap.formats._source import DEFAULT_MAX_BYTES, decode_json, read_bytes
from seatmap.formats.jsonpath import (
    MAX_ABS_COORD,
    as_array,
    as_object,
    check_number,
    opt_number,
    opt_str,
    req_str,
)
from seatmap.formats.jsonpath import field as required
from seatmap.formats.palette import normalize_color, section_color
from seatmap.model import Area, Point, Venue
from seatmap.venuebuild import SeatRecord, VenueBuilder

PRETIX_SEAT_RADIUS = 10.0
DEFAULT_CATEGORY_COLOR = "#8c8c8c"
# Outline padding around seat centres, in seat radii.
OUTLINE_PAD_RADII = 1.5
# Space left around the content when the plan's size has to grow.
MARGIN = 20.0
# Separates a section id from a repeated seat guid in a derived seat id.
SCOPE_SEPARATOR = "/"


@dataclass
class _Zone:
    section_id: str
    name: str
    rows: list[tuple[str, list[SeatRecord]]] = field(default_factory=list)


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
    categories = _categories(as_array(required(root, "categories", "$"), "$.categories"))
    zones: list[_Zone] = []
    areas: list[Area] = []
    section_ids: set[str] = set()
    for zi, zone_raw in enumerate(as_array(required(root, "zones", "$"), "$.zones")):
        path = f"$.zones[{zi}]"
        zone = as_object(zone_raw, path)
        origin = _position(required(zone, "position", path), path + ".position")
        rows = _rows(zone, path, origin, categories)
        zone_name = opt_str(zone, "name", path, "")
        if rows:
            wanted = opt_str(zone, "zone_id", path, "") or opt_str(zone, "uuid", path, "")
            section_id = _unique(wanted or zone_name or f"zone-{zi + 1}", section_ids)
            zones.append(_Zone(section_id, zone_name or section_id, rows))
        for ai, area in enumerate(as_array(zone.get("areas") or [], path + ".areas")):
            areas.extend(parse_area(area, f"{path}.areas[{ai}]", origin))
    if not zones:
        raise VenueFormatError("plan has no seats", path="$.zones")
    _assign_seat_ids(zones)
    return _build(name or plan_name or "pretix plan", _size(root), categories, zones, areas)


class _Categories(dict[str, tuple[int, str]]):
    """Category name -> (index, colour), growing when a seat names an unlisted one."""

    def index_of(self, category: str) -> int:
        if category not in self:
            self[category] = (len(self), DEFAULT_CATEGORY_COLOR)
        return self[category][0]


def _categories(raw: list[Any]) -> _Categories:
    out = _Categories()
    for ci, item in enumerate(raw):
        path = f"$.categories[{ci}]"
        category = as_object(item, path)
        cname = req_str(category, "name", path)
        color = normalize_color(
            opt_str(category, "color", path, ""), path + ".color", DEFAULT_CATEGORY_COLOR
        )
        out.setdefault(cname, (len(out), color))
    return out


def _rows(
    zone: dict[str, Any], path: str, origin: Point, categories: _Categories
) -> list[tuple[str, list[SeatRecord]]]:
    rows: list[tuple[str, list[SeatRecord]]] = []
    for ri, row_raw in enumerate(as_array(required(zone, "rows", path), path + ".rows")):
        row_path = f"{path}.rows[{ri}]"
        row = as_object(row_raw, row_path)
        label = req_str(row, "row_number", row_path, allow_int=True)
        offset = origin
        if row.get("position") is not None:
            rx, ry = _position(row["position"], row_path + ".position")
            offset = (origin[0] + rx, origin[1] + ry)
        raw_seats = as_array(required(row, "seats", row_path), row_path + ".seats")
        seats = [
            _seat(seat, f"{row_path}.seats[{k}]", offset, categories)
            for k, seat in enumerate(raw_seats)
        ]
        if seats:
            rows.append((label, seats))
    return rows


def _seat(raw: object, path: str, offset: Point, categories: _Categories) -> SeatRecord:
    plain = _plain_seat(raw, path, offset, categories)
    if plain is not None:
        return plain
    seat = as_object(raw, path)
    guid = req_str(seat, "seat_guid", path, allow_int=True)
    number = req_str(seat, "seat_number", path, allow_int=True)
    px, py = _position(required(seat, "position", path), path + ".position")
    category = req_str(seat, "category", path)
    radius = opt_number(seat, "radius", path, PRETIX_SEAT_RADIUS)
    return SeatRecord(
        external_id=guid,
        label=number,
        x=check_number(offset[0] + px, path + ".position.x"),
        y=check_number(offset[1] + py, path + ".position.y"),
        category_index=categories.index_of(category),
        radius=radius if radius > 0 else PRETIX_SEAT_RADIUS,
        where=path,
        source_id=guid,
    )


def _plain_seat(
    raw: object, path: str, offset: Point, categories: _Categories
) -> SeatRecord | None:
    """The seat, when its fields have their plain types and sane numbers; else None.

    Most seats are plain, and this skips building a JSON path per field. It
    never accepts what the field-by-field checks in `_seat` refuse (NaN and
    infinities fail the range comparisons), so those name every problem.
    """
    if type(raw) is not dict:
        return None
    guid, number, category = raw.get("seat_guid"), raw.get("seat_number"), raw.get("category")
    if type(guid) is not str or type(number) is not str or type(category) is not str:
        return None
    position = raw.get("position")
    if type(position) is not dict:
        return None
    px, py = _plain_number(position.get("x")), _plain_number(position.get("y"))
    radius = _plain_number(raw.get("radius", PRETIX_SEAT_RADIUS))
    if px is None or py is None or radius is None:
        return None
    x, y = offset[0] + px, offset[1] + py
    if not all(-MAX_ABS_COORD <= v <= MAX_ABS_COORD for v in (px, py, x, y, radius)):
        return None
    return SeatRecord(
        external_id=guid,
        label=number,
        x=x,
        y=y,
        category_index=categories.index_of(category),
        radius=radius if radius > 0 else PRETIX_SEAT_RADIUS,
        where=path,
        source_id=guid,
    )


def _plain_number(value: object) -> float | None:
    """A JSON number (not a boolean) as a float, else None."""
    return float(value) if type(value) is int or type(value) is float else None


def _assign_seat_ids(zones: list[_Zone]) -> None:
    """Unique seat ids: the guid where it is unique and not empty, else scoped by section."""
    records = [(zone, label, s) for zone in zones for label, seats in zone.rows for s in seats]
    counts = Counter(s.external_id for _, _, s in records)
    used = {guid for guid, n in counts.items() if n == 1 and guid}
    for zone, row_label, seat in records:
        guid = seat.external_id
        if counts[guid] == 1 and guid:
            continue
        local = guid or f"{row_label}-{seat.label}"
        seat.external_id = _unique(f"{zone.section_id}{SCOPE_SEPARATOR}{local}", used)


def _position(raw: object, path: str) -> Point:
    position = as_object(raw, path)
    return (
        check_number(required(position, "x", path), path + ".x"),
        check_number(required(position, "y", path), path + ".y"),
    )


def _size(root: dict[str, Any]) -> Point:
    """The plan's declared size; absent, zero or negative sizes count as 0 (grow to fit)."""
    if root.get("size") is None:
        return (0.0, 0.0)
    size = as_object(root["size"], "$.size")
    width = check_number(required(size, "width", "$.size"), "$.size.width")
    height = check_number(required(size, "height", "$.size"), "$.size.height")
    return (max(width, 0.0), max(height, 0.0))


def _build(
    name: str, size: Point, categories: _Categories, zones: list[_Zone], areas: list[Area]
) -> Venue:
    records = [s for zone in zones for _, seats in zone.rows for s in seats]
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
    for zi, zone in enumerate(zones):
        zone_seats = [s for _, seats in zone.rows for s in seats]
        for s in zone_seats:
            s.x += dx
            s.y += dy
        outline = padded_hull(
            np.array([s.x for s in zone_seats]),
            np.array([s.y for s in zone_seats]),
            max(s.radius for s in zone_seats) * OUTLINE_PAD_RADII,
        )
        section = builder.add_section(zone.section_id, zone.name, section_color(zi), outline)
        for label, seats in zone.rows:
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
