"""Live seat changes as server-sent events, and the status snapshot they start from.

`GET /events/{id}/stream` is plain ASGI streaming. One broadcaster per event
and process (`lockservice.fanout`) follows the event through `ctx.feed` and
writes each change, serialised once, to every local client. Message: SSE `id` =
the change-log Stream id, `data` =
`{"kind", "seats": [[index, status], ...], "dirty": {"z": [[x0, y0, x1, y1], ...]}}`
with public statuses (confirming shows as held). A client that reconnects with
Last-Event-ID (header, or `?last_event_id=` for the first connection) first gets
exactly the entries after that id from XRANGE, then the live ones, deduplicated
by id; if entries it needs were trimmed it gets `event: reset` (reload
`status.bin`, whose ETag is the Stream id it reflects).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import orjson
from redis.exceptions import ResponseError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from lockservice.fanout import (
    HEARTBEAT,
    Broadcaster,
    Connection,
    StreamId,
    reset_message,
    stream_id,
)
from lockservice.keys import event_keys
from lockservice.reconcile import ensure_event_state
from seatmap.changefeed import ChangeEntry, parse_entry
from seatmap.context import EventView, ServiceContext
from seatmap.errors import NotFound, ServiceUnavailable
from seatmap.grid import dirty_tiles
from seatmap.livekeys import STREAM_MAXLEN
from seatmap.status import PUBLIC_STATUS

MAX_EVENT_ID = 2**63 - 1
STREAM_ID_RE = re.compile(r"^(\d{1,20})-(\d{1,20})$")
RETRY_MS = 2000
BACKLOG_BATCH = 1000
MEMO_KEY = "lockservice.sse"
PUBLIC_TABLE = bytes(PUBLIC_STATUS.get(i, i) for i in range(256))
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def sse_message(entry: ChangeEntry, view: EventView) -> bytes:
    """The SSE bytes of one change-log entry, built once per entry and process."""
    cached: bytes | None = entry.memo.get(MEMO_KEY)
    if cached is None:
        if entry.kind == "reset":
            cached = f"id: {entry.id}\nevent: reset\ndata: {{}}\n\n".encode()
        else:
            status = PUBLIC_STATUS.get(entry.status, entry.status)
            dirty = dirty_tiles(view.venue, view.grid, entry.seats)
            data = orjson.dumps(
                {
                    "kind": entry.kind,
                    "seats": [[s, status] for s in entry.seats.tolist()],
                    "dirty": {str(z): rects for z, rects in dirty.items()},
                }
            )
            cached = b"id: " + entry.id.encode() + b"\ndata: " + data + b"\n\n"
        entry.memo[MEMO_KEY] = cached
    return cached


SHUTDOWN = f"retry: {RETRY_MS}\n: server restarting\n\n".encode()


class StreamHub:
    """This process's broadcasters (one per event), heartbeats, and the end at shutdown."""

    def __init__(self, ctx: ServiceContext, heartbeat_s: float) -> None:
        self.ctx = ctx
        self.heartbeat_s = heartbeat_s
        self.broadcasters: dict[int, Broadcaster] = {}
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
                    found = Broadcaster(self.ctx, view.event.id, lambda e: sse_message(e, view))
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
        del request
        if self._hub.closed:
            raise ServiceUnavailable("the server is shutting down", retry_after_s=2)
        broadcaster = await self._hub.broadcaster(view)
        conn = Connection(send, broadcaster)
        broadcaster.connections.add(conn)
        self._ctx.metrics.sse_connections.inc()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await self._body(send, f"retry: {RETRY_MS}\n\n".encode())
            conn.sent = max(conn.sent, await self._backlog(send, view, last_id))
            await conn.flush()  # what arrived meanwhile, then live
            if self._hub.closed:
                await self._body(send, SHUTDOWN, more=False)
                return
            while (await receive())["type"] != "http.disconnect":
                pass
        finally:
            conn.closed = True
            broadcaster.connections.discard(conn)
            self._ctx.metrics.sse_connections.dec()

    @staticmethod
    async def _body(send: Send, data: bytes, more: bool = True) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": more})

    async def _backlog(self, send: Send, view: EventView, last_id: str | None) -> StreamId:
        """Send what a resuming client missed; returns the newest id it now has."""
        if last_id is None:
            return (-1, -1)
        key = event_keys(self._ctx.settings.redis_prefix, view.event.id).log
        match = STREAM_ID_RE.match(last_id.strip())
        info = await self._stream_info(key)
        tail = info.get("last-generated-id", "0-0")
        if (
            match is None
            or self._trimmed(info, stream_id(last_id))
            or (stream_id(last_id) > stream_id(tail))
        ):
            await self._body(send, reset_message(tail, "resume_unavailable"))
            return stream_id(tail)
        sent = stream_id(last_id)
        while True:
            start = f"{sent[0]}-{sent[1] + 1}"
            batch: Any = await self._ctx.redis.xrange(key, min=start, count=BACKLOG_BATCH)
            for entry_id, fields in batch:
                entry = parse_entry(entry_id, fields)
                await self._body(send, sse_message(entry, view))
                sent = stream_id(entry.id)
            if len(batch) < BACKLOG_BATCH:
                return sent

    async def _stream_info(self, key: str) -> dict[str, Any]:
        try:
            raw = await self._ctx.redis.xinfo_stream(key)
        except ResponseError:  # no such stream: nothing to resume from
            return {}
        return {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()
        }

    @staticmethod
    def _trimmed(info: dict[str, Any], last: StreamId) -> bool:
        """Whether entries after `last` may be missing (trimmed, or no stream at all)."""
        first = info.get("first-entry")
        if not first:
            return True
        first_id = first[0].decode() if isinstance(first[0], bytes) else str(first[0])
        if last >= stream_id(first_id):
            return False
        added = info.get("entries-added")  # Redis 7; Redis 6 trims only once full
        if added is None:
            return int(info.get("length", 0)) >= STREAM_MAXLEN
        return int(added) > int(info.get("length", 0))


async def status_bin(ctx: ServiceContext, view: EventView, request: Request) -> Response:
    """`GET /events/{id}/status.bin`: one public status byte per seat; ETag = Stream id."""
    keys = event_keys(ctx.settings.redis_prefix, view.event.id)
    for _ in range(2):
        async with ctx.redis.pipeline(transaction=True) as pipe:
            pipe.get(keys.status)
            pipe.xrevrange(keys.log, count=1)
            raw, newest = await pipe.execute()
        if raw is not None:
            break
        await ensure_event_state(ctx, view.event.id)
    last_id = newest[0][0].decode() if newest else "0-0"
    etag = f'"{last_id}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Last-Event-ID": last_id}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = (raw or b"").translate(PUBLIC_TABLE)[: view.venue.seat_count]
    body += bytes(view.venue.seat_count - len(body))
    return Response(body, media_type="application/octet-stream", headers=headers)
