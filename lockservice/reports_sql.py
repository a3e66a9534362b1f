"""The reports' PostgreSQL queries: sales per group with totals, and a cursor over sold seats.

A sale's price is its seat's category price (`categories.price_cents`, bigint
cents), the same number a confirm adds up into the order's total. Sums are
PostgreSQL's own: `sum(bigint)` is `numeric`, which asyncpg reads as a Decimal,
and it is turned into an int only when it is integral, so no float ever rounds.
The group rows and the totals come from one `GROUP BY ROLLUP` statement, one
snapshot, so the totals are exactly what PostgreSQL sums. The sold-seat listing
is read through a server-side cursor in batches inside a read-only REPEATABLE
READ transaction: it never holds more than one batch, and every batch sees the
same snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from decimal import Decimal
from typing import Any

import asyncpg

from lockservice.pgcalls import PG_CALL_TIMEOUT_S, bounded
from lockservice.reports_groups import Grouping
from seatmap.context import ServiceContext

# Joins one event's sales to its venue's seats (s), rows (r), sections (sec), categories (c).
_SALES_OF_EVENT = """
    FROM sales x
    JOIN events e ON e.id = x.event_id
    JOIN seats s ON s.venue_id = e.venue_id AND s.seat_index = x.seat_index
    JOIN categories c ON c.venue_id = s.venue_id AND c.category_index = s.category_index
"""

SOLD_SEATS_SQL = f"""
    SELECT x.order_id, o.buyer_id, x.seat_index, s.external_id AS seat_id,
           sec.name AS section, r.label AS row, s.label AS seat,
           c.name AS category, c.price_cents, x.sold_at
    {_SALES_OF_EVENT}
    JOIN seat_rows r ON r.venue_id = s.venue_id AND r.row_index = s.row_index
    JOIN sections sec ON sec.venue_id = s.venue_id AND sec.section_index = s.section_index
    JOIN orders o ON o.id = x.order_id
    WHERE x.event_id = $1
    ORDER BY x.order_id, x.seat_index
"""

# Rows of sold seats fetched (and written out) at a time.
SOLD_SEATS_BATCH = 1000


def sales_by_group_sql(grouping: Grouping) -> str:
    """Seats sold and revenue per group key, plus the ROLLUP totals row (`total` true)."""
    key = grouping.sql_key  # one of the fixed expressions of `reports_groups`, never input
    return f"""
        SELECT {key} AS key, GROUPING({key}) = 1 AS total,
               count(*) AS seats_sold, coalesce(sum(c.price_cents), 0) AS revenue_cents
        {_SALES_OF_EVENT}
        WHERE x.event_id = $1
        GROUP BY ROLLUP ({key})
    """


def exact_int(value: Decimal | int) -> int:
    """A PostgreSQL sum as an int; a sum of whole cents that is not whole is a fault."""
    whole = int(value)
    if whole != value:
        raise ValueError(f"a sum of whole cents came back as {value}")
    return whole


async def sales_by_group(
    ctx: ServiceContext, event_id: int, grouping: Grouping
) -> tuple[dict[int, tuple[int, int]], tuple[int, int]]:
    """Per group key: (seats sold, revenue cents); and the same for the whole event."""
    sql = sales_by_group_sql(grouping)

    async def run() -> list[Any]:
        async with ctx.pool.acquire() as conn:
            return list(await conn.fetch(sql, event_id))

    rows = await bounded(run, retry=True)
    groups: dict[int, tuple[int, int]] = {}
    totals = (0, 0)
    for row in rows:
        counted = (int(row["seats_sold"]), exact_int(row["revenue_cents"]))
        if row["total"]:
            totals = counted
        else:
            groups[int(row["key"])] = counted
    return groups, totals


async def sold_seat_batches(
    conn: asyncpg.Connection, event_id: int, batch: int = SOLD_SEATS_BATCH
) -> AsyncGenerator[list[asyncpg.Record], None]:
    """The event's sold seats in batches of `batch` rows, read through a cursor.

    Runs its own read-only transaction on `conn`; every fetch is bounded in time.
    """
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async with asyncio.timeout(PG_CALL_TIMEOUT_S):
            cursor = await conn.cursor(SOLD_SEATS_SQL, event_id)
        while True:
            async with asyncio.timeout(PG_CALL_TIMEOUT_S):
                rows = await cursor.fetch(batch)
            if not rows:
                return
            yield rows
