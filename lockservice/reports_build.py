"""Grouped operator reports: live seat status per group (Redis) and sales per group (SQL).

Both give a `Report`: the column names, one row per group of the venue (empty
groups included) and a totals row. The status report counts the event's status
bytes, read once from Redis, with one `bincount` over the venue's seat-to-group
array; the sales report takes PostgreSQL's own per-group sums and totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lockservice.reconcile import ensure_event_state
from lockservice.reports_groups import STATUS_COLUMNS, GroupBy, grouping, money, status_table
from lockservice.reports_sql import sales_by_group
from seatmap.context import EventView, ServiceContext
from seatmap.livekeys import status_key

SALES_COLUMNS = ("seats_sold", "revenue_cents", "revenue")


@dataclass(frozen=True, slots=True)
class Report:
    """A grouped report: its columns, a row per group, and the totals (no key columns)."""

    event_id: int
    by: GroupBy
    key_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    groups: list[dict[str, Any]]
    totals: dict[str, Any]
    total_keys: dict[str, Any]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column, keys first, in the order of the CSV header and the JSON rows."""
        return (*self.key_columns, *self.value_columns)

    def json(self) -> dict[str, Any]:
        """The report as a JSON-ready object: event, grouping, group rows, totals."""
        return {"event_id": self.event_id, "by": self.by, "groups": self.groups,
                "totals": self.totals}


async def read_statuses(ctx: ServiceContext, view: EventView) -> npt.NDArray[np.uint8]:
    """The event's status byte of every seat index, as Redis has them now.

    An event without live state (new, or Redis lost it) has it built from
    PostgreSQL first, as the lock service does on any use.
    """
    key = status_key(ctx.settings.redis_prefix, view.event.id)
    raw: Any = await ctx.redis.get(key)
    if raw is None:
        await ensure_event_state(ctx, view.event.id)
        raw = await ctx.redis.get(key) or b""
    seat_count = view.venue.seat_count
    status = np.zeros(seat_count, dtype=np.uint8)
    found = np.frombuffer(raw, dtype=np.uint8)[:seat_count]
    status[: len(found)] = found
    return status


def status_report(view: EventView, by: GroupBy, status: npt.NDArray[np.uint8]) -> Report:
    """Seats per status in each group of `by`, from the event's status bytes."""
    groups = grouping(view.venue, by)
    table = status_table(status, groups.seat_group, len(groups.keys))
    columns = ("seats", *STATUS_COLUMNS)

    def values(counts: npt.NDArray[np.int64]) -> dict[str, int]:
        return {"seats": int(counts.sum()),
                **{name: int(n) for name, n in zip(STATUS_COLUMNS, counts, strict=True)}}

    rows = [{**keys, **values(table[i])} for i, keys in enumerate(groups.keys)]
    return Report(view.event.id, by, groups.columns, columns, rows, values(table.sum(axis=0)),
                  groups.total_keys())


async def sales_report(ctx: ServiceContext, view: EventView, by: GroupBy) -> Report:
    """Seats sold and revenue in each group of `by`, and PostgreSQL's totals."""
    groups = grouping(view.venue, by)
    counted, totals = await sales_by_group(ctx, view.event.id, groups)
    per_group = [(0, 0)] * len(groups.keys)
    for key, sums in counted.items():
        per_group[groups.position_of[key]] = sums

    def values(seats_sold: int, revenue_cents: int) -> dict[str, Any]:
        return {"seats_sold": seats_sold, "revenue_cents": revenue_cents,
                "revenue": money(revenue_cents)}

    rows = [{**keys, **values(*per_group[i])} for i, keys in enumerate(groups.keys)]
    return Report(view.event.id, by, groups.columns, SALES_COLUMNS, rows, values(*totals),
                  groups.total_keys())
