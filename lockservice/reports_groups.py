"""How operator reports group a venue's seats: by section, by category or by price.

A grouping names its key columns (the first columns of every CSV row), the key
values of each group in report order, the group of every seat index (a numpy
array, so counting 100,000 seats is one `bincount`), and the SQL expression
that puts a sale in a group (`s` is the `seats` row, `c` its `categories` row).
Groups with nothing in them are still listed, so the same venue always gives
the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from seatmap.model import Venue
from seatmap.status import STATUS_NAMES

GroupBy = Literal["section", "category", "price"]
GROUP_BY: tuple[GroupBy, ...] = ("section", "category", "price")
# Written in the name column of the totals row of a CSV report (whose key column is empty).
TOTAL_LABEL = "TOTAL"
# Every status byte a seat can have, in code order: the status report's count columns.
STATUS_COLUMNS: tuple[str, ...] = tuple(STATUS_NAMES[c] for c in sorted(STATUS_NAMES))


def money(cents: int) -> str:
    """Cents as an exact decimal amount with two places ("1234.50"), never through a float."""
    return f"{Decimal(cents).scaleb(-2):.2f}"


@dataclass(frozen=True, slots=True)
class Grouping:
    """One way of grouping a venue's seats (see the module docstring)."""

    by: GroupBy
    columns: tuple[str, ...]
    keys: list[dict[str, Any]]
    seat_group: npt.NDArray[np.int64]
    sql_key: str
    position_of: dict[int, int]

    @property
    def name_column(self) -> str:
        """The column that names a group (and says TOTAL on the totals row)."""
        return self.columns[1]

    def total_keys(self) -> dict[str, Any]:
        """The key columns of the totals row: empty, with TOTAL in the name column."""
        return {c: (TOTAL_LABEL if c == self.name_column else None) for c in self.columns}


def grouping(venue: Venue, by: GroupBy) -> Grouping:
    """The groups of `venue`'s seats by section, category or price (highest price first)."""
    seats = venue.seats
    if by == "section":
        return Grouping(
            by,
            ("section_index", "section"),
            [{"section_index": s.index, "section": s.name} for s in venue.sections],
            np.asarray(seats.section, dtype=np.int64),
            "s.section_index",
            {s.index: position for position, s in enumerate(venue.sections)},
        )
    if by == "category":
        return Grouping(
            by,
            ("category_index", "category", "price_cents", "price"),
            [
                {"category_index": c.index, "category": c.name, "price_cents": c.price_cents,
                 "price": money(c.price_cents)}
                for c in venue.categories
            ],
            np.asarray(seats.category, dtype=np.int64),
            "s.category_index",
            {c.index: position for position, c in enumerate(venue.categories)},
        )
    prices = sorted({c.price_cents for c in venue.categories}, reverse=True)
    position_of = {price: position for position, price in enumerate(prices)}
    group_of_category = np.zeros(max((c.index for c in venue.categories), default=0) + 1,
                                 dtype=np.int64)
    for c in venue.categories:
        group_of_category[c.index] = position_of[c.price_cents]
    keys = [
        {"price_cents": price, "price": money(price),
         "categories": "; ".join(c.name for c in venue.categories if c.price_cents == price)}
        for price in prices
    ]
    return Grouping(
        by,
        ("price_cents", "price", "categories"),
        keys,
        group_of_category[np.asarray(seats.category, dtype=np.int64)],
        "c.price_cents",
        position_of,
    )


def status_table(
    status: npt.NDArray[np.uint8], seat_group: npt.NDArray[np.int64], groups: int
) -> npt.NDArray[np.int64]:
    """Seats per (group, status code): one row per group, one column per STATUS_COLUMNS."""
    codes = len(STATUS_COLUMNS)
    # A byte no status names (never written by the scripts) is counted as available.
    known = np.where(status < codes, status, 0).astype(np.int64)
    flat = np.bincount(seat_group * codes + known, minlength=groups * codes)
    return flat.reshape(groups, codes)
