"""Make Redis agree with PostgreSQL, the durable record of what is sold and blocked.

- `ensure_event_state` creates an event's live state when its epoch key is
  missing: right after the event is created, or after Redis lost its data (every
  mutating script refuses to run without the epoch, see `lockservice.keys`). The
  status bytes are built from `sales` and `blocked_seats`, the next fencing epoch
  is taken from PostgreSQL's `fencing_epochs` sequence and the fencing counter
  raised to its floor (and above every fencing PostgreSQL has recorded), so no
  number handed out before the loss, not even one of a sale still in flight, is
  handed out again; per-buyer counts are rebuilt from the orders, and a `reset`
  entry tells every follower to reload.
- `reconcile_event` corrects a live state that exists: sold seats win over
  anything, blocked seats win over available ones, and seats Redis shows as sold
  or blocked that PostgreSQL does not know go back on sale. Each correction is
  logged (kind `reconcile`) like any other change.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from httpkit.errors import is_backend_fault
from lockservice.adminscripts import Scripts, register_scripts
from lockservice.keys import FENCING_EPOCH_SPAN, event_keys
from lockservice.luashared import NO_EPOCH
from lockservice.pgcalls import bounded
from seatmap.context import ServiceContext
from seatmap.errors import SeatmapError, ServiceUnavailable
from seatmap.livekeys import STREAM_MAXLEN
from seatmap.status import SeatStatus

log = logging.getLogger(__name__)

# How long a request waits for its event's rebuild before answering 503.
REBUILD_WAIT_S = 2.0


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
    return await bounded(lambda: _read_truth(ctx, event_id), retry=True)


async def next_epoch(ctx: ServiceContext) -> int:
    """A fencing epoch no live state has had before (never repeats, even across crashes)."""

    async def take() -> int:
        async with ctx.pool.acquire() as conn:
            return int(await conn.fetchval("SELECT nextval('fencing_epochs')"))

    # Retrying may skip an epoch, which is harmless: only repeats would be.
    return await bounded(take, retry=True)


async def _read_truth(ctx: ServiceContext, event_id: int) -> Truth:
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
    """Create the event's live state in Redis if its epoch is missing; True if it was built.

    Raises NotFound for an unknown event. Safe to call concurrently: the state is
    created by one atomic script that does nothing if another caller won.
    """
    keys = event_keys(ctx.settings.redis_prefix, event_id)
    if await ctx.redis.exists(keys.epoch):
        return False
    view = await bounded(lambda: ctx.catalog.get(event_id), retry=True)
    truth = await read_truth(ctx, event_id)
    epoch = await next_epoch(ctx)
    status = np.zeros(view.venue.seat_count, dtype=np.uint8)
    status[truth.blocked[truth.blocked < status.size]] = SeatStatus.BLOCKED
    status[truth.sold[truth.sold < status.size]] = SeatStatus.SOLD
    pairs: list[str | int] = [v for pair in truth.seats_by_buyer for v in pair]
    floor = max(epoch * FENCING_EPOCH_SPAN, truth.max_fencing)
    scripts = scripts or register_scripts(ctx.redis)
    built = await scripts.rebuild(
        keys=[
            keys.epoch,
            keys.status,
            keys.fencing,
            keys.buyers,
            keys.expiry,
            keys.log,
            keys.addresses,
        ],
        args=[STREAM_MAXLEN, status.tobytes(), epoch, floor, *pairs],
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
            keys=[keys.epoch, keys.status, keys.fencing, keys.log],
            args=[
                STREAM_MAXLEN,
                truth.max_fencing,
                _csv(make_sold),
                _csv(make_blocked),
                _csv(demote),
            ],
        )
    )
    if reply[0] == NO_EPOCH.encode():
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

    async def fetch() -> list[int]:
        async with ctx.pool.acquire() as conn:
            return [int(r[0]) for r in await conn.fetch("SELECT id FROM events ORDER BY id")]

    return await bounded(fetch, retry=True)


class Rebuilds:
    """Rebuilds of events whose epoch is missing, one at a time per event and process.

    The first request that meets a missing epoch starts the rebuild at once; every
    request for that event waits for the same rebuild, at most `REBUILD_WAIT_S`,
    and then gets 503 + Retry-After if it has not finished (PostgreSQL away).
    """

    def __init__(self, ctx: ServiceContext, scripts: Scripts) -> None:
        self._ctx = ctx
        self._scripts = scripts
        self._running: dict[int, asyncio.Task[bool]] = {}

    def unavailable(self) -> ServiceUnavailable:
        """The error of a request that met an event still being restored."""
        return ServiceUnavailable(
            "this event's live state is being restored from the sales record; retry",
            retry_after_s=1,
        )

    async def restore(self, event_id: int) -> None:
        """Rebuild the event now (or join the rebuild under way); 503 if it cannot finish."""
        task = self._running.get(event_id)
        if task is None:
            task = asyncio.create_task(ensure_event_state(self._ctx, event_id, self._scripts))
            self._running[event_id] = task
            task.add_done_callback(lambda done: self._finished(event_id, done))
        try:
            async with asyncio.timeout(REBUILD_WAIT_S):
                await asyncio.shield(task)
        except SeatmapError:
            raise
        except Exception as exc:
            if isinstance(exc, TimeoutError) or is_backend_fault(exc):
                raise self.unavailable() from exc
            raise

    def _finished(self, event_id: int, task: asyncio.Task[bool]) -> None:
        if self._running.get(event_id) is task:
            del self._running[event_id]
        if not task.cancelled() and task.exception() is not None:
            log.warning("rebuilding event %d failed: %r", event_id, task.exception())
