"""The venue model shared by the tile server and the lock service.

A venue is a small set of frozen dataclasses plus one `SeatTable` of numpy
arrays. Every seat has a dense index 0..N-1; every hot path (status arrays,
label maps, Lua scripts, SSE messages) speaks in that index. External seat ids
map to it once, at the edge, through `Venue.seat_index_of`.

Coordinates are venue units: x grows right, y grows down, the venue spans
[0, width] x [0, height].
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt

Point = tuple[float, float]
AreaKind = Literal["rect", "circle", "ellipse", "polygon", "text"]

NO_NEIGHBOUR = -1


class SeatType(IntEnum):
    """What kind of place a seat is; stored as one byte per seat."""

    STANDARD = 0
    WHEELCHAIR = 1
    COMPANION = 2
    RESTRICTED_VIEW = 3


@dataclass(frozen=True, slots=True)
class Category:
    """A price category: seats of one category share a colour and a price."""

    index: int
    external_id: str
    name: str
    color: str
    price_cents: int


@dataclass(frozen=True, slots=True)
class Section:
    """A named block of seats with a polygon outline in venue units."""

    index: int
    external_id: str
    name: str
    color: str
    outline: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a section; `seat_indices` are ordered along the row."""

    index: int
    section_index: int
    label: str
    seat_indices: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Area:
    """A free shape drawn under the seats: stage, field, aisle marking or text.

    `points` holds: rect -> (top-left, bottom-right); circle -> (centre, (r, r));
    ellipse -> (centre, (rx, ry)); polygon -> its vertices; text -> (anchor,).
    """

    kind: AreaKind
    points: tuple[Point, ...]
    fill: str = "#d9d9d9"
    stroke: str = ""
    text: str = ""
    text_color: str = "#333333"
    font_size: float = 12.0
    rotation_deg: float = 0.0


@dataclass(frozen=True, eq=False)
class SeatTable:
    """Per-seat columns, all of length N and indexed by seat index.

    `left`/`right` hold the neighbouring seat index along the row, or
    NO_NEIGHBOUR at a row end, an aisle or a gap. `source_ids` keeps the id
    each seat had in its source file where that differs from its external id
    (a pretix plan may repeat a seat guid); it is empty when none differs.
    """

    external_ids: tuple[str, ...]
    labels: tuple[str, ...]
    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.float32]
    radius: npt.NDArray[np.float32]
    section: npt.NDArray[np.int32]
    row: npt.NDArray[np.int32]
    category: npt.NDArray[np.int16]
    accessible: npt.NDArray[np.bool_]
    seat_type: npt.NDArray[np.uint8]
    left: npt.NDArray[np.int32]
    right: npt.NDArray[np.int32]
    source_ids: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.external_ids)

    def source_id(self, seat_index: int) -> str:
        """The seat's id in its source file (its external id unless the file repeated it)."""
        return (self.source_ids or self.external_ids)[seat_index]


@dataclass(frozen=True, eq=False)
class Venue:
    """A whole venue: geometry, seats, rows, sections, categories and areas."""

    name: str
    width: float
    height: float
    categories: tuple[Category, ...]
    sections: tuple[Section, ...]
    rows: tuple[Row, ...]
    areas: tuple[Area, ...]
    seats: SeatTable
    focal_point: Point
    id: int | None = None
    _hash: str = field(default="", repr=False)

    @property
    def seat_count(self) -> int:
        """Number of seats, N; seat indices run 0..N-1."""
        return len(self.seats)

    @cached_property
    def content_hash(self) -> str:
        """A hex digest that changes whenever anything drawn or ruled on changes."""
        if self._hash:
            return self._hash
        return compute_content_hash(self)

    @cached_property
    def _index_by_external_id(self) -> dict[str, int]:
        return {sid: i for i, sid in enumerate(self.seats.external_ids)}

    @cached_property
    def _index_by_label(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(self.seat_count):
            out[self.full_label(i)] = i
        return out

    def seat_index_of(self, key: str) -> int | None:
        """Map an external seat id or a full label like "112-F-7" to its index."""
        found = self._index_by_external_id.get(key)
        if found is None:
            found = self._index_by_label.get(key)
        return found

    def full_label(self, seat_index: int) -> str:
        """The human label "SECTION-ROW-SEAT" of a seat."""
        seats = self.seats
        section = self.sections[int(seats.section[seat_index])].name
        row = self.rows[int(seats.row[seat_index])].label
        return f"{section}-{row}-{seats.labels[seat_index]}"

    @cached_property
    def section_seat_counts(self) -> npt.NDArray[np.int64]:
        """Number of seats in each section, indexed by section index."""
        return np.bincount(self.seats.section, minlength=len(self.sections)).astype(np.int64)


def compute_content_hash(venue: Venue) -> str:
    """Hash every field of a venue that affects drawing or rules, in a fixed order."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((venue.name, venue.width, venue.height, venue.focal_point)).encode())
    digest.update(repr(venue.categories).encode())
    digest.update(repr(venue.sections).encode())
    digest.update(repr([(r.section_index, r.label, r.seat_indices) for r in venue.rows]).encode())
    digest.update(repr(venue.areas).encode())
    seats = venue.seats
    digest.update("\x1f".join(seats.external_ids).encode())
    digest.update("\x1f".join(seats.labels).encode())
    digest.update("\x1f".join(seats.source_ids).encode())
    for column in (
        seats.x,
        seats.y,
        seats.radius,
        seats.section,
        seats.row,
        seats.category,
        seats.accessible,
        seats.seat_type,
        seats.left,
        seats.right,
    ):
        digest.update(np.ascontiguousarray(column).tobytes())
    return digest.hexdigest()
