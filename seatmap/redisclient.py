"""The Redis client every part receives: one server, or a Redis Cluster reached through any node.

With `cluster=True` the client is redis-py's asyncio `RedisCluster`: it learns the
slot map from the node it is given (or the first of several comma-separated node
URLs that answers, so a process can start while a node is down), sends each
command to the master of its key's slot, and follows MOVED/ASK redirections after
a failover or resharding. All keys
of one event share one hash tag (`seatmap.livekeys.event_tag`), so every script and
every MULTI/EXEC of an event runs on one master. The single-server client (also
used for the embedded Redis) is unchanged.
"""

from __future__ import annotations

from typing import TypeAlias
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException, RedisError

RedisClient: TypeAlias = aioredis.Redis | RedisCluster

# Everything that means "Redis is unreachable or not serving this slot right now" (not a bug):
# redis-py's errors, the cluster client's own (slot not covered, no node reachable), sockets.
REDIS_UNAVAILABLE: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError)

CONNECT_TIMEOUT_S = 2.0
SOCKET_TIMEOUT_S = 5.0
MAX_CONNECTIONS = 512  # per server, or per cluster node


def redis_client(url: str, cluster: bool = False) -> RedisClient:
    """A client that returns bytes (status arrays and Stream fields are binary)."""
    if cluster:
        first, *more = url.split(",")
        others = [urlsplit(node.strip()) for node in more]
        return RedisCluster.from_url(
            first,
            startup_nodes=[ClusterNode(u.hostname or "", u.port or 6379) for u in others] or None,
            decode_responses=False,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=SOCKET_TIMEOUT_S,
            max_connections=MAX_CONNECTIONS,
        )
    return aioredis.Redis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=10,
        max_connections=MAX_CONNECTIONS,
    )


def is_cluster(redis: RedisClient) -> bool:
    """Whether this client talks to a Redis Cluster."""
    return isinstance(redis, RedisCluster)
