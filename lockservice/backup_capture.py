"""Take a consistent backup of one event while it is on sale.

Two reads, in this order, make the backup:

1. Redis, in one atomic script (`backup_scripts.CAPTURE`): the fencing
   counter, the epoch, Redis's clock and every open hold.
2. PostgreSQL, in one REPEATABLE READ, READ ONLY transaction: the event, its
   venue, orders with their sales, and blocked seats.

The order matters. A sale commits in PostgreSQL before Redis marks it sold, and
a block commits in PostgreSQL before Redis shows it; so every seat Redis shows
sold or blocked at the first read is already in the snapshot of the second, and
no sale can be missed. What changed in between is settled the way the
reconciler settles it, with PostgreSQL winning: a hold whose seat was sold
meanwhile (it was being confirmed) is left out, its sale is in; a block that
PostgreSQL has for a seat held or sold is one being refused and is left out;
sold and blocked seats come from PostgreSQL only (a seat Redis shows blocked
that PostgreSQL does not know goes back on sale, as the reconciler would put
it). The statuses are then made from these parts by `backup_check.seat_statuses`,
so the result satisfies `backup_check.check_payload`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from lockservice.backup_check import check_payload, seat_statuses
from lockservice.backup_format import (
    BlockedRecord,
    EventRecord,
    HoldRecord,
    LiveRecord,
    OrderRecord,
    Payload,
    SaleRecord,
    VenueRecord,
)
from lockservice.backup_scripts import CAPTURE_SCRIPT
from lockservice.holdrecord import text
from lockservice.keys import event_keys
from seatmap.context import ServiceContext
from seatmap.errors import NotFound, ServiceUnavailable
from seatmap.formats import native_document
from seatmap.venuestore import load_venue

# Rounds of CAPTURE before giving up on an event whose holds change faster than it reads.
CAPTURE_ROUNDS = 50
OPEN_STATES = ("held", "confirming")


async def capture_event(ctx: ServiceContext, event_id: int, with_venue: bool = True) -> Payload:
    """A backup of the event taken while it may be on sale (see the module docstring).

    Raises NotFound for an unknown event. The venue document is left out when
    `with_venue` is false; its content hash is always kept.
    """
    async with ctx.pool.acquire() as conn:
        if await conn.fetchval("SELECT 1 FROM events WHERE id = $1", event_id) is None:
            raise NotFound(f"event {event_id} does not exist", event_id=event_id)
    live, holds = await _read_live(ctx, event_id)
    async with (
        ctx.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        event_row, venue, venue_row = await _read_event(conn, event_id)
        orders = await _read_orders(conn, event_id)
        blocked_rows = await conn.fetch(
            "SELECT seat_index, blocked_at FROM blocked_seats WHERE event_id = $1 "
            "ORDER BY seat_index",
            event_id,
        )
    sold = {s.seat_index for o in orders for s in o.sales}
    holds = [h for h in holds if not sold.intersection(h.seats)]
    held = {s for h in holds for s in h.seats}
    blocked = [
        BlockedRecord(r["seat_index"], r["blocked_at"])
        for r in blocked_rows
        if r["seat_index"] not in sold and r["seat_index"] not in held
    ]
    status = seat_statuses(venue.seat_count, orders, blocked, holds)
    payload = Payload(
        captured_at=datetime.fromtimestamp(live.redis_time_ms / 1000, UTC),
        event=EventRecord(
            id=event_row["id"],
            title=event_row["title"],
            starts_at=event_row["starts_at"],
            created_at=event_row["created_at"],
            settings=event_row["settings"],
        ),
        venue=VenueRecord(
            id=venue_row["id"],
            name=venue_row["name"],
            content_hash=venue_row["content_hash"],
            source_format=venue_row["source_format"],
            seat_count=venue.seat_count,
            document=native_document(venue) if with_venue else None,
        ),
        live=live,
        status=status.tobytes(),
        blocked=blocked,
        orders=orders,
        holds=holds,
    )
    check_payload(payload)
    return payload


async def _read_live(ctx: ServiceContext, event_id: int) -> tuple[LiveRecord, list[HoldRecord]]:
    """The event's live state and open holds, read by CAPTURE in one atomic step."""
    keys = event_keys(ctx.settings.redis_prefix, event_id)
    script = ctx.redis.register_script(CAPTURE_SCRIPT)
    tokens: list[str] = []
    for _ in range(CAPTURE_ROUNDS):
        reply: list[Any] = list(
            await script(
                keys=[keys.epoch, keys.fencing, keys.expiry] + [keys.hold(t) for t in tokens],
                args=[ctx.clock.pinned_ms(), *tokens],
            )
        )
        if text(reply[0]) == "ok":
            return _decode_live(reply)
        tokens += [text(t) for t in reply[1:]]
    raise ServiceUnavailable(
        f"event {event_id}'s holds changed faster than they could be read; try again"
    )


def _decode_live(reply: list[Any]) -> tuple[LiveRecord, list[HoldRecord]]:
    epoch_raw, now, fencing = text(reply[1]), int(reply[2]), int(reply[3])
    live = LiveRecord(now, fencing, int(epoch_raw) if epoch_raw else None)
    holds: list[HoldRecord] = []
    for item in reply[4]:
        token, due = text(item[0]), int(float(text(item[1])))
        values = [text(v) for v in item[2:]]
        fields = dict(zip(values[::2], values[1::2], strict=True))
        # Only open holds of this live state: tombstones and records of an earlier epoch
        # (void after a rebuild) are not holds any more.
        if fields.get("state") not in OPEN_STATES or fields.get("epoch") != epoch_raw:
            continue
        holds.append(
            HoldRecord(
                token=token,
                buyer_id=fields["buyer"],
                address=fields.get("address", ""),
                state=fields["state"],  # type: ignore[arg-type]
                seats=[int(s) for s in fields["seats"].split(",") if s],
                fencing=int(fields["fencing"]),
                accessible=fields.get("accessible") == "1",
                confirm_key=fields.get("confirm_key", ""),
                age_ms=now - int(fields["created_ms"]),
                expires_in_ms=int(fields["expires_ms"]) - now,
                max_expires_in_ms=int(fields["max_expires_ms"]) - now,
                due_in_ms=due - now,
            )
        )
    holds.sort(key=lambda h: h.fencing)
    return live, holds


async def _read_event(conn: asyncpg.Connection, event_id: int) -> tuple[Any, Any, Any]:
    """The event row, its venue and the venue's row, from the open snapshot."""
    event_row = await conn.fetchrow(
        "SELECT id, venue_id, title, starts_at, created_at, settings FROM events WHERE id = $1",
        event_id,
    )
    if event_row is None:
        raise NotFound(f"event {event_id} does not exist", event_id=event_id)
    venue_row = await conn.fetchrow(
        "SELECT id, name, content_hash, source_format FROM venues WHERE id = $1",
        event_row["venue_id"],
    )
    venue = await load_venue(conn, event_row["venue_id"])
    return _with_settings(event_row), venue, venue_row


def _with_settings(row: asyncpg.Record) -> dict[str, Any]:
    """The event row with its `settings` JSON decoded."""
    out = dict(row)
    settings = orjson.loads(out["settings"])
    if not isinstance(settings, dict):
        raise ValueError(f"event {out['id']}: settings are not a JSON object")
    out["settings"] = settings
    return out


async def _read_orders(conn: asyncpg.Connection, event_id: int) -> list[OrderRecord]:
    """Every order of the event with its sales, oldest first."""
    rows = await conn.fetch(
        "SELECT id, idempotency_key, request_hash, buyer_id, fencing, total_cents, created_at "
        "FROM orders WHERE event_id = $1 ORDER BY id",
        event_id,
    )
    sales: dict[int, list[SaleRecord]] = {}
    for r in await conn.fetch(
        "SELECT order_id, seat_index, fencing, sold_at FROM sales WHERE event_id = $1 "
        "ORDER BY order_id, seat_index",
        event_id,
    ):
        sales.setdefault(r["order_id"], []).append(
            SaleRecord(r["seat_index"], r["fencing"], r["sold_at"])
        )
    return [
        OrderRecord(
            id=r["id"],
            idempotency_key=r["idempotency_key"],
            request_hash=r["request_hash"],
            buyer_id=r["buyer_id"],
            fencing=r["fencing"],
            total_cents=r["total_cents"],
            created_at=r["created_at"],
            sales=sales.get(r["id"], []),
        )
        for r in rows
    ]
