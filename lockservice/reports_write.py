"""Reports as CSV or JSON bytes; the sold-seat listing as a stream of chunks.

CSV follows RFC 4180 (the csv module's default dialect: quoted where needed,
CRLF line ends), UTF-8, with a header row. A grouped report ends with its
totals row (empty key columns, TOTAL in the name column). The sold-seat listing
is written one cursor batch at a time, so a 100,000-seat event is never held in
memory at once: each chunk is one batch of rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from lockservice.reports_build import Report
from lockservice.reports_groups import money
from lockservice.reports_models import ReportFormat
from lockservice.reports_sql import SOLD_SEATS_BATCH, sold_seat_batches
from seatmap.context import EventView, ServiceContext

SOLD_SEAT_COLUMNS = (
    "order_id", "buyer_id", "seat_index", "seat_id", "label", "section", "row", "seat",
    "category", "price_cents", "price", "sold_at",
)
_encoder = msgspec.json.Encoder()


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as CSV text in UTF-8 (None is an empty field)."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def report_csv(report: Report) -> bytes:
    """A grouped report as CSV: header, one row per group, then the totals row."""
    columns = report.columns
    totals = {**report.total_keys, **report.totals}
    rows = [columns, *([row[c] for c in columns] for row in report.groups),
            [totals[c] for c in columns]]
    return csv_bytes(rows)


def report_json(report: Report) -> bytes:
    """A grouped report as JSON: `{"event_id", "by", "groups": [...], "totals": {...}}`."""
    return _encoder.encode(report.json())


def iso_time(moment: datetime) -> str:
    """A PostgreSQL timestamptz as ISO 8601 UTC with milliseconds."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _sold_seat_values(rows: list[asyncpg.Record], prices: dict[int, str]) -> list[list[Any]]:
    """Cursor rows as SOLD_SEAT_COLUMNS values."""
    out = []
    for r in rows:
        cents = r["price_cents"]
        price = prices.get(cents) or prices.setdefault(cents, money(cents))
        section, row, seat = r["section"], r["row"], r["seat"]
        out.append([
            r["order_id"], r["buyer_id"], r["seat_index"], r["seat_id"],
            f"{section}-{row}-{seat}", section, row, seat, r["category"], cents, price,
            iso_time(r["sold_at"]),
        ])
    return out


def _chunk(values: list[list[Any]], fmt: ReportFormat, separator: bytes) -> bytes:
    """One batch of sold seats as CSV rows, or as JSON objects continuing an array."""
    if fmt == "csv":
        return csv_bytes(values)
    objects = [dict(zip(SOLD_SEAT_COLUMNS, v, strict=True)) for v in values]
    return separator + _encoder.encode(objects)[1:-1]


async def sold_seat_chunks(
    ctx: ServiceContext, view: EventView, fmt: ReportFormat, batch: int = SOLD_SEATS_BATCH
) -> AsyncGenerator[bytes, None]:
    """The event's sold seats as CSV or JSON, one chunk per cursor batch.

    The first chunk (the CSV header or the JSON opening) comes once the cursor is
    open, so a caller that awaits it first learns of a database fault before it
    answers. A pooled connection is held until the last chunk is taken.
    """
    prices: dict[int, str] = {}
    async with ctx.pool.acquire() as conn:
        batches = sold_seat_batches(conn, view.event.id, batch)
        try:
            rows = await anext(batches, None)
            if fmt == "csv":
                yield csv_bytes([SOLD_SEAT_COLUMNS])
            else:
                yield b'{"event_id":%d,"seats":[' % view.event.id
            separator = b""
            while rows is not None:
                chunk = _chunk(_sold_seat_values(rows, prices), fmt, separator)
                separator = b","
                rows = None  # let each batch go before the next one is fetched
                yield chunk
                del chunk
                rows = await anext(batches, None)
            if fmt == "json":
                yield b"]}"
        finally:
            await batches.aclose()
