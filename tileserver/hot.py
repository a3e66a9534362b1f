"""The hot path: answer repeat tile requests before routing, while nothing has changed.

Every tile the service answers is remembered by URL path with the status
version of its event at that moment. `HotTileMiddleware` serves a repeat
request for that path straight from memory (200 or 304) as long as the
event's change feed has not moved on; a remembered answer carries the headers
the route gave it, the public CORS headers among them. Any change, an unknown
path or anything unusual falls through to the normal route, which recomputes
the ETag. Entries also expire after a few seconds, so nothing stale can linger.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from httpkit.conditional import none_match
from seatmap.changefeed import EventFollower

MAX_ENTRIES = 20_000
TTL_S = 5.0
# Hot hits are counted in plain integers and added to their Prometheus counter (whose
# lock costs about as much as the rest of a hit) at most this long after, or sooner.
COUNT_FLUSH_S = 1.0


@dataclass(slots=True)
class HotEntry:
    """A tile response remembered with the status version it was computed at."""

    follower: EventFollower | None  # None: the body never depends on statuses
    version: int
    expires: float
    etag: str
    ok_headers: list[tuple[bytes, bytes]]
    not_modified_headers: list[tuple[bytes, bytes]]
    body: bytes
    counter: Any  # a prometheus counter child: hot hits of this entry are added to it
    hits: int = 0  # hot hits not yet added to `counter`


class HotTiles:
    """Remembered tile responses by path, bounded in count."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, HotEntry] = OrderedDict()
        self._counted: list[HotEntry] = []  # entries with hits not yet in their counter
        self._flush_due = 0.0

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
        now = time.monotonic()
        if (follower is not None and follower.version != entry.version) or now > entry.expires:
            del self._entries[path]
            return None
        if now >= self._flush_due:
            self.flush_counts(now)
        return entry

    @property
    def counts_pending(self) -> bool:
        """Whether some hot hits are not yet in their counters."""
        return bool(self._counted)

    def count_hit(self, entry: HotEntry) -> None:
        """Count one hot hit of an entry (added to its counter by `flush_counts`)."""
        if not entry.hits:
            self._counted.append(entry)
        entry.hits += 1

    def flush_counts(self, now: float | None = None) -> None:
        """Add every counted hot hit to its Prometheus counter."""
        for entry in self._counted:
            entry.counter.inc(entry.hits)
            entry.hits = 0
        self._counted.clear()
        self._flush_due = (time.monotonic() if now is None else now) + COUNT_FLUSH_S

    def clear(self) -> None:
        """Count what is pending, then forget everything."""
        self.flush_counts()
        self._entries.clear()


class HotTileMiddleware:
    """ASGI middleware answering current repeat tile requests from `HotTiles`.

    Install it last (`app.add_middleware(HotTileMiddleware, hot=hot)`), so it is
    the outermost of the app's own middleware: a hot hit then costs one dict
    lookup, and anything not hot goes through the whole stack, errors and all.
    Every request that is not a hot hit (a `/metrics` scrape among them) first
    adds the pending hot-hit counts to their counters, so metrics are exact.
    """

    def __init__(self, app: ASGIApp, hot: HotTiles) -> None:
        self.app = app
        self.hot = hot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            entry = self.hot.lookup(scope["path"])
            if entry is not None:
                await self._answer(entry, scope, send)
                return
        if self.hot.counts_pending:
            self.hot.flush_counts()
        await self.app(scope, receive, send)

    async def _answer(self, entry: HotEntry, scope: Scope, send: Send) -> None:
        self.hot.count_hit(entry)
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if none_match(value.decode("latin-1"), entry.etag):
                    await send({"type": "http.response.start", "status": 304,
                                "headers": entry.not_modified_headers})
                    await send({"type": "http.response.body", "body": b""})
                    return
                break
        await send({"type": "http.response.start", "status": 200, "headers": entry.ok_headers})
        await send({"type": "http.response.body", "body": entry.body})
