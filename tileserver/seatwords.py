"""Seats described in words: the alt text of a "your seats" image.

`describe(venue, seats)` gives e.g. "Section 105, row F, seats 7-8, near the
stage, aisle on the left" — for an `<img alt>` in a confirmation e-mail and for
screen readers. Seats are grouped by section and row in row order; each group
says how far it is from the venue's focal point (named as the venue's own text
areas call it: stage, field, floor...) and whether an aisle or row end is beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from seatmap.model import NO_NEIGHBOUR, Venue

STAGE_WORDS = ("stage", "field", "pitch", "floor", "court", "rink", "ice", "arena", "ring")
NEAR_SHARE = 1 / 3  # of the farthest seat's distance from the stage
FAR_SHARE = 2 / 3


@dataclass(frozen=True, slots=True)
class SeatGroup:
    """Seats of one row, in row order."""

    section: int
    row: int
    seats: tuple[int, ...]


def groups(venue: Venue, seats: Iterable[int]) -> list[SeatGroup]:
    """The seats grouped by (section, row), rows in venue order, seats in row order."""
    by_row: dict[int, set[int]] = {}
    for seat in seats:
        by_row.setdefault(int(venue.seats.row[seat]), set()).add(seat)
    out = []
    for row_index in sorted(by_row):
        row = venue.rows[row_index]
        ordered = tuple(s for s in row.seat_indices if s in by_row[row_index])
        out.append(SeatGroup(row.section_index, row_index, ordered))
    return out


def _numbers(venue: Venue, group: SeatGroup) -> str:
    labels = [venue.seats.labels[s] for s in group.seats]
    if len(labels) == 1:
        return f"seat {labels[0]}"
    row_order = venue.rows[group.row].seat_indices
    positions = [row_order.index(s) for s in group.seats]
    if positions == list(range(positions[0], positions[0] + len(positions))):
        return f"seats {labels[0]}-{labels[-1]}"
    return f"seats {', '.join(labels[:-1])} and {labels[-1]}"


def _stage_name(venue: Venue) -> str:
    """What the venue faces, as its own labels call it ("stage", "field", "floor")."""
    for area in venue.areas:
        words = area.text.strip().lower().split()
        if len(words) == 1 and words[0] in STAGE_WORDS:
            return words[0]
    return "stage"


def _distance(venue: Venue, group: SeatGroup) -> str:
    name = _stage_name(venue)
    fx, fy = float(venue.focal_point[0]), float(venue.focal_point[1])
    seats = venue.seats
    farthest = float(np.hypot(seats.x - fx, seats.y - fy).max()) or 1.0
    idx = list(group.seats)
    here = math.hypot(float(seats.x[idx].mean()) - fx, float(seats.y[idx].mean()) - fy)
    share = here / farthest
    if share <= NEAR_SHARE:
        return f"near the {name}"
    if share <= FAR_SHARE:
        return f"midway from the {name}"
    return f"far from the {name}"


def _aisles(venue: Venue, group: SeatGroup) -> str | None:
    left = int(venue.seats.left[group.seats[0]]) == NO_NEIGHBOUR
    right = int(venue.seats.right[group.seats[-1]]) == NO_NEIGHBOUR
    if left and right:
        return "aisles on both sides"
    if left:
        return "aisle on the left"
    if right:
        return "aisle on the right"
    return None


def describe_group(venue: Venue, group: SeatGroup) -> str:
    """One row's seats in words."""
    parts = [
        f"Section {venue.sections[group.section].name}",
        f"row {venue.rows[group.row].label}",
        _numbers(venue, group),
        _distance(venue, group),
    ]
    aisle = _aisles(venue, group)
    if aisle is not None:
        parts.append(aisle)
    return ", ".join(parts)


def describe(venue: Venue, seats: Iterable[int]) -> str:
    """Every group of seats in words, groups separated by "; "."""
    return "; ".join(describe_group(venue, g) for g in groups(venue, seats))


def seat_parts(venue: Venue, seat: int) -> dict[str, str]:
    """A seat's id, full label, and section, row and seat labels."""
    return {
        "id": venue.seats.external_ids[seat],
        "label": venue.full_label(seat),
        "section": venue.sections[int(venue.seats.section[seat])].name,
        "row": venue.rows[int(venue.seats.row[seat])].label,
        "seat": venue.seats.labels[seat],
    }


def map_description(venue: Venue, seats: Iterable[int], image: str) -> dict[str, object]:
    """`map.json`: the alt text, the seats in row order, and the image's URL."""
    ordered = [s for g in groups(venue, seats) for s in g.seats]
    return {
        "alt": describe(venue, ordered),
        "seats": [seat_parts(venue, s) for s in ordered],
        "image": image,
    }
