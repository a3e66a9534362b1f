"""Make Redis agree with PostgreSQL, the durable record of what is sold and blocked.

- `ensure_event_state` creates an event's live state when its status key is
  missing: right after the event is created, or after Redis lost its data. The
  status bytes are built from `sales` and `blocked_seats`, the fencing counter is
  raised above every fencing PostgreSQL has recorded, per-buyer counts are
  rebuilt from the orders, and a `reset` entry tells every follower to reload.
- `reconcile_event` corrects a live state that exists: sold seats win over
  anything, blocked seats win over available ones, and seats Redis shows as sold
  or blocked that PostgreSQL does not know go back on sale. Each correction is
  logged (kind `reconcile`) like any other change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lockservice.adminscripts import Scripts, register_scripts
from lockservice.keys import event_keys
from seatmap.context import ServiceContext
from seatmap.livekeys import STREAM_MAXLEN
from seatmap.status import SeatStatus


@dataclass(frozen=True, slots=True)
class Truth:
    """What PostgreSQL says about one event."""

    sold: npt.NDArray[np.int64]
    blocked: npt.NDArray[np.int64]
    max_fencing: int
    seats_by_buyer: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """What one reconcile pass changed in Redis."""

    rebuilt: bool = False
    made_sold: int = 0
    made_blocked: int = 0
    made_available: int = 0


async def read_truth(ctx: ServiceContext, event_id: int) -> Truth:
    """Sold and blocked seats, highest fencing and seats per buyer, from PostgreSQL."""
    async with ctx.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        sold = await conn.fetch("SELECT seat_index FROM sales WHERE event_id = $1", event_id)
        blocked = await conn.fetch(
            "SELECT seat_index FROM blocked_seats WHERE event_id = $1", event_id
        )
        max_fencing = await conn.fetchval(
            "SELECT coalesce(max(fencing), 0) FROM orders WHERE event_id = $1", event_id
        )
        by_buyer = await conn.fetch(
            "SELECT o.buyer_id, count(*) AS seats FROM sales s JOIN orders o ON o.id = s.order_id "
            "WHERE s.event_id = $1 GROUP BY o.buyer_id",
            event_id,
        )
    return Truth(
        sold=np.array([r[0] for r in sold], dtype=np.int64),
        blocked=np.array([r[0] for r in blocked], dtype=np.int64),
        max_fencing=int(max_fencing),
        seats_by_buyer=[(r["buyer_id"], int(r["seats"])) for r in by_buyer],
    )


async def ensure_event_state(
    ctx: ServiceContext, event_id: int, scripts: Scripts | None = None
) -> bool:
    """Create the event's live state in Redis if it is missing; True if it was built.

    Raises NotFound for an unknown event. Safe to call concurrently: the state is
    created by one atomic script that does nothing if another caller won.
    """
    keys = event_keys(ctx.settings.redis_prefix, event_id)
    if await ctx.redis.exists(keys.status):
        return False
    view = await ctx.catalog.get(event_id)
    truth = await read_truth(ctx, event_id)
    status = np.zeros(view.venue.seat_count, dtype=np.uint8)
    status[truth.blocked[truth.blocked < status.size]] = SeatStatus.BLOCKED
    status[truth.sold[truth.sold < status.size]] = SeatStatus.SOLD
    pairs: list[str | int] = [v for pair in truth.seats_by_buyer for v in pair]
    scripts = scripts or register_scripts(ctx.redis)
    built = await scripts.rebuild(
        keys=[keys.status, keys.fencing, keys.buyers, keys.expiry, keys.log],
        args=[STREAM_MAXLEN, status.tobytes(), truth.max_fencing, *pairs],
    )
    if built:
        ctx.metrics.reconcile_corrections.labels("rebuild").inc()
    return bool(built)


def _csv(seats: npt.NDArray[np.int64]) -> str:
    return ",".join(map(str, seats.tolist()))


async def reconcile_event(
    ctx: ServiceContext, event_id: int, scripts: Scripts | None = None
) -> ReconcileResult:
    """Bring one event's live state in line with PostgreSQL (see the module docstring)."""
    scripts = scripts or register_scripts(ctx.redis)
    if await ensure_event_state(ctx, event_id, scripts):
        return ReconcileResult(rebuilt=True)
    keys = event_keys(ctx.settings.redis_prefix, event_id)
    # Read Redis before PostgreSQL: a seat sold or blocked in Redis at this point was
    # already committed in PostgreSQL (sales and blocks commit there first), so only
    # seats PostgreSQL really lacks are demoted.
    raw: Any = await ctx.redis.get(keys.status)
    before = np.frombuffer(raw or b"", dtype=np.uint8)
    truth = await read_truth(ctx, event_id)
    n = before.size
    sold_pg = np.zeros(n, dtype=np.bool_)
    sold_pg[truth.sold[truth.sold < n]] = True
    blocked_pg = np.zeros(n, dtype=np.bool_)
    blocked_pg[truth.blocked[truth.blocked < n]] = True
    make_sold = np.flatnonzero(sold_pg & (before != SeatStatus.SOLD))
    make_blocked = np.flatnonzero(blocked_pg & ~sold_pg & (before == SeatStatus.AVAILABLE))
    demote = np.flatnonzero(
        ((before == SeatStatus.SOLD) & ~sold_pg)
        | ((before == SeatStatus.BLOCKED) & ~blocked_pg & ~sold_pg)
    )
    reply = list(
        await scripts.reconcile(
            keys=[keys.status, keys.fencing, keys.log],
            args=[
                STREAM_MAXLEN,
                truth.max_fencing,
                _csv(make_sold),
                _csv(make_blocked),
                _csv(demote),
            ],
        )
    )
    if reply[0] == b"no_state":
        return ReconcileResult(rebuilt=await ensure_event_state(ctx, event_id, scripts))
    result = ReconcileResult(False, int(reply[1]), int(reply[2]), int(reply[3]))
    for kind, count in (
        ("sold", result.made_sold),
        ("blocked", result.made_blocked),
        ("available", result.made_available),
    ):
        if count:
            ctx.metrics.reconcile_corrections.labels(kind).inc(count)
    return result


async def event_ids(ctx: ServiceContext) -> list[int]:
    """Every event id in PostgreSQL."""
    async with ctx.pool.acquire() as conn:
        return [int(r[0]) for r in await conn.fetch("SELECT id FROM events ORDER BY id")]
