"""Assemble a `Venue` from plain seat records, deriving indices and row adjacency.

Every importer and the generator go through `VenueBuilder`, so seat indices,
adjacency and validation are defined in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seatmap.errors import VenueFormatError
from seatmap.model import (
    NO_NEIGHBOUR,
    Area,
    Category,
    Point,
    Row,
    SeatTable,
    SeatType,
    Section,
    Venue,
)

# Two neighbours in a row further apart than this many times the row's median
# spacing are separated by an aisle or gap, even when the file does not say so.
GAP_SPACING_FACTOR = 1.8


@dataclass(slots=True)
class SeatRecord:
    """One seat as an importer reads it, before it gets an index."""

    external_id: str
    label: str
    x: float
    y: float
    category_index: int
    radius: float = 5.0
    accessible: bool = False
    seat_type: SeatType = SeatType.STANDARD
    gap_before: bool = False
    where: str = ""
    source_id: str | None = None  # the id in the source file; None: the external id


class VenueBuilder:
    """Collects categories, sections, rows and seats, then builds a frozen `Venue`."""

    def __init__(self, name: str, width: float, height: float) -> None:
        self.name = name
        self.width = width
        self.height = height
        self.focal_point: Point | None = None
        self._categories: list[Category] = []
        self._sections: list[Section] = []
        self._areas: list[Area] = []
        self._rows: list[tuple[int, str, list[SeatRecord]]] = []

    def add_category(self, external_id: str, name: str, color: str, price_cents: int) -> int:
        """Add a price category and return its index."""
        index = len(self._categories)
        self._categories.append(Category(index, external_id, name, color, price_cents))
        return index

    def add_section(
        self, external_id: str, name: str, color: str, outline: tuple[Point, ...]
    ) -> int:
        """Add a section and return its index."""
        index = len(self._sections)
        self._sections.append(Section(index, external_id, name, color, outline))
        return index

    def replace_section_outline(self, section_index: int, outline: tuple[Point, ...]) -> None:
        """Set a section's outline after its seats are known (derived outlines)."""
        old = self._sections[section_index]
        self._sections[section_index] = Section(
            old.index, old.external_id, old.name, old.color, outline
        )

    def add_area(self, area: Area) -> None:
        """Add a free area drawn beneath the seats."""
        self._areas.append(area)

    def add_row(self, section_index: int, label: str, seats: list[SeatRecord]) -> int:
        """Add a row whose seats are given in order along the row; return its index."""
        self._rows.append((section_index, label, seats))
        return len(self._rows) - 1

    @property
    def section_count(self) -> int:
        """Number of sections added so far."""
        return len(self._sections)

    def seats_of_section(self, section_index: int) -> list[SeatRecord]:
        """All seats added so far to one section."""
        return [s for sec, _, seats in self._rows if sec == section_index for s in seats]

    def build(self, venue_id: int | None = None, content_hash: str = "") -> Venue:
        """Give every seat its index, derive adjacency, and return the frozen venue.

        Raises VenueFormatError for duplicate seat ids or an empty venue.
        """
        records: list[SeatRecord] = []
        rows: list[Row] = []
        row_sizes: list[int] = []
        row_sections: list[int] = []
        for row_index, (section_index, label, seats) in enumerate(self._rows):
            start = len(records)
            rows.append(
                Row(row_index, section_index, label, tuple(range(start, start + len(seats))))
            )
            records.extend(seats)
            row_sizes.append(len(seats))
            row_sections.append(section_index)
        sizes = np.array(row_sizes, dtype=np.int64)
        row_of = np.repeat(np.arange(len(rows), dtype=np.int32), sizes)
        section_of = np.repeat(np.array(row_sections, dtype=np.int32), sizes)
        xs = np.array([r.x for r in records], dtype=np.float64)
        ys = np.array([r.y for r in records], dtype=np.float64)
        gap_before = np.array([r.gap_before for r in records], dtype=np.bool_)
        left, right = _row_adjacency(xs, ys, row_of, gap_before)
        if not records:
            raise VenueFormatError("venue has no seats", path="$")
        seen: dict[str, str] = {}
        for record in records:
            if record.external_id in seen:
                first = seen[record.external_id]
                raise VenueFormatError(
                    f"duplicate seat id {record.external_id!r} (first at {first})",
                    path=record.where or "$",
                )
            seen[record.external_id] = record.where
        table = SeatTable(
            external_ids=tuple(r.external_id for r in records),
            labels=tuple(r.label for r in records),
            x=xs.astype(np.float32),
            y=ys.astype(np.float32),
            radius=np.array([r.radius for r in records], dtype=np.float32),
            section=section_of,
            row=row_of,
            category=np.array([r.category_index for r in records], dtype=np.int16),
            accessible=np.array([r.accessible for r in records], dtype=np.bool_),
            seat_type=np.array([int(r.seat_type) for r in records], dtype=np.uint8),
            left=left,
            right=right,
            source_ids=_source_ids(records),
        )
        focal = self.focal_point or (self.width / 2.0, self.height / 2.0)
        return Venue(
            name=self.name,
            width=float(self.width),
            height=float(self.height),
            categories=tuple(self._categories),
            sections=tuple(self._sections),
            rows=tuple(rows),
            areas=tuple(self._areas),
            seats=table,
            focal_point=(float(focal[0]), float(focal[1])),
            id=venue_id,
            _hash=content_hash,
        )


def _source_ids(records: list[SeatRecord]) -> tuple[str, ...]:
    """Every seat's source id, or () when each is its external id."""
    if all(r.source_id is None or r.source_id == r.external_id for r in records):
        return ()
    return tuple(r.external_id if r.source_id is None else r.source_id for r in records)


def _row_adjacency(
    xs: npt.NDArray[np.float64],
    ys: npt.NDArray[np.float64],
    row_of: npt.NDArray[np.int32],
    gap_before: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Left and right neighbour of every seat; seats are grouped by row, in row order.

    Seat i is adjacent to seat i-1 when both are in one row, the file marks no
    gap before i, and their spacing is at most GAP_SPACING_FACTOR times the
    row's median spacing.
    """
    count = xs.size
    left = np.full(count, NO_NEIGHBOUR, dtype=np.int32)
    right = np.full(count, NO_NEIGHBOUR, dtype=np.int32)
    if count < 2:
        return left, right
    spacing = np.hypot(np.diff(xs), np.diff(ys))  # spacing[i-1] is between seats i-1 and i
    same_row = row_of[1:] == row_of[:-1]
    pair_row = row_of[1:][same_row]
    pair_spacing = spacing[same_row]
    median = np.zeros(int(row_of.max()) + 1, dtype=np.float64)
    if pair_row.size:
        order = np.lexsort((pair_spacing, pair_row))
        sorted_spacing = pair_spacing[order]
        counts = np.bincount(pair_row, minlength=median.size)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        has = counts > 0
        lo = starts[has] + (counts[has] - 1) // 2
        hi = starts[has] + counts[has] // 2
        median[has] = (sorted_spacing[lo] + sorted_spacing[hi]) / 2.0
    typical = median[row_of[1:]]
    wide = (typical > 0) & (spacing > GAP_SPACING_FACTOR * typical)
    linked = same_row & ~gap_before[1:] & ~wide
    index = np.arange(count, dtype=np.int32)
    left[1:][linked] = index[:-1][linked]
    right[:-1][linked] = index[1:][linked]
    return left, right
