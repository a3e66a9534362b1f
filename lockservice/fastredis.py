"""A Redis client for the lock service's scripts that packs commands in C when it can.

redis-py's asyncio connections build every command in Python, which costs more
than the HOLD script itself runs in Redis. With `hiredis` installed, the script
client packs commands with `hiredis.pack_command`; everything else (pooling,
errors, reconnects, parsing) stays redis-py's. Without hiredis, or for
connection types this does not know, the context's own client is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import Connection, ConnectionPool
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

_hiredis_pack: Callable[..., bytes] | None
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover - optional speed-up
    _hiredis_pack = None


class HiredisPackingConnection(Connection):
    """A TCP connection whose commands are packed by hiredis."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The RESP bytes of one command; a command name like "SCRIPT LOAD" is split."""
        assert _hiredis_pack is not None
        head = args[0]
        if (isinstance(head, str) and " " in head) or (isinstance(head, bytes) and b" " in head):
            args = (*head.split(), *args[1:])
        return [_hiredis_pack(args)]


def script_client(redis: aioredis.Redis) -> tuple[aioredis.Redis, bool]:
    """A client for script calls, and whether it is a new one the caller must close."""
    pool = redis.connection_pool
    if _hiredis_pack is None or type(pool) is not ConnectionPool:
        return redis, False
    if pool.connection_class is not Connection:
        return redis, False
    fast_pool = ConnectionPool(
        connection_class=HiredisPackingConnection,
        max_connections=pool.max_connections,
        **pool.connection_kwargs,
    )
    return aioredis.Redis(connection_pool=fast_pool), True


class ScriptRunner:
    """Runs scripts by SHA, sending the calls made in one event-loop turn as one pipeline.

    Every EVALSHA stays one atomic script in Redis; batching only shares the network
    round trip and the system calls between concurrent requests, which is where a
    busy server spends its time. A batch waits for the one before it, so batches
    grow with load and stay at one call when the server is idle. After NOSCRIPT
    (Redis restarted or flushed its scripts) the script is loaded and the call
    sent once more.
    """

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._pending: list[_Call] = []
        self._flushing: asyncio.Task[None] | None = None

    async def run(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
        """Run one script and return its reply (raises what redis-py would raise)."""
        call = _Call(script, keys, args, asyncio.get_running_loop().create_future())
        self._pending.append(call)
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await call.future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for call in batch:
                            pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
                        replies = await pipe.execute(raise_on_error=False)
                except Exception as exc:  # the connection failed: every call fails alike
                    replies = [exc] * len(batch)
                await self._settle(batch, replies)
        finally:
            self._flushing = None

    async def _settle(self, batch: list[_Call], replies: list[Any]) -> None:
        reload: dict[str, AsyncScript] = {}
        for call, reply in zip(batch, replies, strict=True):
            if call.future.done():
                continue
            if isinstance(reply, NoScriptError) and not call.retried:
                call.retried = True
                reload[call.script.sha] = call.script
                self._pending.append(call)
            elif isinstance(reply, BaseException):
                call.future.set_exception(reply)
            else:
                call.future.set_result(reply)
        for script in reload.values():
            try:
                await self._redis.script_load(script.script)
            except Exception as exc:
                for call in [c for c in self._pending if c.script is script]:
                    self._pending.remove(call)
                    if not call.future.done():
                        call.future.set_exception(exc)


@dataclass(slots=True)
class _Call:
    script: AsyncScript
    keys: list[Any]
    args: list[Any]
    future: asyncio.Future[Any]
    retried: bool = False
