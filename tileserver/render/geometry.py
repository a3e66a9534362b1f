"""Venue-unit geometry the drawings share: boxes, seats in a box, label positions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seatmap.model import Area, Venue

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in venue units


def intersects(a: Box, b: Box) -> bool:
    """True when two boxes overlap."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@dataclass(frozen=True, slots=True)
class RowLabel:
    """A row letter drawn just outside one end of its row."""

    x: float
    y: float
    text: str
    row: int = -1  # the row's index in the venue


def seats_in_box(venue: Venue, box: Box) -> npt.NDArray[np.int64]:
    """Indices of the seats whose disc meets a venue-unit box."""
    s = venue.seats
    r = s.radius
    keep = (s.x + r >= box[0]) & (s.x - r <= box[2]) & (s.y + r >= box[1]) & (s.y - r <= box[3])
    return np.flatnonzero(keep).astype(np.int64)


def area_box(area: Area) -> Box:
    pts = area.points
    if area.kind in ("circle", "ellipse") and len(pts) >= 2:
        (cx, cy), (rx, ry) = pts[0], pts[1]
        rr = max(rx, ry)
        return (cx - rr, cy - rr, cx + rr, cy + rr)
    if not pts:
        return (0.0, 0.0, 0.0, 0.0)
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return (min(xs), min(ys), max(xs), max(ys))


def label_point(
    outline: Sequence[tuple[float, float]], venue: Venue, section_index: int
) -> tuple[float, float]:
    """Where a section's name goes: the mean of its seats, else its outline's centroid."""
    seats = venue.seats
    mine = seats.section == section_index
    if mine.any():
        return float(seats.x[mine].mean()), float(seats.y[mine].mean())
    if not outline:
        return (0.0, 0.0)
    return (sum(p[0] for p in outline) / len(outline), sum(p[1] for p in outline) / len(outline))


def row_labels(venue: Venue, radius: float) -> list[RowLabel]:
    """Row letters placed one seat width beyond each end of every row."""
    seats = venue.seats
    out: list[RowLabel] = []
    gap = 2.6 * radius
    for row in venue.rows:
        ids = row.seat_indices
        if not ids:
            continue
        if len(ids) > 1:
            ends: list[tuple[int, int | None]] = [(ids[0], ids[1]), (ids[-1], ids[-2])]
        else:
            ends = [(ids[0], None)]
        for end, inner in ends:
            ex, ey = float(seats.x[end]), float(seats.y[end])
            if inner is None:
                dx, dy = -1.0, 0.0
            else:
                dx, dy = ex - float(seats.x[inner]), ey - float(seats.y[inner])
                norm = math.hypot(dx, dy) or 1.0
                dx, dy = dx / norm, dy / norm
            out.append(RowLabel(ex + dx * gap, ey + dy * gap, row.label, row.index))
    return out
