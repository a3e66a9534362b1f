"""A local subscriber's queue of change-log entries, as the change feed fills it.

The follower of the event (`seatmap.changefeed`) delivers each entry without
waiting; a subscriber that falls SUBSCRIBER_QUEUE_SIZE entries behind is marked
`lagged` (it must reload). When the follower stops, the subscription is ended:
`get` hands out what is queued and then raises `FeedEnded`, so a subscriber never
waits for entries that will not come.
"""

from __future__ import annotations

import asyncio
from typing import Any

from seatmap.changeentry import ChangeEntry

SUBSCRIBER_QUEUE_SIZE = 10_000  # entries are shared: a reference each


class FeedEnded(Exception):
    """The follower of a subscription stopped: no more entries will arrive."""


class Subscription:
    """A local listener's queue of entries; `lagged` is set if it fell too far behind."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[ChangeEntry] = asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)
        self.lagged = False
        self._ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def ended(self) -> bool:
        """True once the follower has stopped: what is queued is all there will be."""
        return self._ended.done()

    def end(self) -> None:
        """The follower stopped: `get` raises FeedEnded once the queue is empty."""
        if not self._ended.done():
            self._ended.set_result(None)

    async def get(self) -> ChangeEntry:
        """The next entry, waiting for it; FeedEnded once the follower has stopped and
        every queued entry has been taken."""
        if not self.queue.empty():
            return self.queue.get_nowait()
        if self._ended.done():
            raise FeedEnded("the change feed of this event stopped")
        getter = asyncio.ensure_future(self.queue.get())
        either: set[asyncio.Future[Any]] = {getter, self._ended}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            getter.cancel()  # no-op once it has its entry; else the entry stays queued
        if getter.done() and not getter.cancelled():
            return getter.result()
        raise FeedEnded("the change feed of this event stopped")

    def deliver(self, entry: ChangeEntry) -> None:
        """Queue an entry without waiting; mark the subscriber lagged if full."""
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.lagged = True
