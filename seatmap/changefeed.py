"""Follow each event's change log once per process and fan it out locally.

One `ChangeFeed` per process keeps, for every event in use, an `EventFollower`
(`seatmap.eventfollower`): a numpy array of seat statuses that is current to
within one Stream read, handing every change-log entry to local subscribers
(the SSE broadcaster, the GRIP publisher). An event starts being followed on
first use (`follower`, `statuses`, `subscribe`).

A follower whose reader failed (see `seatmap.eventfollower`) is replaced by a
fresh one, from a new snapshot, the next time its event is used.

A follower costs a blocking XREAD and a GET every second on one of the
process's bounded Redis connections, so one that has had no subscriber and was
not asked for during `idle_s` is stopped and dropped by a sweep that runs while
the feed follows anything. The next use of its event starts a new one.

Caches compare follower `version`s (`tileserver.livestate`, `tileserver.hot`),
so versions only go up: the follower that takes over from a failed or dropped
one starts above every version the old one had, and the old one's version moves
once more when it is retired, so nothing cached against it stays current.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import numpy as np
import numpy.typing as npt

from seatmap.changeentry import ChangeEntry, parse_entry, reset_entry
from seatmap.eventfollower import GENERATION_BYTES, EventFollower
from seatmap.feedsubscription import FeedEnded, Subscription
from seatmap.metrics import Metrics
from seatmap.redisclient import RedisClient

__all__ = [
    "GENERATION_BYTES",
    "ChangeEntry",
    "ChangeFeed",
    "EventFollower",
    "FeedEnded",
    "Subscription",
    "parse_entry",
    "reset_entry",
]

FOLLOWER_IDLE_S = 300.0  # a follower nobody used for this long is stopped
SWEEP_EVERY_MAX_S = 30.0  # idle followers are looked for at least this often
READY_TIMEOUT_S = 5.0  # how long `follower` waits for a new follower's first snapshot


class ChangeFeed:
    """All followed events of this process; events start being followed on first use and
    stop being followed after `idle_s` without use."""

    def __init__(
        self,
        redis: RedisClient,
        prefix: str,
        seat_count_of: Callable[[int], Awaitable[int]],
        metrics: Metrics | None = None,
        idle_s: float = FOLLOWER_IDLE_S,
    ) -> None:
        if idle_s <= 0:
            raise ValueError(f"idle_s must be positive, not {idle_s}")
        self.redis = redis
        self.prefix = prefix
        self.idle_s = idle_s
        self._seat_count_of = seat_count_of
        self._metrics = metrics
        self._followers: dict[int, EventFollower] = {}
        # The version the next follower of an event starts from, once one was dropped.
        self._next_version: dict[int, int] = {}
        self._dropping: set[EventFollower] = set()  # dropped, their reader not yet stopped
        self._lock = asyncio.Lock()
        self._sweeper: asyncio.Task[None] | None = None

    async def follower(self, event_id: int) -> EventFollower:
        """The running follower of an event, started and snapshotted if new (or if the
        previous one failed); it counts as used now."""
        found = self._followers.get(event_id)
        if found is None or not found.alive:
            async with self._lock:
                failed = found = self._followers.get(event_id)
                if found is None or not found.alive:
                    count = await self._seat_count_of(event_id)
                    found = EventFollower(self.redis, self.prefix, event_id, count, self._metrics)
                    found.version = self._next_version.pop(event_id, 0)
                    if failed is not None:
                        found.version = max(found.version, failed.retire())
                    found.start()
                    self._followers[event_id] = found
                    self._start_sweeper()
        found.used_at = asyncio.get_running_loop().time()
        if not found.ready.is_set():
            await found.wait_ready(READY_TIMEOUT_S)
            found.used_at = asyncio.get_running_loop().time()
        return found

    async def statuses(self, event_id: int) -> npt.NDArray[np.uint8]:
        """The current status array of an event (do not modify it)."""
        return (await self.follower(event_id)).status

    @contextlib.asynccontextmanager
    async def subscribe(self, event_id: int) -> AsyncIterator[Subscription]:
        """Receive every entry applied from now on, until the context exits; the event
        stays followed meanwhile."""
        follower = await self.follower(event_id)
        sub = Subscription()
        follower.subscribers.add(sub)
        if not follower.alive:  # it failed meanwhile: its last word never reaches `sub`
            sub.end()
        try:
            yield sub
        finally:
            follower.subscribers.discard(sub)
            follower.used_at = asyncio.get_running_loop().time()

    def subscriber_count(self) -> int:
        """Number of local subscribers across all events."""
        return sum(len(f.subscribers) for f in self._followers.values())

    def _start_sweeper(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="changefeed-sweep")

    async def _sweep(self) -> None:
        """Drop idle followers, for as long as there are followers."""
        every_s = min(self.idle_s / 2, SWEEP_EVERY_MAX_S)
        while self._followers:
            await asyncio.sleep(every_s)
            await self._drop_idle()

    async def _drop_idle(self) -> None:
        """Stop and forget every follower without subscribers that was not used for
        `idle_s`."""
        now = asyncio.get_running_loop().time()
        idle = [
            f for f in self._followers.values()
            if not f.subscribers and now - f.used_at >= self.idle_s
        ]  # fmt: skip
        # Forgotten before anything is awaited, so no caller is handed a stopping one.
        for follower in idle:
            del self._followers[follower.event_id]
            self._next_version[follower.event_id] = follower.retire()
            self._dropping.add(follower)
        try:
            await asyncio.gather(*(f.stop() for f in idle))
        finally:
            self._dropping.difference_update(idle)

    async def close(self) -> None:
        """Stop following every event."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        followers = [*self._followers.values(), *self._dropping]
        self._followers.clear()
        self._dropping.clear()
        await asyncio.gather(*(f.stop() for f in followers))
