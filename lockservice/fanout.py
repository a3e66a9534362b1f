"""Fan change-log entries out to this process's SSE connections: one broadcaster per event.

A broadcaster holds the process's only SSE subscription of its event (on the
shared `ctx.feed` follower) and writes each message to every connection itself,
in one loop: no task wakes up per client. A write normally completes at once
(uvicorn hands it to the socket); only when a client stops reading does its send
wait for the socket to drain, and then `Connection` finishes that send in a task
of its own and queues that client's next messages, so one slow client never
delays the others. A client that falls too far behind gets `event: reset`.

`Connection.write` starts the ASGI send coroutine by hand and only makes a task
if it has to wait, like an eagerly started task (`eager_start` in Python 3.12).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import orjson

from seatmap.changefeed import ChangeEntry, Subscription
from seatmap.context import ServiceContext
from seatmap.errors import ServiceUnavailable

log = logging.getLogger(__name__)

StreamId = tuple[int, int]
MAX_QUEUED_PER_CLIENT = 256
HEARTBEAT = b": hb\n\n"


def stream_id(text: str) -> StreamId:
    """A Stream id "ms-seq" as a comparable pair."""
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def reset_message(last_id: str, reason: str) -> bytes:
    """`event: reset`: reload the status snapshot; resume from `last_id` afterwards."""
    data = orjson.dumps({"reason": reason}).decode()
    id_line = f"id: {last_id}\n" if last_id != "0-0" else ""
    return f"{id_line}event: reset\ndata: {data}\n\n".encode()


class Connection:
    """One open SSE response, written to by its endpoint task and by the broadcaster."""

    __slots__ = (
        "_drain_task",
        "_queued",
        "catching_up",
        "closed",
        "lagged",
        "send",
        "sent",
        "source",
    )

    def __init__(
        self, send: Callable[[dict[str, Any]], Awaitable[None]], source: Broadcaster
    ) -> None:
        self.send = send
        self.source = source
        self.sent: StreamId = (-1, -1)  # newest entry this client has
        self.catching_up = True  # the endpoint is still sending the backlog
        self.closed = False
        self.lagged = False
        self._queued: deque[tuple[StreamId | None, bytes]] | None = None
        self._drain_task: asyncio.Task[None] | None = None

    def deliver(self, sid: StreamId | None, data: bytes) -> None:
        """Send a message now, or queue it while the client catches up or drains."""
        if self.closed:
            return
        if self.catching_up or self._drain_task is not None:
            queued = self._queued if self._queued is not None else deque()
            self._queued = queued
            if len(queued) >= MAX_QUEUED_PER_CLIENT:
                queued.clear()
                self.lagged = True
            queued.append((sid, data))
            return
        if sid is not None:
            if sid <= self.sent:
                return
            self.sent = sid
        self.write(data)

    def write(self, data: bytes, more: bool = True) -> None:
        """Start the ASGI send; if it must wait for the socket, finish it in a task."""
        coro = self.send({"type": "http.response.body", "body": data, "more_body": more})
        assert isinstance(coro, Coroutine)
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:
            log.exception("SSE write failed")
            self.closed = True
            return
        self._drain_task = asyncio.create_task(self._drain(coro, waiting))

    def end(self, data: bytes) -> None:
        """Write a last message and complete the response (if nothing is in flight)."""
        if not self.closed and not self.catching_up and self._drain_task is None:
            self.write(data, more=False)
        self.closed = True

    async def _drain(self, coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
        try:
            await _finish(coro, waiting)
            await self.flush()
        except Exception:
            self.closed = True
        finally:
            self._drain_task = None

    async def flush(self) -> None:
        """Send everything queued (skipping what the client has), then go live."""
        while self._queued:
            sid, data = self._queued.popleft()
            if self.lagged:
                self._queued.clear()
                self.lagged = False
                data, sid = reset_message(self.source.last_id, "lagged"), None
            if sid is not None:
                if sid <= self.sent:
                    continue
                self.sent = sid
            await self.send({"type": "http.response.body", "body": data, "more_body": True})
        self.catching_up = False


async def _finish(coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
    """Drive a coroutine that was started by hand and is waiting on `waiting`."""
    while True:
        try:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                await waiting
        except BaseException as exc:  # hand failures (and cancellation) to the coroutine
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting = coro.send(None)
        except StopIteration:
            return


class Broadcaster:
    """The one subscriber of an event's change log that serves its local SSE clients."""

    def __init__(
        self, ctx: ServiceContext, event_id: int, render: Callable[[ChangeEntry], bytes]
    ) -> None:
        self.ctx = ctx
        self.event_id = event_id
        self.connections: set[Connection] = set()
        self.last_id = "0-0"
        self._render = render
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"sse-broadcast-{event_id}")

    @property
    def alive(self) -> bool:
        """False once the broadcaster has stopped (it could not subscribe)."""
        return not self._task.done()

    async def ready(self) -> None:
        """Wait until the broadcaster receives every entry from now on."""
        waiter = asyncio.ensure_future(self._ready.wait())
        await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not self._ready.is_set():
            waiter.cancel()
            raise ServiceUnavailable("live updates are unavailable right now", retry_after_s=2)

    async def _run(self) -> None:
        async with self.ctx.feed.subscribe(self.event_id) as sub:
            self.last_id = (await self.ctx.feed.follower(self.event_id)).last_id
            self._ready.set()
            while True:
                entry = await sub.queue.get()
                try:
                    await self._handle(sub, entry)
                except Exception:  # one bad entry must not silence every client
                    log.exception("SSE broadcast of event %s failed", self.event_id)

    async def _handle(self, sub: Subscription, entry: ChangeEntry) -> None:
        if sub.lagged:  # this process fell behind the log: everyone reloads
            while not sub.queue.empty():
                sub.queue.get_nowait()
            sub.lagged = False
            self.last_id = (await self.ctx.feed.follower(self.event_id)).last_id
            self.broadcast(None, reset_message(self.last_id, "lagged"))
            return
        self.last_id = entry.id
        if self.connections:  # rendering (dirty tiles) only pays off with clients
            self.broadcast(stream_id(entry.id), self._render(entry))

    def broadcast(self, sid: StreamId | None, data: bytes) -> None:
        """Hand one message to every connection."""
        for conn in list(self.connections):
            conn.deliver(sid, data)

    async def stop(self) -> None:
        """Stop following the event."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
