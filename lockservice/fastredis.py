"""A Redis client for the lock service's scripts that packs commands in C when it can.

redis-py's asyncio connections build every command in Python, which costs more than the
HOLD script runs in Redis. With `hiredis`, the script client packs commands with
`hiredis.pack_command`; the rest (pools, errors, reconnects, parsing) stays redis-py's.

On a Redis Cluster the runner keeps such a client per master (redis-py's cluster
pipeline resends a whole batch, calls already run included, when one node fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import BlockingConnectionPool, Connection, ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import AskError, ClusterDownError, NoScriptError, RedisError, TryAgainError

from seatmap.redisclient import REDIS_UNAVAILABLE, RedisClient, pool_timeout

_hiredis_pack: Callable[..., bytes] | None
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover - optional speed-up
    _hiredis_pack = None

# Replies meaning the call did not run here (MOVED is an AskError); the cluster client resends.
NOT_RUN_HERE = (AskError, TryAgainError, ClusterDownError)
# How long a master may wait for its replica to confirm a batch of writes.
REPLICA_ACK_TIMEOUT_MS = 1000
# The slot map is fetched again at most this often while a master is unreachable.
TOPOLOGY_REFRESH_S = 0.2
# How long a master's count of in-sync replicas is trusted before it is asked again.
REPLICA_CHECK_S = 2.0
# Connection settings a per-master client copies from the cluster client.
_NODE_KWARGS = ("username", "password", "socket_timeout", "socket_connect_timeout", "client_name")


class NotReplicated(RedisError):
    """A master ran a batch but its replica did not confirm it in time; the caller gets 503."""


class HiredisPackingConnection(Connection):
    """A TCP connection whose commands are packed by hiredis."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The RESP bytes of one command; a command name like "SCRIPT LOAD" is split."""
        assert _hiredis_pack is not None
        head = args[0]
        if (isinstance(head, str) and " " in head) or (isinstance(head, bytes) and b" " in head):
            args = (*head.split(), *args[1:])
        return [_hiredis_pack(args)]


def script_client(redis: RedisClient) -> tuple[RedisClient, bool]:
    """A client for script calls, and whether it is a new one the caller must close."""
    if isinstance(redis, RedisCluster):
        return redis, False  # the runner keeps its own fast client per master
    pool = redis.connection_pool
    known = type(pool) in (ConnectionPool, BlockingConnectionPool)
    if _hiredis_pack is None or not known or pool.connection_class is not Connection:
        return redis, False
    fast_pool = BlockingConnectionPool(
        connection_class=HiredisPackingConnection,
        max_connections=pool.max_connections,
        timeout=pool_timeout(redis),
        **pool.connection_kwargs,
    )
    return aioredis.Redis(connection_pool=fast_pool), True


def node_client(cluster: RedisCluster, node: ClusterNode) -> aioredis.Redis:
    """A fast client for one cluster node that never resends a command itself.

    A resent script could run twice, so a lost connection fails the calls on it
    (503 to their requests) instead.
    """
    given = cluster.connection_kwargs
    connection_class = given.get("connection_class", Connection)
    tls = connection_class is not Connection  # keep the cluster's TLS connections as they are
    if not tls and _hiredis_pack is not None:
        connection_class = HiredisPackingConnection
    settings = {k: v for k, v in given.items() if k in _NODE_KWARGS or (tls and "ssl" in k)}
    pool = BlockingConnectionPool(
        connection_class=connection_class,
        host=node.host,
        port=int(node.port),
        max_connections=given.get("max_connections", 100),
        timeout=pool_timeout(cluster),
        retry=Retry(NoBackoff(), 0),
        **settings,
    )
    return aioredis.Redis(connection_pool=pool)


class ScriptRunner:
    """Runs scripts by SHA, sending the calls made in one event-loop turn as one pipeline.

    Every EVALSHA stays one atomic script in Redis; batching only shares the network
    round trip and the system calls between concurrent requests, which is where a
    busy server spends its time. A batch waits for the one before it, so batches
    grow with load and stay at one call when the server is idle. After NOSCRIPT
    (Redis restarted or flushed its scripts) the script is loaded and the call
    sent once more.

    On a Redis Cluster each master has its own batches (one down slows no other),
    each ending with `WAIT 1` (see _Lane), so a failover never loses a fencing
    number or hold a buyer was told about. A call answered MOVED/ASK/TRYAGAIN/
    CLUSTERDOWN did not run: it goes through the cluster client, which follows
    redirections. A lost connection fails its calls and has the slot map fetched
    again, so calls reach the new master once a replica has taken over.
    """

    def __init__(self, redis: RedisClient) -> None:
        self._cluster = redis if isinstance(redis, RedisCluster) else None
        self._single = None if isinstance(redis, RedisCluster) else _Lane(redis, self, False)
        self._lanes: dict[str, _Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._refreshed_at = time.monotonic()

    async def run(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
        """Run one script and return its reply (raises what redis-py would raise)."""
        call = _Call(script, keys, args, asyncio.get_running_loop().create_future())
        lane = self._single or await self._cluster_lane(call)
        lane.add(call)
        return await call.future

    async def aclose(self) -> None:
        """Close the per-master clients (the client given to the runner stays open)."""
        lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:
            await lane.redis.aclose()

    async def _cluster_lane(self, call: _Call) -> _Lane:
        """The lane of the master that serves the call's first key (any master if none)."""
        cluster = self._cluster
        assert cluster is not None
        await cluster.initialize()
        key = call.keys[0] if call.keys else None
        node = cluster.get_default_node() if key is None else cluster.get_node_from_key(key)
        assert node is not None
        lane = self._lanes.get(node.name)
        if lane is None:
            lane = self._lanes[node.name] = _Lane(node_client(cluster, node), self, True)
        return lane

    def not_run_here(self, call: _Call) -> bool:
        """Send a call again through the cluster client; False when that is not possible."""
        if self._cluster is None or call.redirected:
            return False
        call.redirected = True
        self._spawn(self._via_cluster(call))
        return True

    def refresh_slot_map(self) -> None:
        """Fetch the slot map again in the background (at most every TOPOLOGY_REFRESH_S)."""
        cluster = self._cluster
        now = time.monotonic()
        if cluster is None or now - self._refreshed_at < TOPOLOGY_REFRESH_S:
            return
        self._refreshed_at = now
        self._spawn(self._refresh(cluster))

    async def _refresh(self, cluster: RedisCluster) -> None:
        # When no node of the map answers, the next failure tries again.
        with contextlib.suppress(*REDIS_UNAVAILABLE):
            await cluster.nodes_manager.initialize()

    async def _via_cluster(self, call: _Call) -> None:
        try:
            call.settle(await call.script(keys=call.keys, args=call.args, client=self._cluster))
        except Exception as exc:
            call.settle(exc)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Lane:
    """The calls bound for one Redis server, sent one pipeline at a time.

    A lane of a cluster master (`confirm_replica`) ends each batch with `WAIT 1` while
    the master has a replica online, and fails the batch if that replica does not
    confirm it in time; a master with no replica online has no one to fail over to.
    """

    def __init__(self, redis: aioredis.Redis, runner: ScriptRunner, confirm_replica: bool) -> None:
        self.redis = redis
        self._runner = runner
        self._pending: list[_Call] = []
        self._flushing: asyncio.Task[None] | None = None
        self._confirm_replica = confirm_replica
        self._replicas = 0
        self._replicas_seen_at = -REPLICA_CHECK_S

    def add(self, call: _Call) -> None:
        """Queue a call; it goes out with the next batch."""
        self._pending.append(call)
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                await self._settle(batch, await self._send(batch))
        finally:
            self._flushing = None

    async def _send(self, batch: list[_Call]) -> list[Any]:
        """One reply (or exception) per call of the batch."""
        try:
            wait_for_replica = await self._replica_online()
            async with self.redis.pipeline(transaction=False) as pipe:
                for call in batch:
                    pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
                if wait_for_replica:
                    pipe.execute_command("WAIT", 1, REPLICA_ACK_TIMEOUT_MS)
                replies: list[Any] = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the connection failed: every call fails alike
            self._runner.refresh_slot_map()
            return [exc] * len(batch)
        if wait_for_replica:
            acked = replies.pop()
            if not isinstance(acked, int) or acked < 1:
                self._replicas_seen_at = -REPLICA_CHECK_S
                try:
                    still_there = await self._replica_online()
                except Exception:
                    still_there = True
                if still_there:
                    return [NotReplicated("the replica did not confirm in time")] * len(batch)
        return replies

    async def _replica_online(self) -> bool:
        """Whether this master has a replica online (asked again every REPLICA_CHECK_S)."""
        if not self._confirm_replica:
            return False
        now = time.monotonic()
        if now - self._replicas_seen_at >= REPLICA_CHECK_S:
            info = await self.redis.info("replication")
            self._replicas = sum(
                1
                for name, value in info.items()
                if name.startswith("slave")
                and isinstance(value, dict)
                and value.get("state") == "online"
            )
            self._replicas_seen_at = now
        return self._replicas > 0

    async def _settle(self, batch: list[_Call], replies: list[Any]) -> None:
        reload: dict[str, AsyncScript] = {}
        for call, reply in zip(batch, replies, strict=True):
            if call.future.done():
                continue
            if isinstance(reply, NoScriptError) and not call.retried:
                call.retried = True
                reload[call.script.sha] = call.script
                self._pending.append(call)
            elif not (isinstance(reply, NOT_RUN_HERE) and self._runner.not_run_here(call)):
                call.settle(reply)
        for script in reload.values():
            try:
                await self.redis.script_load(script.script)
            except Exception as exc:
                for call in [c for c in self._pending if c.script is script]:
                    self._pending.remove(call)
                    call.settle(exc)


@dataclass(slots=True)
class _Call:
    script: AsyncScript
    keys: list[Any]
    args: list[Any]
    future: asyncio.Future[Any]
    retried: bool = False
    redirected: bool = False

    def settle(self, outcome: Any) -> None:
        """Give the caller its reply, or raise the exception it is, unless already done."""
        if self.future.done():
            return
        if isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)
