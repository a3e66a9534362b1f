"""What the backup tests share: an event on sale, a fresh deployment to restore into, and
both sides' state.

A fresh deployment is a new PostgreSQL database (made through the admin URL and
migrated) and a key prefix nobody else uses on the run's Redis; both are
removed afterwards.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from lockservice.holds import Holds
from lockservice.keys import event_keys
from lockservice.sales import confirm
from seatmap.context import EventView, ServiceContext, build_context
from seatmap.db import close_pool, create_pool, migrate
from seatmap.events import EventRules
from seatmap.runtime import redis_client
from seatmap.settings import Settings
from tests.conftest import PG_ADMIN_URL, RUN_ID, _dsn_for, pg_connection
from tests.lockservice.conftest import new_event

# Remaining hold times may differ by this much between capture and restore (ms).
TIME_TOLERANCE_MS = 1500
RULES = EventRules(no_orphans=False, max_seats_per_buyer=20, hold_ttl_s=600, max_hold_s=1200)


async def on_sale(ctx: ServiceContext, holds: Holds) -> EventView:
    """An event with two sales, two blocked seats, three open holds and one stuck sale."""
    view = await new_event(ctx, RULES)
    event_id = view.event.id
    for n, seats in enumerate(([2, 3], [14, 15, 16])):
        hold = await holds.hold(view, f"buyer-{n}", seats, address=f"10.0.0.{n}")
        await confirm(ctx, holds, view, hold.token, f"order-{n}", {"note": n}, None)
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO blocked_seats (event_id, seat_index) VALUES ($1, 30), ($1, 31)", event_id
        )
    await holds.set_blocked(view, [30, 31], True)
    await holds.hold(view, "buyer-0", [40, 41], address="10.0.0.0")
    await holds.hold(view, "buyer-7", [50], address="10.0.0.7")
    await holds.hold(view, "buyer-8", [52, 53, 54], accessible=False, address="10.0.0.7")
    stuck = await holds.hold(view, "buyer-9", [60, 61], address="10.0.0.9")
    await holds.mark_confirming(event_id, stuck.token, "buyer-9", "order-stuck")
    return view


@contextlib.asynccontextmanager
async def fresh_deployment(settings: Settings) -> AsyncIterator[ServiceContext]:
    """A context on a new, migrated database and an unused key prefix of the run's Redis."""
    tag = uuid.uuid4().hex[:8]
    name = f"seatmap_restore_{RUN_ID}_{tag}"
    async with pg_connection(PG_ADMIN_URL) as conn:
        await conn.execute(f'CREATE DATABASE "{name}"')
    dsn = _dsn_for(name)
    target = settings.with_overrides(
        database_url=dsn,
        redis_prefix=f"{settings.redis_prefix}restore-{tag}:",
        data_dir=settings.data_dir / f"restore-{tag}",
    )
    pool = await create_pool(dsn)
    redis = redis_client(settings.redis_url or "", cluster=settings.redis_cluster)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        ctx = build_context(target, pool, redis)
        yield ctx
        await ctx.feed.close()
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{target.redis_prefix}*", count=1000)]
        for key in keys:
            await redis.delete(key)
        await redis.aclose()
        await close_pool(pool)
        async with pg_connection(PG_ADMIN_URL) as conn:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def pg_state(ctx: ServiceContext, event_id: int) -> dict[str, Any]:
    """The event as PostgreSQL has it, order ids left out (they may be renumbered)."""
    async with ctx.pool.acquire() as conn:
        event = await conn.fetchrow(
            "SELECT e.title, e.starts_at, e.created_at, e.settings, v.content_hash "
            "FROM events e JOIN venues v ON v.id = e.venue_id WHERE e.id = $1",
            event_id,
        )
        orders = await conn.fetch(
            "SELECT o.idempotency_key, o.request_hash, o.buyer_id, o.fencing, o.total_cents, "
            "o.created_at, array_agg(s.seat_index ORDER BY s.seat_index) AS seats, "
            "array_agg(s.sold_at ORDER BY s.seat_index) AS sold_at "
            "FROM orders o JOIN sales s ON s.order_id = o.id WHERE o.event_id = $1 "
            "GROUP BY o.id ORDER BY o.idempotency_key",
            event_id,
        )
        blocked = await conn.fetch(
            "SELECT seat_index, blocked_at FROM blocked_seats WHERE event_id = $1 "
            "ORDER BY seat_index",
            event_id,
        )
    assert event is not None
    head = dict(event)
    head["settings"] = orjson.loads(head["settings"])
    return {
        "event": head,
        "orders": [dict(r) for r in orders],
        "blocked": [tuple(r) for r in blocked],
    }


@dataclass
class LiveState:
    """An event's Redis state: statuses, open holds (fields + due time), counts, fencing."""

    now_ms: int
    status: bytes
    epoch: int
    fencing: int
    holds: dict[str, dict[str, str]]
    buyers: dict[str, int]
    addresses: dict[str, int]

    def remaining(self, token: str, field: str) -> int:
        """A time field of a hold, as ms from `now_ms`."""
        return int(self.holds[token][field]) - self.now_ms


def _bytes(value: Any) -> bytes:
    return bytes(value or b"")


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def live_state(ctx: ServiceContext, event_id: int) -> LiveState:
    """The event's live state now (read key by key: call it while nothing changes)."""
    keys = event_keys(ctx.settings.redis_prefix, event_id)
    redis = ctx.redis
    seconds, micros = await redis.time()
    due: Any = await redis.zrange(keys.expiry, 0, -1, withscores=True)
    holds: dict[str, dict[str, str]] = {}
    for token_raw, score in due:
        token = _str(token_raw)
        raw = await redis.hgetall(keys.hold(token))
        fields = {_str(k): _str(v) for k, v in raw.items()}
        fields["due_ms"] = str(int(score))
        holds[token] = fields
    return LiveState(
        now_ms=int(seconds) * 1000 + int(micros) // 1000,
        status=_bytes(await redis.get(keys.status)),
        epoch=int(await redis.get(keys.epoch) or 0),
        fencing=int(await redis.get(keys.fencing) or 0),
        holds=holds,
        buyers={_str(k): int(v) for k, v in (await redis.hgetall(keys.buyers)).items()},
        addresses={_str(k): int(v) for k, v in (await redis.hgetall(keys.addresses)).items()},
    )


HOLD_FIELDS = ("buyer", "address", "seats", "fencing", "state", "accessible", "confirm_key")
HOLD_TIMES = ("created_ms", "expires_ms", "max_expires_ms", "due_ms")


def assert_same_holds(source: LiveState, target: LiveState, slack_ms: int) -> None:
    """The same open holds on both sides, with the same times left (within `slack_ms`)."""
    assert source.holds.keys() == target.holds.keys()
    for token, fields in source.holds.items():
        restored = target.holds[token]
        assert {f: fields.get(f) for f in HOLD_FIELDS} == {
            f: restored.get(f) for f in HOLD_FIELDS
        }, token
        assert int(restored["epoch"]) == target.epoch
        for field in HOLD_TIMES:
            gap = target.remaining(token, field) - source.remaining(token, field)
            assert abs(gap) <= slack_ms, (token, field, gap)


async def rows_and_keys(target: ServiceContext) -> tuple[int, int]:
    """Rows in events and orders, and keys under the deployment's prefix."""
    async with target.pool.acquire() as conn:
        rows = int(await conn.fetchval("SELECT (SELECT count(*) FROM events) + "
                                       "(SELECT count(*) FROM orders)"))  # fmt: skip
    keys = [k async for k in target.redis.scan_iter(match=f"{target.settings.redis_prefix}*")]
    return rows, len(keys)
