"""The follower of one event's change log: its seat statuses, kept current by one reader.

It reads a snapshot (status bytes, newest Stream id and the Stream's generation
token) in one MULTI/EXEC, then follows the Stream from that id, so no change is
missed or applied twice, and hands every entry to its subscribers
(`seatmap.feedsubscription`). `version` goes up with every change applied, so
caches of what the statuses look like can tell whether they are current.

A follower never skips a change silently. After every read it checks the
generation token kept beside the Stream (`seatmap.livekeys.generation_key`): a
new or missing token means the Stream was lost and recreated (Redis restarted
empty, a flush), so it reloads the snapshot and hands subscribers a `reset`
entry, as it does for a `reset` entry in the log itself. After a lost connection
it goes on from its last id if the generation is unchanged and that entry is
still in the Stream, and otherwise reloads and resets likewise. While Redis is
away the last known statuses stay in memory. Each read is reported to the
event's `FeedGauges` (change-log lag, seats by status) when it has them.

An entry it cannot decode carries no change to apply: it is logged, counted
(`seatmap.changeentry.decode_entry`) and read past, and subscribers never see
it. A reader that stops for anything else but Redis being away (a bug, a
generation token that is not text) is logged and ends the subscriptions
(`Subscription.get` raises `FeedEnded`, so no subscriber waits for entries that
will never come); `seatmap.changefeed.ChangeFeed` then replaces the follower.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from seatmap.changeentry import ChangeEntry, decode_entry, reset_entry
from seatmap.feedgauges import FeedGauges
from seatmap.feedsubscription import Subscription
from seatmap.livekeys import generation_key, status_key, stream_key
from seatmap.metrics import Metrics
from seatmap.redisclient import REDIS_UNAVAILABLE, RedisClient

log = logging.getLogger(__name__)

RawEntry = tuple[bytes, dict[bytes, bytes]]
READ_BLOCK_MS = 1000
READ_COUNT = 500
RETRY_BACKOFF_S = (0.1, 0.25, 0.5, 1.0, 2.0)
STOP_TIMEOUT_S = 5.0
GENERATION_BYTES = 6  # a random token per life of a Stream: 12 hex digits


class EventFollower:
    """Status array and subscribers of one event, kept current by one reader task."""

    def __init__(
        self,
        redis: RedisClient,
        prefix: str,
        event_id: int,
        seat_count: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.redis = redis
        self.event_id = event_id
        self.seat_count = seat_count
        self.status: npt.NDArray[np.uint8] = np.zeros(seat_count, dtype=np.uint8)
        self.last_id = "0-0"
        self.generation = ""
        self.has_state = False  # the status key existed at the last snapshot
        self.version = 0
        self.subscribers: set[Subscription] = set()
        self.ready = asyncio.Event()
        self.connected = False
        self._status_key = status_key(prefix, event_id)
        self._stream_key = stream_key(prefix, event_id)
        self._generation_key = generation_key(prefix, event_id)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.metrics = metrics
        self.gauges = FeedGauges(metrics, event_id) if metrics is not None else None
        # When the feed last handed this follower out, or a subscriber left (loop time).
        self.used_at = 0.0

    @property
    def alive(self) -> bool:
        """Whether the reader task is running (False once stopped, or failed)."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the reader task (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"changefeed-{self.event_id}")
            self._task.add_done_callback(self._reader_done)

    async def wait_ready(self, timeout_s: float) -> None:
        """Return once the first snapshot is loaded, the reader has stopped, or after
        `timeout_s`, whichever comes first."""
        task = self._task
        if self.ready.is_set() or task is None:
            return
        waiter = asyncio.ensure_future(self.ready.wait())
        try:
            await asyncio.wait({waiter, task}, timeout=timeout_s,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        finally:
            waiter.cancel()

    def retire(self) -> int:
        """Mark the follower as replaced (being stopped, or failed): it applies nothing more,
        its `version` moves on once more, so whatever was cached against it is stale, and
        the version its successor starts from is returned, above every version this one
        ever had."""
        self._stopping = True
        self.version += 1
        return self.version + 1

    def _reader_done(self, task: asyncio.Task[None]) -> None:
        """Tell every subscriber that nothing more will come, saying why if it failed."""
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error(
                "change feed of event %s stopped: %s: %s; its %d subscribers are ended",
                self.event_id, type(exc).__name__, exc, len(self.subscribers), exc_info=exc,
            )  # fmt: skip
        for sub in list(self.subscribers):
            sub.end()

    async def stop(self) -> None:
        """Stop the reader task, within about STOP_TIMEOUT_S; the event's lag gauge then
        reads 0, as nothing is read late any more."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        # redis-py's own timeouts can swallow one cancellation, so cancel until it ends.
        deadline = asyncio.get_running_loop().time() + STOP_TIMEOUT_S
        while not task.done() and asyncio.get_running_loop().time() < deadline:
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        self._task = None
        if self.gauges is not None:
            self.gauges.observe(None, self.status)

    async def load_snapshot(self) -> None:
        """Read status bytes, newest Stream id and generation atomically, replacing local state.

        A missing generation token is created here, in the same transaction.
        """
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._generation_key, secrets.token_hex(GENERATION_BYTES), nx=True)
            pipe.get(self._generation_key)
            pipe.get(self._status_key)
            pipe.xrevrange(self._stream_key, count=1)
            _, generation, raw, newest = await pipe.execute()
        if self._stopping:  # its version must not move any more
            return
        status = np.zeros(self.seat_count, dtype=np.uint8)
        if raw:
            data = np.frombuffer(raw, dtype=np.uint8)[: self.seat_count]
            status[: data.size] = data
        self.status = status
        self.has_state = raw is not None
        self.generation = generation.decode()
        self.last_id = newest[0][0].decode() if newest else "0-0"
        self.version += 1

    def apply(self, entry: ChangeEntry) -> None:
        """Apply one entry to the status array and hand it to subscribers (nothing once the
        follower is being stopped)."""
        if self._stopping:
            return
        if entry.kind != "reset" and entry.seats.size:
            valid = entry.seats[(entry.seats >= 0) & (entry.seats < self.seat_count)]
            self.status[valid] = entry.status
        self.last_id = entry.id
        self.version += 1
        for sub in list(self.subscribers):
            sub.deliver(entry)

    async def _resync(self, why: str) -> None:
        """Reload the snapshot and tell subscribers to reload too."""
        old = self.generation
        await self.load_snapshot()
        log.warning(
            "change log of event %s: %s; reloaded at %s (generation %s -> %s)",
            self.event_id, why, self.last_id, old, self.generation,
        )  # fmt: skip
        self.apply(reset_entry(self.last_id, self.generation))

    async def _continuous(self) -> bool:
        """After a lost connection: whether reading on from `last_id` misses nothing."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self._generation_key)
            pipe.xrange(self._stream_key, min=self.last_id, max=self.last_id)
            generation, found = await pipe.execute()
        same = generation is not None and generation.decode() == self.generation
        return same and (self.last_id == "0-0" or bool(found))

    async def _read(self) -> None:
        """One blocking read; entries are applied only if the Stream is still the same one."""
        reply = await self.redis.xread(
            {self._stream_key: self.last_id}, count=READ_COUNT, block=READ_BLOCK_MS
        )
        # Read after the entries: if they came from a recreated Stream, the token changed.
        generation: Any = await self.redis.get(self._generation_key)
        if generation is None or generation.decode() != self.generation:
            await self._resync("the Stream was recreated")
            return
        streams = cast(list[tuple[bytes, list[RawEntry]]], reply or [])
        newest: bytes | None = None
        for _stream, entries in streams:
            for newest, fields in entries:
                entry = decode_entry(
                    self.event_id, newest, fields, self.generation, "follower", self.metrics
                )
                if entry is None:  # nothing to apply: read on after it
                    self.last_id = newest.decode()
                    continue
                if entry.kind == "reset":
                    await self._resync("a reset entry")
                    return
                self.apply(entry)
        if self.gauges is not None:
            self.gauges.observe(newest, self.status)

    async def _run(self) -> None:
        attempt = 0
        lost = False
        while not self._stopping:
            try:
                if not self.generation:  # no snapshot yet
                    first = not self.ready.is_set()
                    await self.load_snapshot()
                    if not first:  # subscribers started from nothing meanwhile
                        self.apply(reset_entry(self.last_id, self.generation))
                elif lost and not await self._continuous():
                    await self._resync("entries may be gone after a lost connection")
                lost = False
                self.connected = True
                self.ready.set()
                await self._read()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except REDIS_UNAVAILABLE as exc:
                self.connected = False
                lost = True
                self.ready.set()  # serve the last known statuses meanwhile
                delay = RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)]
                attempt += 1
                log.warning("change feed of event %s lost Redis: %s", self.event_id, exc)
                await asyncio.sleep(delay)
