"""Live seat changes as server-sent events: `GET /events/{id}/stream`.

Plain ASGI streaming. One broadcaster per event and process
(`lockservice.broadcaster`) follows the event through `ctx.feed` and writes each
message (`lockservice.ssewire`: the SSE `id` is a position, "Stream id.generation")
to every local client. A client that resumes with Last-Event-ID (header, or
`?last_event_id=` for the first connection) first gets exactly the entries after
that position, then the live ones, deduplicated by id; if that cannot be proven
complete (another life of the Stream, a position ahead of it, further back
than the replay bounds, or not a position at all) it gets `event: reset` and
reloads `status.bin` (`lockservice.snapshot`), whose ETag is the position it
reflects. That is decided before the response starts, and never fails the stream.

Once the response has started, a failed write ends that one stream (logged once
as a warning): the endpoint returns, the server closes the socket and the client
reconnects with Last-Event-ID. A stream is never left open and silent. Nor does
it stay open once nothing more can come: when a broadcaster's reader ends
unexpectedly (its change feed stopped, a bug), the hub forgets that broadcaster
and ends each of its streams with a retry hint (counted as a "reader_ended" drop),
and the reconnecting clients get a new broadcaster, or 503 + Retry-After if none
can follow the event yet. A broadcaster that has had no stream for `idle_s` is
stopped (checked with every heartbeat), so the change feed can stop following an
event nobody watches any more. Requests signed by a GRIP proxy get the catch-up
and are then handed to the proxy (`lockservice.grip`).
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from lockservice.broadcaster import Broadcaster
from lockservice.fanout import Connection
from lockservice.grip import grip_last, hold_headers, via_grip_proxy
from lockservice.snapshot import SnapshotReader
from lockservice.ssewire import HEARTBEAT, sse_message
from seatmap.context import EventView, ServiceContext
from seatmap.errors import NotFound, ServiceUnavailable
from seatmap.metrics import SSE_DROP_REASONS

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
READER_ENDED = f"retry: {RETRY_MS}\n: live updates interrupted\n\n".encode()
CATCH_UP_TURNS = 32
BROADCASTER_IDLE_S = 300.0  # a broadcaster without streams this long is stopped


class StreamHub:
    """This process's broadcasters (one per event), snapshots, heartbeats, and the end."""

    def __init__(
        self, ctx: ServiceContext, heartbeat_s: float, idle_s: float = BROADCASTER_IDLE_S
    ) -> None:
        self.ctx = ctx
        self.heartbeat_s = heartbeat_s
        self.idle_s = idle_s
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
        """The running broadcaster of an event, started on first use; it counts as used now."""
        found = self.broadcasters.get(view.event.id)
        if found is None or not found.alive:
            async with self._lock:
                found = self.broadcasters.get(view.event.id)
                if found is None or not found.alive:
                    found = Broadcaster(self.ctx, view, on_end=self._reader_ended)
                    self.broadcasters[view.event.id] = found
        await found.ready()
        found.used_at = asyncio.get_running_loop().time()
        return found

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for broadcaster in list(self.broadcasters.values()):
                if broadcaster.alive:
                    broadcaster.broadcast(None, HEARTBEAT)
            await self._stop_idle()

    async def _stop_idle(self) -> None:
        """Stop every broadcaster that has had no stream for `idle_s`."""
        now = asyncio.get_running_loop().time()
        idle = [b for b in self.broadcasters.values()
                if not b.connections and now - b.used_at >= self.idle_s]  # fmt: skip
        for broadcaster in idle:  # forgotten first: no new stream is given a stopping one
            del self.broadcasters[broadcaster.event_id]
        for broadcaster in idle:
            await broadcaster.stop()

    def _reader_ended(self, broadcaster: Broadcaster) -> None:
        """Forget a broadcaster whose reader ended and end its streams with a retry hint:
        their clients reconnect, to a new broadcaster."""
        if self.broadcasters.get(broadcaster.event_id) is broadcaster:
            del self.broadcasters[broadcaster.event_id]
        for conn in list(broadcaster.connections):
            if conn.on_drop is not None:
                conn.on_drop("reader_ended")
            conn.end(READER_ENDED)

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
        self._drops = {r: ctx.metrics.sse_drops.labels(r) for r in SSE_DROP_REASONS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        event_id = int(scope["path_params"]["event_id"])
        if event_id > MAX_EVENT_ID:
            raise NotFound(f"event {event_id} does not exist")
        view = await self._ctx.catalog.get(event_id)
        last_id = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
        handed_over = via_grip_proxy(request.headers.get("grip-sig"), self._ctx.settings)
        if handed_over:  # the proxy recovering a gap names what its connection has
            grip_at = grip_last(request.headers.getlist("grip-last"), self._ctx.settings, event_id)
            last_id = grip_at or last_id
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
                conn = Connection(send, broadcaster, self._dropped)
                broadcaster.connections.add(conn)
                self._ctx.metrics.sse_connections.inc()
                started = await self._begin(conn, broadcaster, last_id)
            if started:
                if self._hub.closed:
                    conn.end(SHUTDOWN)
                await _until_done(conn, receive)
        finally:
            if conn is not None:
                conn.stop()
                broadcaster.connections.discard(conn)
                broadcaster.used_at = asyncio.get_running_loop().time()
                self._ctx.metrics.sse_connections.dec()

    def _dropped(self, reason: str) -> None:
        """Count a stream that lost messages or was ended by a failed write."""
        self._drops[reason].inc()

    @staticmethod
    async def _begin(conn: Connection, broadcaster: Broadcaster, last_id: str | None) -> bool:
        """Send the head, the retry hint and what the client missed (never waiting for it).

        What the client missed is worked out before the head goes out, and whatever
        goes wrong there ends in `reset`, never in a dropped stream. False if the head
        could not be sent (the stream is over).
        """
        payload, sid = await broadcaster.resume(last_id)
        if sid is not None:
            conn.resume_at(sid)
        try:
            await conn.send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        except Exception as exc:
            conn.fail(exc)
            return False
        conn.begin(RETRY + payload)
        return True

    async def _hand_over(self, send: Send, broadcaster: Broadcaster, last_id: str | None) -> None:
        """Answer with the catch-up and let the GRIP proxy hold the stream open."""
        payload, _ = await broadcaster.resume(last_id)
        # `resume` decides at the broadcaster's position and does not wait after that: the
        # payload ends there, and the proxy delivers only what follows it (prev-id).
        prev_id, _ = broadcaster.position()
        body = RETRY + payload
        headers = [*hold_headers(self._ctx.settings, broadcaster.event_id, prev_id)]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _until_done(conn: Connection, receive: Receive) -> None:
    """Wait until the client goes away or nothing more will be written to it (the stream
    ended, or a write failed): then the endpoint returns and the server closes the socket."""
    if conn.finished.done():
        return
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait({gone, conn.finished}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
