"""A burst larger than the Redis connection pool waits for connections: never a 500.

The app runs on a client of two connections. A burst of concurrent requests
(sessions, holds, status snapshots) is served in full when the wait for a
connection is long enough; when it is too short, what cannot get a connection
in time is answered 503 + Retry-After, and everything else as usual.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from seatmap.context import ServiceContext, build_context
from seatmap.redisclient import RedisClient, redis_client
from tests.lockservice.conftest import bearer, buyer_token, in_process_client, new_event

BURST = 150
POOL = 2


@pytest.fixture
async def small_pool(ctx: ServiceContext) -> AsyncIterator[ServiceContext]:
    """A context like `ctx` whose Redis client has POOL connections (per node) and waits
    up to 5 s for one; every request comes from one address, so its caps are off."""
    settings = ctx.settings.with_overrides(
        max_seats_per_address=0, rate_limit_sessions_per_min=100_000
    )
    assert settings.redis_url
    redis = redis_client(
        settings.redis_url, settings.redis_cluster, max_connections=POOL, pool_timeout_s=5.0
    )
    try:
        yield build_context(settings, ctx.pool, redis)
    finally:
        await redis.aclose()


def set_pool_timeout(redis: RedisClient, timeout_s: float) -> None:
    """Change how long the client's commands wait for a free connection."""
    if hasattr(redis, "pool_timeout_s"):
        redis.pool_timeout_s = timeout_s
    else:
        redis.connection_pool.timeout = timeout_s  # type: ignore[union-attr]


async def burst(ctx: ServiceContext) -> list[httpx.Response]:
    """BURST concurrent requests: sessions, one-seat holds of distinct seats, snapshots."""
    view = await new_event(ctx, seats_per_row=30)
    labels = [view.venue.full_label(i) for i in range(view.venue.seat_count)]
    async with in_process_client(ctx, client_ip="10.66.0.1") as api:

        async def one(n: int) -> httpx.Response:
            kind = n % 3
            if kind == 0:
                return await api.post("/sessions")
            if kind == 1:
                token, _ = buyer_token(ctx.settings)
                return await api.post(
                    f"/events/{view.event.id}/holds",
                    json={"seats": [labels[n]]},
                    headers=bearer(token),
                )
            return await api.get(f"/events/{view.event.id}/status.bin")

        return list(await asyncio.gather(*(one(n) for n in range(BURST))))


async def test_burst_beyond_the_pool_waits_for_connections_and_all_succeed(
    small_pool: ServiceContext,
) -> None:
    ctx = small_pool
    replies = await burst(ctx)
    statuses = Counter(r.status_code for r in replies)
    assert all(s < 500 for s in statuses), statuses
    assert statuses[201] >= BURST // 3, statuses  # every hold of a distinct seat went through
    assert statuses[200] == BURST // 3, statuses


async def test_burst_that_waits_too_long_gets_503_with_retry_after_never_500(
    small_pool: ServiceContext,
) -> None:
    ctx = small_pool
    set_pool_timeout(ctx.redis, 0.0005)
    replies = await burst(ctx)
    statuses = Counter(r.status_code for r in replies)
    assert statuses[503] > 0, statuses
    for reply in replies:
        assert reply.status_code < 500 or reply.status_code == 503, reply.text
        if reply.status_code == 503:
            assert int(reply.headers["retry-after"]) >= 1
            assert reply.json()["error"] == "service_unavailable"
