"""Venue outline data for the interactive viewer: sections, a section's rows, where seats are.

What the raster tiles do not say: every section with its bounds (to jump to
it), the rows of a section in seat order (keyboard navigation and the list
view) and where a few seats are (the "your seats" markers over raster tiles).
All of it comes straight from the venue model and never changes with
availability, so responses are cacheable and share the venue's ETag.
"""

from __future__ import annotations

from typing import Any

from seatmap.model import Venue
from tileserver.errors import BadTileRequest, TileNotFound
from tileserver.seatsapi import seat_flags

# Most seats one places.json request may name.
MAX_PLACES = 100


def _round(value: float) -> float:
    return round(float(value), 2)


def sections_payload(venue: Venue) -> dict[str, Any]:
    """Every section: bounds and outline in venue units, seat count, price categories."""
    seats = venue.seats
    out = []
    for section in venue.sections:
        xs = [p[0] for p in section.outline]
        ys = [p[1] for p in section.outline]
        inside = seats.section == section.index
        if inside.any():
            r = float(seats.radius[inside].max())
            xs += [float(seats.x[inside].min()) - r, float(seats.x[inside].max()) + r]
            ys += [float(seats.y[inside].min()) - r, float(seats.y[inside].max()) + r]
        bounds = [_round(min(xs)), _round(min(ys)), _round(max(xs)), _round(max(ys))] if xs else []
        out.append(
            {
                "index": section.index,
                "name": section.name,
                "bounds": bounds,
                # Its polygon [[x, y], ...]: the viewer fills it (overview coloured by price).
                "outline": [[_round(x), _round(y)] for x, y in section.outline],
                "seat_count": int(inside.sum()),
                # Price categories of its seats: the viewer labels the section with their range.
                "categories": sorted({int(c) for c in seats.category[inside]}),
            }
        )
    return {"width": venue.width, "height": venue.height, "sections": out}


def section_rows_payload(venue: Venue, section_index: int) -> dict[str, Any]:
    """A section's rows in order, each seat as [index, label, x, y, radius, category, flags].

    Flags are those of seats.bin (bit 0 accessible, 1 wheelchair, 2 companion).
    Rows come in the order the venue lists them; seats in row order.
    """
    if not 0 <= section_index < len(venue.sections):
        raise TileNotFound(f"section {section_index} does not exist", section=section_index)
    seats = venue.seats
    flags = seat_flags(venue)
    rows = [
        {
            "label": row.label,
            "seats": [
                [
                    i,
                    seats.labels[i],
                    _round(seats.x[i]),
                    _round(seats.y[i]),
                    _round(seats.radius[i]),
                    int(seats.category[i]),
                    int(flags[i]),
                ]
                for i in row.seat_indices
            ],
        }
        for row in venue.rows
        if row.section_index == section_index
    ]
    section = venue.sections[section_index]
    return {"index": section_index, "name": section.name, "rows": rows}


def parse_seat_list(raw: str, seat_count: int) -> list[int]:
    """Seat indices from "1,2,3"; BadTileRequest for anything else or more than MAX_PLACES."""
    parts = [p for p in raw.split(",") if p]
    if (
        not parts
        or len(parts) > MAX_PLACES
        or not all(p.isascii() and p.isdigit() and len(p) < 10 for p in parts)
    ):
        raise BadTileRequest(
            f"seats must be 1..{MAX_PLACES} comma-separated seat indices", field="seats"
        )
    indices = [int(p) for p in parts]
    if any(i >= seat_count for i in indices):
        raise TileNotFound("no such seat", field="seats")
    return indices


def places_payload(venue: Venue, seat_indices: list[int]) -> list[list[float]]:
    """Where seats are: [index, x, y, radius] each (the "your seats" markers of lite mode)."""
    seats = venue.seats
    return [
        [i, _round(seats.x[i]), _round(seats.y[i]), _round(seats.radius[i])] for i in seat_indices
    ]
