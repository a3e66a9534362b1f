"""The hot path: answer repeat tile requests before routing, while nothing has changed.

Every tile the service answers is remembered by URL path with the status
version of its event at that moment. `HotTileMiddleware` serves a repeat
request for that path straight from memory (200 or 304) as long as the
event's change feed has not moved on; any change, an unknown path or
anything unusual falls through to the normal route, which recomputes the
ETag. Entries also expire after a few seconds, so nothing stale can linger.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from seatmap.changefeed import EventFollower

MAX_ENTRIES = 20_000
TTL_S = 5.0


@dataclass(slots=True)
class HotEntry:
    """A tile response remembered with the status version it was computed at."""

    follower: EventFollower | None  # None: the body never depends on statuses
    version: int
    expires: float
    etag: bytes
    ok_headers: list[tuple[bytes, bytes]]
    not_modified_headers: list[tuple[bytes, bytes]]
    body: bytes
    counter: Any  # a prometheus counter child, incremented per hot hit


class HotTiles:
    """Remembered tile responses by path, bounded in count."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, HotEntry] = OrderedDict()

    def remember(self, path: str, entry: HotEntry) -> None:
        """Store (or replace) the response of a path."""
        self._entries[path] = entry
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def lookup(self, path: str) -> HotEntry | None:
        """The remembered response if still current, else None."""
        entry = self._entries.get(path)
        if entry is None:
            return None
        follower = entry.follower
        if (follower is not None and follower.version != entry.version) or \
                time.monotonic() > entry.expires:
            del self._entries[path]
            return None
        return entry

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()


class HotTileMiddleware:
    """ASGI middleware answering current repeat tile requests from `HotTiles`."""

    def __init__(self, app: ASGIApp, hot: HotTiles) -> None:
        self.app = app
        self.hot = hot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            entry = self.hot.lookup(scope["path"])
            if entry is not None:
                await self._answer(entry, scope, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(entry: HotEntry, scope: Scope, send: Send) -> None:
        entry.counter.inc()
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if entry.etag in value or value.strip() == b"*":
                    await send({"type": "http.response.start", "status": 304,
                                "headers": entry.not_modified_headers})
                    await send({"type": "http.response.body", "body": b""})
                    return
                break
        await send({"type": "http.response.start", "status": 200, "headers": entry.ok_headers})
        await send({"type": "http.response.body", "body": entry.body})
