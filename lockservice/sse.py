"""Live seat changes as server-sent events, and the status snapshot they start from.

`GET /events/{id}/stream` is plain ASGI streaming. Every connection subscribes
to the process's one follower of the event (`ctx.feed`), so a change is read
from Redis once per process and serialised once (cached in the entry's memo)
for all local clients. Message: SSE `id` = the change-log Stream id, `data` =
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

import numpy as np
import orjson
from redis.exceptions import ResponseError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from lockservice.keys import event_keys
from lockservice.reconcile import ensure_event_state
from seatmap.changefeed import ChangeEntry, Subscription, parse_entry
from seatmap.context import EventView, ServiceContext
from seatmap.errors import NotFound
from seatmap.grid import dirty_tiles
from seatmap.livekeys import STREAM_MAXLEN
from seatmap.status import PUBLIC_STATUS

MAX_EVENT_ID = 2**63 - 1
STREAM_ID_RE = re.compile(r"^(\d{1,20})-(\d{1,20})$")
RETRY_MS = 2000
BACKLOG_BATCH = 1000
MEMO_KEY = "lockservice.sse"
HEARTBEAT = ChangeEntry("", "_heartbeat", 0, np.empty(0, np.int64))
CLOSE = ChangeEntry("", "_close", 0, np.empty(0, np.int64))
PUBLIC_TABLE = bytes(PUBLIC_STATUS.get(i, i) for i in range(256))
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def _sid(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


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


def _reset_message(stream_id: str, reason: str) -> bytes:
    data = orjson.dumps({"reason": reason}).decode()
    id_line = f"id: {stream_id}\n" if stream_id != "0-0" else ""
    return f"{id_line}event: reset\ndata: {data}\n\n".encode()


class Connection:
    """One open stream: its subscription and whether it should end."""

    __slots__ = ("closing", "shutdown", "sub")

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self.closing = False
        self.shutdown = False

    def wake(self, entry: ChangeEntry) -> None:
        """Queue a control entry without ever blocking or marking the client lagged."""
        with contextlib.suppress(asyncio.QueueFull):
            self.sub.queue.put_nowait(entry)


class StreamHub:
    """This process's open streams: sends heartbeats, and ends them all at shutdown."""

    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self.connections: set[Connection] = set()
        self.closed = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the heartbeat task."""
        self.closed = False
        if self._task is None:
            self._task = asyncio.create_task(self._beat(), name="sse-heartbeat")

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for conn in list(self.connections):
                conn.wake(HEARTBEAT)

    def close_all(self) -> None:
        """Ask every stream to end now with a retry hint (server shutting down)."""
        self.closed = True
        for conn in list(self.connections):
            conn.shutdown = conn.closing = True
            conn.wake(CLOSE)

    async def stop(self) -> None:
        """End every stream and the heartbeat task."""
        self.close_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


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
        if self._hub.closed:
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"retry-after", b"2"), (b"content-type", b"application/json")],
                }
            )
            body = b'{"error":"service_unavailable","detail":"shutting down"}'
            await send({"type": "http.response.body", "body": body})
            return
        async with self._ctx.feed.subscribe(view.event.id) as sub:
            conn = Connection(sub)
            self._hub.connections.add(conn)
            self._ctx.metrics.sse_connections.inc()
            watcher = asyncio.create_task(self._watch(receive, conn))
            try:
                await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
                await self._body(send, f"retry: {RETRY_MS}\n\n".encode())
                sent = await self._backlog(send, view, last_id)
                await self._live(send, view, conn, sent)
            finally:
                watcher.cancel()
                self._hub.connections.discard(conn)
                self._ctx.metrics.sse_connections.dec()

    @staticmethod
    async def _body(send: Send, data: bytes, more: bool = True) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": more})

    @staticmethod
    async def _watch(receive: Receive, conn: Connection) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        conn.closing = True
        conn.wake(CLOSE)

    async def _backlog(self, send: Send, view: EventView, last_id: str | None) -> tuple[int, int]:
        """Send what a resuming client missed; returns the newest id it now has."""
        if last_id is None:
            return (-1, -1)
        key = event_keys(self._ctx.settings.redis_prefix, view.event.id).log
        match = STREAM_ID_RE.match(last_id.strip())
        info = await self._stream_info(key)
        tail = info.get("last-generated-id", "0-0")
        if match is None or self._trimmed(info, _sid(last_id)) or _sid(last_id) > _sid(tail):
            await self._body(send, _reset_message(tail, "resume_unavailable"))
            return _sid(tail)
        sent = _sid(last_id)
        while True:
            start = f"{sent[0]}-{sent[1] + 1}"
            batch: Any = await self._ctx.redis.xrange(key, min=start, count=BACKLOG_BATCH)
            for entry_id, fields in batch:
                entry = parse_entry(entry_id, fields)
                await self._body(send, sse_message(entry, view))
                sent = _sid(entry.id)
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
    def _trimmed(info: dict[str, Any], last: tuple[int, int]) -> bool:
        """Whether entries after `last` may be missing (trimmed, or no stream at all)."""
        first = info.get("first-entry")
        if not first:
            return True
        first_id = first[0].decode() if isinstance(first[0], bytes) else str(first[0])
        if last >= _sid(first_id):
            return False
        added = info.get("entries-added")  # Redis 7; Redis 6 trims only once full
        if added is None:
            return int(info.get("length", 0)) >= STREAM_MAXLEN
        return int(added) > int(info.get("length", 0))

    async def _live(
        self, send: Send, view: EventView, conn: Connection, sent: tuple[int, int]
    ) -> None:
        sub = conn.sub
        while not conn.closing:
            entry = await sub.queue.get()
            if sub.lagged:
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                sub.lagged = False
                follower = await self._ctx.feed.follower(view.event.id)
                sent = _sid(follower.last_id)
                await self._body(send, _reset_message(follower.last_id, "lagged"))
                continue
            if entry is HEARTBEAT:
                await self._body(send, b": hb\n\n")
            elif entry.id and _sid(entry.id) > sent:
                sent = _sid(entry.id)
                await self._body(send, sse_message(entry, view))
        if conn.shutdown:
            await self._body(send, f"retry: {RETRY_MS}\n: server restarting\n\n".encode(), False)
        else:
            await self._body(send, b"", False)


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
