"""`GET /events/{id}/status.bin`: every seat's public status, and the position it is current to.

The status bytes, the newest Stream id and the Stream's generation token are
read in one MULTI/EXEC, so the snapshot and its position (the ETag, and
X-Last-Event-ID to resume the stream from) always agree. Reads are shared: per
event and process at most one is in flight, and a request waits for one that
started after it arrived, so it sees every change made before it however many
clients reload at once (after a reset every client of the event does).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from httpkit.conditional import none_match
from lockservice.reconcile import ensure_event_state
from lockservice.ssewire import PUBLIC_TABLE, position
from seatmap.changefeed import GENERATION_BYTES
from seatmap.context import EventView, ServiceContext
from seatmap.livekeys import generation_key, status_key, stream_key


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An event's raw status bytes (None if it has no live state) and their position."""

    status: bytes | None
    at: str


class SnapshotReader:
    """Reads snapshots for this process, at most one at a time per event."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._running: dict[int, asyncio.Task[Snapshot]] = {}
        self._next: dict[int, asyncio.Task[Snapshot]] = {}

    async def read(self, event_id: int) -> Snapshot:
        """A snapshot taken after this call began."""
        running = self._running.get(event_id)
        if running is None or running.done():
            task = self._start(self._read(event_id))
            self._running[event_id] = task
        else:  # it started before this request: share the read that follows it
            task = self._next.get(event_id) or self._start(self._read_after(event_id, running))
            self._next[event_id] = task
        return await asyncio.shield(task)

    @staticmethod
    def _start(coro: Coroutine[Any, Any, Snapshot]) -> asyncio.Task[Snapshot]:
        task = asyncio.create_task(coro)
        task.add_done_callback(_retrieve)  # waiters that went away leave no error unread
        return task

    async def _read_after(self, event_id: int, previous: asyncio.Task[Snapshot]) -> Snapshot:
        await asyncio.wait({previous})
        self._running[event_id] = self._next.pop(event_id)
        return await self._read(event_id)

    async def _read(self, event_id: int) -> Snapshot:
        prefix = self.ctx.settings.redis_prefix
        generation = generation_key(prefix, event_id)
        async with self.ctx.redis.pipeline(transaction=True) as pipe:
            pipe.set(generation, secrets.token_hex(GENERATION_BYTES), nx=True)
            pipe.get(generation)
            pipe.get(status_key(prefix, event_id))
            pipe.xrevrange(stream_key(prefix, event_id), count=1)
            _, token, raw, newest = await pipe.execute()
        last_id = newest[0][0].decode() if newest else "0-0"
        return Snapshot(raw, position(last_id, token.decode()))


def _retrieve(task: asyncio.Task[Snapshot]) -> None:
    if not task.cancelled():
        task.exception()


async def status_bin(reader: SnapshotReader, view: EventView, request: Request) -> Response:
    """`GET /events/{id}/status.bin`: one public status byte per seat; ETag = its position."""
    snapshot = await reader.read(view.event.id)
    if snapshot.status is None:  # a new event, or Redis lost it: build it from PostgreSQL
        await ensure_event_state(reader.ctx, view.event.id)
        snapshot = await reader.read(view.event.id)
    etag = f'"{snapshot.at}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Last-Event-ID": snapshot.at}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    seat_count = view.venue.seat_count
    body = (snapshot.status or b"").translate(PUBLIC_TABLE)[:seat_count]
    body += bytes(seat_count - len(body))
    return Response(body, media_type="application/octet-stream", headers=headers)
