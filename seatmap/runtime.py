"""Open and close everything a running process needs, in one place."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from seatmap.context import Clock, ServiceContext, build_context
from seatmap.db import close_pool, create_pool, migrate
from seatmap.embedded import backends
from seatmap.settings import Settings


def redis_client(url: str) -> aioredis.Redis:
    """A Redis client that returns bytes (status arrays and Stream fields are binary)."""
    return aioredis.Redis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
        health_check_interval=10,
        max_connections=512,
    )


@contextlib.asynccontextmanager
async def open_context(
    settings: Settings, clock: Clock | None = None, run_migrations: bool = True
) -> AsyncIterator[ServiceContext]:
    """Connect to PostgreSQL and Redis (embedded ones if no URLs), migrate, yield a context."""
    with backends(settings.data_dir, settings.database_url, settings.redis_url) as urls:
        pool = await create_pool(urls.database_url)
        redis = redis_client(urls.redis_url)
        try:
            if run_migrations:
                async with pool.acquire() as conn:
                    await migrate(conn)
            ctx = build_context(settings, pool, redis, clock)
            try:
                yield ctx
            finally:
                await ctx.feed.close()
        finally:
            await redis.aclose()
            await close_pool(pool)
