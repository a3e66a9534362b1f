"""The one subscriber of an event's change log per process, serving its local SSE clients.

It takes entries from the process's follower (`ctx.feed`), renders each message
once and writes it to every connection (`lockservice.fanout`). Under load the
entries of one tick go out as one message (`lockservice.ssewire.batch_message`):
a message leaves at once when the previous one left more than a tick ago, and
otherwise waits for the tick to end and carries everything that arrived
meanwhile, so fan-out cost follows ticks, not changes. The tick is TICK_MIN_S,
and grows up to TICK_MAX_S when writing one message to every client takes more
than a quarter of it.

It also answers resumes (`catch_up`): from the entries it has sent
(`lockservice.replay`), extended backwards once from the Stream by one shared
read, and otherwise with `reset`. When the follower reloads (the Stream was
recreated, or this process fell behind) every client gets `reset`.

If its reader ends other than by `stop` (it could not subscribe, the change feed
stopped, a bug), the broadcaster says why in the log and tells `on_end`: the
hub (`lockservice.sse`) then forgets it and ends its streams, so that clients
reconnect to a new one instead of getting nothing but heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from lockservice.fanout import Connection
from lockservice.replay import CATCH_UP_MAX_BYTES, RecentEntries
from lockservice.ssewire import (
    StreamId,
    batch_message,
    parse_position,
    position,
    reset_message,
    sse_message,
    stream_id,
)
from seatmap.changeentry import decode_entry
from seatmap.changefeed import ChangeEntry, FeedEnded, Subscription
from seatmap.context import EventView, ServiceContext
from seatmap.errors import ServiceUnavailable
from seatmap.livekeys import generation_key, stream_key
from seatmap.redisclient import REDIS_UNAVAILABLE

log = logging.getLogger(__name__)

TICK_MIN_S = 0.05
TICK_MAX_S = 0.1
FANOUT_SHARE = 4  # the tick is at least this many times one message's fan-out time
MAX_BATCH = 5000
# How long a resume from a position this process has not read yet waits for it.
AHEAD_WAIT_S = 1.0


class Broadcaster:
    """The one subscriber of an event's change log that serves its local SSE clients."""

    def __init__(
        self,
        ctx: ServiceContext,
        view: EventView,
        on_end: Callable[[Broadcaster], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.view = view
        self.event_id = view.event.id
        self.connections: set[Connection] = set()
        self.last_id = "0-0"
        self.last_sid: StreamId = (0, 0)
        self.generation = ""
        self.recent = RecentEntries()
        self.tick_s = TICK_MIN_S
        self._sent_at = -1.0
        self._advanced = asyncio.Event()
        self._older: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._on_end = on_end
        self._stopping = False
        # When a stream last started or ended here (loop time): the hub stops idle ones.
        self.used_at = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run(), name=f"sse-broadcast-{self.event_id}")
        self._task.add_done_callback(self._reader_done)

    @property
    def alive(self) -> bool:
        """False once the reader has ended: stopped, or failed (nothing more is sent)."""
        return not self._task.done()

    def _reader_done(self, task: asyncio.Task[None]) -> None:
        """Say why the reader ended, unless it was told to stop, and tell `on_end`."""
        if self._stopping:
            return
        exc = None if task.cancelled() else task.exception()
        if isinstance(exc, FeedEnded):  # the feed has logged its own failure
            log.warning("SSE reader of event %s ended: %s; %d streams end",
                        self.event_id, exc, len(self.connections))  # fmt: skip
        else:
            log.error("SSE reader of event %s ended: %s; %d streams end",
                      self.event_id, "cancelled" if exc is None else f"{type(exc).__name__}: {exc}",
                      len(self.connections), exc_info=exc)  # fmt: skip
        if self._on_end is not None:
            self._on_end(self)

    def position(self) -> tuple[str, StreamId]:
        """(client-facing position, Stream id) of the newest message sent."""
        return position(self.last_id, self.generation), self.last_sid

    async def ready(self) -> None:
        """Wait until the broadcaster receives every entry from now on."""
        if self._ready.is_set():
            return
        waiter = asyncio.ensure_future(self._ready.wait())
        await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not self._ready.is_set():
            waiter.cancel()
            raise ServiceUnavailable("live updates are unavailable right now", retry_after_s=2)

    async def _run(self) -> None:
        async with self.ctx.feed.subscribe(self.event_id) as sub:
            follower = await self.ctx.feed.follower(self.event_id)
            self._move_to(follower.last_id, follower.generation, complete=False)
            self._ready.set()
            while True:
                entry = await sub.get()  # FeedEnded once the change feed has stopped
                try:
                    await self._take(sub, entry)
                except Exception:  # one bad entry must not silence every client
                    log.exception("SSE broadcast of event %s failed", self.event_id)

    async def _take(self, sub: Subscription, entry: ChangeEntry) -> None:
        wait = self._sent_at + self.tick_s - time.monotonic()
        if wait > 0 and self.connections:
            await asyncio.sleep(wait)  # under load: gather this tick's changes
        batch = [entry]
        while not sub.queue.empty() and len(batch) < MAX_BATCH:
            batch.append(sub.queue.get_nowait())
        if sub.lagged:  # this process fell behind the log: everyone reloads
            while not sub.queue.empty():
                sub.queue.get_nowait()
            sub.lagged = False
            follower = await self.ctx.feed.follower(self.event_id)
            self._reset(follower.last_id, follower.generation, "lagged")
            return
        run: list[ChangeEntry] = []
        for item in batch:
            if item.kind == "reset":
                self._publish(run)
                run = []
                self._reset(item.id, item.generation, "reload")
            else:
                run.append(item)
        self._publish(run)

    def _move_to(self, entry_id: str, generation: str, complete: bool) -> None:
        self.last_id = entry_id
        self.last_sid = stream_id(entry_id)
        self.generation = generation
        self.recent.restart(self.last_sid, complete)
        self._pulse()

    def _pulse(self) -> None:
        self._advanced.set()
        self._advanced = asyncio.Event()

    def _reset(self, entry_id: str, generation: str, reason: str) -> None:
        """Every client reloads; what was held for resumes is of no use any more."""
        self._move_to(entry_id, generation, complete=True)
        data = reset_message(position(entry_id, generation), reason)
        for conn in list(self.connections):
            conn.deliver(self.last_sid, data, reset=True)

    def _publish(self, run: list[ChangeEntry]) -> None:
        if not run:
            return
        for entry in run:
            self.recent.append(entry)
        last = run[-1]
        self.last_id, self.last_sid, self.generation = last.id, stream_id(last.id), last.generation
        self._pulse()
        if self.connections:  # rendering (dirty tiles) only pays off with clients
            started = time.monotonic()
            self.broadcast(self.last_sid, batch_message(run, self.view))
            self._sent_at = time.monotonic()
            fanout_s = self._sent_at - started
            self.tick_s = min(TICK_MAX_S, max(TICK_MIN_S, FANOUT_SHARE * fanout_s))

    def broadcast(self, sid: StreamId | None, data: bytes) -> None:
        """Hand one message to every connection."""
        for conn in list(self.connections):
            conn.deliver(sid, data)

    async def resume(self, last_event_id: str | None) -> tuple[bytes, StreamId | None]:
        """As `catch_up`, but never failing: what goes wrong is answered with `reset`."""
        try:
            return await self.catch_up(last_event_id)
        except Exception as exc:  # the client reloads the snapshot instead of losing its stream
            log.warning("SSE resume of event %s from %.80r answered with reset: %s: %s",
                        self.event_id, last_event_id, type(exc).__name__, exc)  # fmt: skip
            at, sid = self.position()
            return reset_message(at, "resume_unavailable"), sid

    async def catch_up(self, last_event_id: str | None) -> tuple[bytes, StreamId | None]:
        """What a client resuming from `last_event_id` must be sent first, and the Stream id
        it then has: the entries it missed, or `reset` (also for anything that is not a
        valid position, at once). (b"", None) without a position."""
        if last_event_id is None:
            return b"", None
        resume = parse_position(last_event_id)
        if resume is not None and resume[1] == self.generation:
            await self._reach(resume[0])
            if resume[0] < self.recent.floor and self.recent.room():
                with contextlib.suppress(*REDIS_UNAVAILABLE):  # then it is a reset
                    await self._extend_backwards()
        # Decided without waiting from here on, so it matches what was broadcast.
        at, sid = self.position()
        if resume is None or resume[1] != self.generation or resume[0] > sid:
            return reset_message(at, "resume_unavailable"), sid
        entries = self.recent.after(resume[0])
        if entries is None:
            return reset_message(at, "too_far_behind"), sid
        parts: list[bytes] = []
        size = 0
        for entry in entries:
            parts.append(sse_message(entry, self.view))
            size += len(parts[-1])
            if size > CATCH_UP_MAX_BYTES:
                return reset_message(at, "too_far_behind"), sid
        return b"".join(parts), sid

    async def _reach(self, sid: StreamId) -> None:
        """Wait (briefly) until this process has sent the entry `sid`."""
        deadline = time.monotonic() + AHEAD_WAIT_S
        while self.last_sid < sid and (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._advanced.wait(), left)

    async def _extend_backwards(self) -> None:
        """Read the entries before the window once, for every client that needs them."""
        if self._older is None or self._older.done():
            self._older = asyncio.create_task(self._read_older())
        await asyncio.shield(self._older)

    async def _read_older(self) -> None:
        floor, want, generation = self.recent.floor, self.recent.room(), self.generation
        prefix = self.ctx.settings.redis_prefix
        async with self.ctx.redis.pipeline(transaction=True) as pipe:
            pipe.get(generation_key(prefix, self.event_id))
            pipe.xrevrange(stream_key(prefix, self.event_id), max=f"{floor[0]}-{floor[1]}",
                           count=want)  # fmt: skip
            token, raw = await pipe.execute()
        if token is None or token.decode() != generation or self.recent.floor != floor:
            return  # the Stream or the window changed meanwhile: nothing to add
        older: Any = raw
        metrics = self.ctx.metrics  # an entry nobody can decode was skipped live too
        decoded = (decode_entry(self.event_id, i, f, generation, "sse_resume", metrics)
                   for i, f in older)  # fmt: skip
        self.recent.add_older([entry for entry in decoded if entry is not None])

    async def stop(self) -> None:
        """Stop following the event."""
        self._stopping = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self._older is not None:
            self._older.cancel()
