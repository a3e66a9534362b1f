"""Open and close everything a running process needs, in one place."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Literal

from seatmap.context import Clock, ServiceContext, build_context
from seatmap.db import check_schema, close_pool, create_pool, migrate
from seatmap.embedded import backends
from seatmap.redisclient import RedisClient, redis_client
from seatmap.settings import Settings, SettingsError

__all__ = ["open_context", "redis_client", "settings_redis"]

# What to do about the database schema on connecting: apply pending migrations,
# refuse to go on while any is pending ("run seatmap migrate"), or nothing.
SchemaPolicy = Literal["migrate", "check", "ignore"]


def settings_redis(settings: Settings, url: str) -> RedisClient:
    """The Redis client the settings ask for at `url`: one server, or a cluster."""
    if settings.redis_cluster and settings.redis_url is None:
        raise SettingsError("SEATMAP_REDIS_CLUSTER needs SEATMAP_REDIS_URL naming a cluster node")
    return redis_client(
        url,
        cluster=settings.redis_cluster,
        max_connections=settings.redis_max_connections,
        pool_timeout_s=settings.redis_pool_timeout_s,
    )


@contextlib.asynccontextmanager
async def open_context(
    settings: Settings, clock: Clock | None = None, schema: SchemaPolicy = "migrate"
) -> AsyncIterator[ServiceContext]:
    """Connect to PostgreSQL and Redis (embedded ones if no URLs), see to the schema, yield."""
    with backends(settings.data_dir, settings.database_url, settings.redis_url) as urls:
        pool = await create_pool(urls.database_url)
        redis = settings_redis(settings, urls.redis_url)
        try:
            if schema != "ignore":
                async with pool.acquire() as conn:
                    if schema == "migrate":
                        await migrate(conn)
                    else:
                        await check_schema(conn)
            ctx = build_context(settings, pool, redis, clock)
            try:
                yield ctx
            finally:
                await ctx.feed.close()
        finally:
            await redis.aclose()
            await close_pool(pool)
