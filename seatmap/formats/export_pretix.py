"""Write a venue as a pretix seating plan, so it can go (back) into pretix.

The plan follows pretix's `seating-plan.schema.json` (every field it writes is
one the schema knows, with the type it requires):

- one zone per section (`name`, `zone_id` = the section id) at the origin,
  so seat positions are absolute; rows keep their labels as `row_number`;
- `seat_guid` is the seat's source id: a seat read from a pretix plan gets
  its original guid back, even where the plan repeated it;
- categories by name (their id) with their colour; seats name theirs;
- areas go into one more zone without rows; radii and rectangle sizes are
  whole numbers in pretix, so they are rounded;
- `size` is the venue size rounded up.

What pretix plans cannot hold is left out: prices, seat types, accessibility
and row gaps; areas without paint are written with the colour "transparent".
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from seatmap.formats.native import short_floats
from seatmap.model import Area, Venue

AREAS_ZONE_ID = "areas"


def pretix_document(venue: Venue) -> dict[str, Any]:
    """The venue as a pretix seating plan document (plain dicts and lists)."""
    seats = venue.seats
    xs, ys, radii = short_floats(seats.x), short_floats(seats.y), seats.radius.tolist()
    category_ids = [c.external_id for c in venue.categories]
    category = seats.category.tolist()
    rows_by_section: list[list[dict[str, Any]]] = [[] for _ in venue.sections]
    for row in venue.rows:
        row_seats = [
            {
                "seat_guid": seats.source_id(i),
                "seat_number": seats.labels[i],
                "position": {"x": xs[i], "y": ys[i]},
                "category": category_ids[category[i]],
                "radius": max(1, round(radii[i])),
            }
            for i in row.seat_indices
        ]
        rows_by_section[row.section_index].append({"row_number": row.label, "seats": row_seats})
    zones = [
        {
            "name": s.name,
            "zone_id": s.external_id,
            "position": {"x": 0, "y": 0},
            "rows": rows_by_section[s.index],
            "areas": [],
        }
        for s in venue.sections
    ]
    areas = [a for area in venue.areas for a in _areas(area)]
    if areas:
        zones.append(
            {"name": "", "zone_id": AREAS_ZONE_ID, "position": {"x": 0, "y": 0}, "rows": [],
             "areas": areas}
        )
    return {
        "name": venue.name,
        "categories": [{"name": c.external_id, "color": c.color} for c in venue.categories],
        "zones": zones,
        "size": {"width": math.ceil(venue.width), "height": math.ceil(venue.height)},
    }


def dumps_pretix(venue: Venue) -> bytes:
    """The venue as pretix seating plan JSON bytes."""
    return orjson.dumps(pretix_document(venue))


def _paint(color: str) -> str:
    return color or "transparent"


def _point(x: float, y: float) -> dict[str, float]:
    return {"x": x, "y": y}


def _areas(area: Area) -> list[dict[str, Any]]:
    """A venue area as pretix areas: its shape, with its text as the shape's text."""
    (x0, y0), *rest = area.points
    doc: dict[str, Any] = {
        "position": _point(x0, y0),
        "color": _paint(area.fill),
        "border_color": _paint(area.stroke),
        "rotation": area.rotation_deg,
    }
    if area.kind == "text":
        doc.update(shape="text", color="transparent")
        doc["text"] = _text(area, (0.0, 0.0))
        return [doc]
    if area.kind == "rect":
        width, height = rest[0][0] - x0, rest[0][1] - y0
        doc.update(shape="rectangle", rectangle={"width": _whole(width), "height": _whole(height)})
        centre = (width / 2, height / 2)
    elif area.kind == "circle":
        doc.update(shape="circle", circle={"radius": _whole(rest[0][0])})
        centre = (0.0, 0.0)
    elif area.kind == "ellipse":
        doc.update(shape="ellipse", ellipse={"radius": _point(*rest[0])})
        centre = (0.0, 0.0)
    else:
        doc.update(shape="polygon", polygon={"points": [_point(x - x0, y - y0)
                                                        for x, y in area.points]})
        n = len(area.points)
        centre = (sum(x for x, _ in area.points) / n - x0, sum(y for _, y in area.points) / n - y0)
    if area.text:
        doc["text"] = _text(area, centre)
    return [doc]


def _text(area: Area, offset: tuple[float, float]) -> dict[str, Any]:
    return {
        "text": area.text,
        "color": _paint(area.text_color),
        "size": _whole(area.font_size),
        "position": _point(*offset),
    }


def _whole(value: float) -> int:
    """A positive size as the whole number pretix requires (never 0)."""
    return max(1, round(value))
