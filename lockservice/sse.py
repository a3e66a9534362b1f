"""Live seat changes as server-sent events: `GET /events/{id}/stream`.

Plain ASGI streaming. One broadcaster per event and process
(`lockservice.broadcaster`) follows the event through `ctx.feed` and writes each
message (`lockservice.ssewire`: the SSE `id` is a position, "Stream id.generation")
to every local client. A client that resumes with Last-Event-ID (header, or
`?last_event_id=` for the first connection) first gets exactly the entries after
that position, then the live ones, deduplicated by id; if that cannot be proven
complete (another life of the Stream, a position ahead of it, or further back
than the replay bounds) it gets `event: reset` and reloads `status.bin`
(`lockservice.snapshot`), whose ETag is the position it reflects.

Once the response has started, a failure ends that one stream cleanly (logged
once as a warning); the client reconnects with Last-Event-ID. Requests signed by
a GRIP proxy get the catch-up and are then handed to the proxy (`lockservice.grip`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from lockservice.broadcaster import Broadcaster
from lockservice.fanout import Connection
from lockservice.grip import hold_headers, via_grip_proxy
from lockservice.snapshot import SnapshotReader
from lockservice.ssewire import HEARTBEAT, sse_message
from seatmap.context import EventView, ServiceContext
from seatmap.errors import NotFound, ServiceUnavailable

__all__ = ["EventStream", "StreamHub", "sse_message"]

MAX_EVENT_ID = 2**63 - 1
RETRY_MS = 2000
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
RETRY = f"retry: {RETRY_MS}\n\n".encode()
SHUTDOWN = f"retry: {RETRY_MS}\n: server restarting\n\n".encode()
CATCH_UP_TURNS = 32


class StreamHub:
    """This process's broadcasters (one per event), snapshots, heartbeats, and the end."""

    def __init__(self, ctx: ServiceContext, heartbeat_s: float) -> None:
        self.ctx = ctx
        self.heartbeat_s = heartbeat_s
        self.broadcasters: dict[int, Broadcaster] = {}
        self.snapshots = SnapshotReader(ctx)
        self.turns = asyncio.Semaphore(CATCH_UP_TURNS)  # catch-ups being sent at once
        self.closed = False
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the heartbeat task."""
        self.closed = False
        if self._task is None:
            self._task = asyncio.create_task(self._beat(), name="sse-heartbeat")

    async def broadcaster(self, view: EventView) -> Broadcaster:
        """The running broadcaster of an event, started on first use."""
        found = self.broadcasters.get(view.event.id)
        if found is None or not found.alive:
            async with self._lock:
                found = self.broadcasters.get(view.event.id)
                if found is None or not found.alive:
                    found = Broadcaster(self.ctx, view)
                    self.broadcasters[view.event.id] = found
        await found.ready()
        return found

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for broadcaster in list(self.broadcasters.values()):
                broadcaster.broadcast(None, HEARTBEAT)

    def close_all(self) -> None:
        """End every stream now with a retry hint (the server is shutting down)."""
        self.closed = True
        for broadcaster in list(self.broadcasters.values()):
            for conn in list(broadcaster.connections):
                conn.end(SHUTDOWN)

    async def stop(self) -> None:
        """End every stream, the heartbeat and the broadcasters."""
        self.close_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for broadcaster in list(self.broadcasters.values()):
            await broadcaster.stop()
        self.broadcasters.clear()


class EventStream:
    """The ASGI endpoint of `GET /events/{event_id}/stream`."""

    def __init__(self, ctx: ServiceContext, hub: StreamHub) -> None:
        self._ctx = ctx
        self._hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        event_id = int(scope["path_params"]["event_id"])
        if event_id > MAX_EVENT_ID:
            raise NotFound(f"event {event_id} does not exist")
        view = await self._ctx.catalog.get(event_id)
        last_id = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
        handed_over = via_grip_proxy(request.headers.get("grip-sig"), self._ctx.settings)
        del request
        if self._hub.closed:
            raise ServiceUnavailable("the server is shutting down", retry_after_s=2)
        # Streams start in turns (CATCH_UP_TURNS at a time), so a reconnect storm is served
        # in many short steps of the event loop, not one long one; a turn never waits for a
        # client's socket.
        conn: Connection | None = None
        try:
            async with self._hub.turns:
                broadcaster = await self._hub.broadcaster(view)
                if handed_over:
                    await self._hand_over(send, broadcaster, last_id)
                    return
                conn = Connection(send, broadcaster)
                broadcaster.connections.add(conn)
                self._ctx.metrics.sse_connections.inc()
                begin = self._begin(conn, broadcaster, last_id)
                started = await self._ended_on_error(conn, send, begin)
            if started and await self._ended_on_error(conn, send, self._go_live(conn)):
                while (await receive())["type"] != "http.disconnect":
                    pass
        finally:
            if conn is not None:
                conn.closed = True
                broadcaster.connections.discard(conn)
                self._ctx.metrics.sse_connections.dec()

    @staticmethod
    async def _begin(conn: Connection, broadcaster: Broadcaster, last_id: str | None) -> bool:
        """Send the head, the retry hint and what the client missed (never waiting for it)."""
        await conn.send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        payload, sid = await broadcaster.catch_up(last_id)
        if sid is not None:
            conn.resume_at(sid)
        conn.write(RETRY + payload)
        return True

    async def _go_live(self, conn: Connection) -> bool:
        """Send what queued meanwhile, then live messages; False if the server is closing."""
        await conn.go_live()
        if self._hub.closed:
            conn.end(SHUTDOWN)
            return False
        return True

    @staticmethod
    async def _ended_on_error(conn: Connection, send: Send, step: Awaitable[bool]) -> bool:
        """Run a step of a started response; an error ends this stream only (one warning)."""
        try:
            return await step
        except Exception as exc:
            conn.fail(exc)
            with contextlib.suppress(Exception):
                await _body(send, b"", more=False)
            return False

    async def _hand_over(self, send: Send, broadcaster: Broadcaster, last_id: str | None) -> None:
        """Answer with the catch-up and let the GRIP proxy hold the stream open."""
        payload, _ = await broadcaster.catch_up(last_id)
        body = RETRY + payload
        headers = [*hold_headers(self._ctx.settings, broadcaster.event_id)]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _body(send: Send, data: bytes, more: bool = True) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": more})
