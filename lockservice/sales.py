"""Confirm a hold as a sale: durable in PostgreSQL, idempotent per Idempotency-Key.

1. Take a transaction-scoped advisory lock on (event, idempotency key), so
   attempts with one key run one at a time; if the key already has an order,
   return it (or 422 if the request differs).
2. Mark the hold confirming in Redis: it can no longer expire, extend or release.
3. Insert the order and one `sales` row per seat (recording the hold's fencing)
   in the same transaction; UNIQUE(event_id, seat_index) is the last line of
   defence against selling a seat twice. The sale's webhook messages are queued
   in the same transaction (`lockservice.webhooks_store`).
4. After the commit, mark the seats sold in Redis. If that step is lost, the
   sweeper (for a hold stuck in confirming) or the reconciler finishes it.

Every step runs within bounded time (`lockservice.pgcalls`). A confirm is
idempotent under its key, so after a connection-level fault it is run once more
on a fresh connection; if PostgreSQL stays away the caller gets 503 and may
retry with the same key, which yields the one order (or makes it).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from lockservice.errors import HoldConflict, IdempotencyMismatch, NotHoldOwner
from lockservice.holds import Holds
from lockservice.keys import event_keys
from lockservice.pgcalls import PG_CALL_TIMEOUT_S, bounded
from lockservice.reconcile import reconcile_event
from lockservice.webhooks_store import enqueue_sale
from seatmap.context import EventView, ServiceContext

ADVISORY_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended($1, $2))"
# A whole confirm (lock, look up, freeze the hold, insert, commit) may take this long.
CONFIRM_TIMEOUT_S = 2 * PG_CALL_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class Order:
    """A confirmed sale."""

    order_id: int
    event_id: int
    buyer_id: str
    fencing: int
    seats: list[int]
    total_cents: int
    created_at: datetime
    replayed: bool = False


def request_hash(hold_token: str, body: dict[str, Any]) -> str:
    """What identifies a confirm request for idempotency: the hold and the body."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(hold_token.encode() + b"\n" + canonical).hexdigest()


async def _existing(
    conn: asyncpg.Connection, event_id: int, idempotency_key: str
) -> tuple[Order, str] | None:
    row = await conn.fetchrow(
        "SELECT * FROM orders WHERE event_id = $1 AND idempotency_key = $2",
        event_id,
        idempotency_key,
    )
    if row is None:
        return None
    seats = await conn.fetch(
        "SELECT seat_index FROM sales WHERE order_id = $1 ORDER BY seat_index", row["id"]
    )
    order = Order(
        row["id"],
        event_id,
        row["buyer_id"],
        row["fencing"],
        [r[0] for r in seats],
        row["total_cents"],
        row["created_at"],
        replayed=True,
    )
    return order, row["request_hash"]


async def confirm(
    ctx: ServiceContext,
    holds: Holds,
    view: EventView,
    hold_token: str,
    idempotency_key: str,
    body: dict[str, Any],
    buyer_id: str | None = None,
) -> Order:
    """Sell the hold's seats (see the module docstring); `buyer_id`, if given, must own it."""

    async def attempt() -> Order:
        return await _confirm(ctx, holds, view, hold_token, idempotency_key, body, buyer_id)

    return await bounded(attempt, retry=True, timeout_s=CONFIRM_TIMEOUT_S)


async def _confirm(
    ctx: ServiceContext,
    holds: Holds,
    view: EventView,
    hold_token: str,
    idempotency_key: str,
    body: dict[str, Any],
    buyer_id: str | None,
) -> Order:
    event_id = view.event.id
    wanted_hash = request_hash(hold_token, body)
    started = time.perf_counter()
    prices = {c.index: c.price_cents for c in view.venue.categories}
    async with ctx.pool.acquire() as conn:
        try:
            async with conn.transaction():
                await conn.execute(ADVISORY_LOCK_SQL, idempotency_key, event_id)
                found = await _existing(conn, event_id, idempotency_key)
                if found is not None:
                    order, stored_hash = found
                    if stored_hash != wanted_hash:
                        raise IdempotencyMismatch(
                            "this Idempotency-Key was used for a different request"
                        )
                    if buyer_id is not None and order.buyer_id != buyer_id:
                        raise NotHoldOwner()
                    await holds.mark_sold(event_id, hold_token, order.fencing)
                    return order
                buyer, fencing, seats = await holds.mark_confirming(
                    event_id, hold_token, buyer_id or "", idempotency_key
                )
                total = sum(prices.get(int(view.venue.seats.category[s]), 0) for s in seats)
                row = await conn.fetchrow(
                    "INSERT INTO orders (event_id, idempotency_key, request_hash, buyer_id, "
                    "fencing, total_cents) VALUES ($1, $2, $3, $4, $5, $6) "
                    "RETURNING id, created_at",
                    event_id,
                    idempotency_key,
                    wanted_hash,
                    buyer,
                    fencing,
                    total,
                )
                assert row is not None
                await conn.execute(
                    "INSERT INTO sales (event_id, seat_index, order_id, fencing) "
                    "SELECT $1, unnest($2::int[]), $3, $4",
                    event_id,
                    seats,
                    row["id"],
                    fencing,
                )
                await enqueue_sale(
                    conn, view.venue, event_id=event_id, order_id=row["id"], buyer_id=buyer,
                    fencing=fencing, seats=seats, total_cents=total, created_at=row["created_at"],
                )  # fmt: skip
        except asyncpg.UniqueViolationError:
            # PostgreSQL already sold a seat that Redis had lost: free this hold and let
            # the reconciler put every sold seat back.
            sold = await conn.fetch(
                "SELECT seat_index FROM sales WHERE event_id = $1 AND seat_index = ANY($2)",
                event_id,
                seats,
            )
            await holds.end(event_id, hold_token, force=True, kind="release")
            await reconcile_event(ctx, event_id)
            labels = [view.venue.full_label(r[0]) for r in sold]
            raise HoldConflict(labels, "some of these seats were already sold") from None
    if not await holds.mark_sold(event_id, hold_token, fencing):
        await reconcile_event(ctx, event_id)
    ctx.metrics.confirm_seconds.observe(time.perf_counter() - started)
    return Order(row["id"], event_id, buyer, fencing, seats, total, row["created_at"])


async def resolve_stuck(ctx: ServiceContext, holds: Holds, event_id: int, hold_token: str) -> str:
    """Finish a hold left in "confirming" past its grace time: sold if PostgreSQL has its
    order, otherwise released. Returns "sold", "released" or "gone"."""
    key = event_keys(ctx.settings.redis_prefix, event_id).hold(hold_token)
    found: Any = await ctx.redis.hmget(key, ["fencing", "confirm_key"])
    fencing_raw, confirm_key = found
    if fencing_raw is None:
        await holds.end(event_id, hold_token, force=False)
        return "gone"
    fencing = int(fencing_raw)

    async def look_up() -> Any:
        async with ctx.pool.acquire() as conn, conn.transaction():
            # Wait for an attempt still running under the same key, then look.
            await conn.execute(ADVISORY_LOCK_SQL, (confirm_key or b"").decode(), event_id)
            return await conn.fetchval(
                "SELECT id FROM orders WHERE event_id = $1 AND fencing = $2", event_id, fencing
            )

    order_id = await bounded(look_up, retry=True)
    if order_id is not None:
        await holds.mark_sold(event_id, hold_token, fencing)
        return "sold"
    await holds.end(event_id, hold_token, force=True, kind="expire")
    return "released"
