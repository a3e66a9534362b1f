"""The Redis client every part receives: one server, or a Redis Cluster reached through any node.

With `cluster=True` the client is redis-py's asyncio `RedisCluster`: it learns the
slot map from the node it is given (or the first of several comma-separated node
URLs that answers, so a process can start while a node is down), sends each
command to the master of its key's slot, and follows MOVED/ASK redirections after
a failover or resharding. All keys
of one event share one hash tag (`seatmap.livekeys.event_tag`), so every script and
every MULTI/EXEC of an event runs on one master. The single-server client (also
used for the embedded Redis) is unchanged.

A burst of requests larger than the connection pool queues for a connection
instead of failing at once: the single-server client uses redis-py's
`BlockingConnectionPool`; redis-py's cluster client has no blocking pool (a node
with every connection busy raises MaxConnectionsError), so `QueueingRedisCluster`
lets at most `max_connections` commands and pipelines of the process be in flight
and makes the others wait their turn. Either way a wait longer than
`pool_timeout_s` raises a ConnectionError, which the app answers with 503 +
Retry-After.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.connection import BlockingConnectionPool
from redis.exceptions import MaxConnectionsError, RedisClusterException, RedisError

RedisClient: TypeAlias = aioredis.Redis | RedisCluster

log = logging.getLogger(__name__)

# Everything that means "Redis is unreachable or not serving this slot right now" (not a bug):
# redis-py's errors, the cluster client's own (slot not covered, no node reachable), sockets.
REDIS_UNAVAILABLE: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError)

CONNECT_TIMEOUT_S = 2.0
SOCKET_TIMEOUT_S = 5.0
MAX_CONNECTIONS = 512  # per server, or per cluster node
POOL_TIMEOUT_S = 1.0  # how long a command waits for a free connection

# Set while a task holds a turn of a QueueingRedisCluster: the commands redis-py sends
# from inside a pipeline (redirections) run in the pipeline's turn.
_in_turn: ContextVar[bool] = ContextVar("seatmap_redis_in_turn", default=False)


class QueueingRedisCluster(RedisCluster):
    """redis-py's cluster client whose commands and pipelines wait for a free connection.

    At most `max_connections` of them are in flight in this process at once, so no
    node's pool (of the same size) is ever exhausted; the rest wait in line, each for
    `pool_timeout_s` at most, then raise MaxConnectionsError (a ConnectionError).
    """

    def __init__(self, *args: Any, pool_timeout_s: float = POOL_TIMEOUT_S, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool_timeout_s = pool_timeout_s
        self.max_connections = int(kwargs.get("max_connections", MAX_CONNECTIONS))
        self._turns = asyncio.Semaphore(self.max_connections)
        self._refreshing: asyncio.Task[None] | None = None

    async def initialize(
        self,
        additional_startup_nodes_info: list[tuple[str, int]] | None = None,
        last_failed_node_name: str | None = None,
    ) -> QueueingRedisCluster:
        """Fetch the slot map before first use; later, refresh it in the background.

        redis-py refreshes the map under a lock that every command waits for, asking
        the nodes in random order: with one master hung (accepting, never answering),
        each refresh that asks it first would stall the commands of every other master
        for a socket timeout, again after each of its timeouts. Once a map is in hand,
        commands keep using it while one refresh at a time runs beside them; MOVED
        replies are still followed at once.
        """
        if not self._initialize:
            return self
        if not self.nodes_manager.slots_cache:
            await super().initialize(additional_startup_nodes_info, last_failed_node_name)
            return self
        self._initialize = False
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh(last_failed_node_name))
        return self

    async def _refresh(self, last_failed_node_name: str | None) -> None:
        try:
            await self.nodes_manager.initialize(last_failed_node_name=last_failed_node_name)
        except Exception as exc:  # the map in hand stays; the next failure tries again
            log.warning("Redis Cluster slot map refresh failed: %s: %s", type(exc).__name__, exc)
            self._initialize = True

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the in-flight places for the block (re-entrant within a task)."""
        if _in_turn.get():
            yield
            return
        try:
            async with asyncio.timeout(self.pool_timeout_s):
                await self._turns.acquire()
        except TimeoutError:
            raise MaxConnectionsError(
                f"no Redis connection free within {self.pool_timeout_s} s"
            ) from None
        token = _in_turn.set(True)
        try:
            yield
        finally:
            _in_turn.reset(token)
            self._turns.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Send one command in its turn."""
        async with self.turn():
            return await super().execute_command(*args, **kwargs)

    def pipeline(
        self, transaction: Any | None = None, shard_hint: Any | None = None
    ) -> ClusterPipeline:
        """A pipeline that is sent in one turn."""
        if shard_hint:
            raise RedisClusterException("shard_hint is deprecated in cluster mode")
        # redis-py declares an attribute abstract that ClusterPipeline itself never sets.
        return _QueueingPipeline(self, transaction)  # type: ignore[abstract]


class _QueueingPipeline(ClusterPipeline):
    """A cluster pipeline whose `execute` waits for a turn of its client."""

    def __init__(self, client: QueueingRedisCluster, transaction: Any | None = None) -> None:
        super().__init__(client, transaction)
        self._queueing_client = client

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        """Send the pipeline in one turn."""
        async with self._queueing_client.turn():
            return await super().execute(raise_on_error, allow_redirections)


def redis_client(
    url: str,
    cluster: bool = False,
    max_connections: int = MAX_CONNECTIONS,
    pool_timeout_s: float = POOL_TIMEOUT_S,
) -> RedisClient:
    """A client that returns bytes (status arrays and Stream fields are binary); a command
    that finds every connection busy waits `pool_timeout_s` for one, then raises."""
    if cluster:
        first, *more = url.split(",")
        others = [urlsplit(node.strip()) for node in more]
        return QueueingRedisCluster.from_url(
            first,
            startup_nodes=[ClusterNode(u.hostname or "", u.port or 6379) for u in others] or None,
            decode_responses=False,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=SOCKET_TIMEOUT_S,
            max_connections=max_connections,
            pool_timeout_s=pool_timeout_s,
        )
    pool = BlockingConnectionPool.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=10,
        max_connections=max_connections,
        timeout=pool_timeout_s,
    )
    return aioredis.Redis.from_pool(pool)


def pool_timeout(redis: RedisClient) -> float:
    """How long a command of this client waits for a free connection."""
    if isinstance(redis, QueueingRedisCluster):
        return redis.pool_timeout_s
    pool = getattr(redis, "connection_pool", None)
    timeout = getattr(pool, "timeout", None)
    return float(timeout) if timeout is not None else POOL_TIMEOUT_S


def is_cluster(redis: RedisClient) -> bool:
    """Whether this client talks to a Redis Cluster."""
    return isinstance(redis, RedisCluster)
