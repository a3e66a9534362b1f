"""Publishing every event's changes to the GRIP proxies, once per event across all nodes.

Each app node runs one `GripPublisher`. For every event it knows, it competes for
the event's publishing lease in Redis; the holder follows the event's change log
(the same in-process follower the tile server and the built-in broadcaster use)
and publishes each entry's SSE bytes to every configured proxy. If the holder
dies, its lease lapses within GRIP_LEASE_MS and another node takes over from the
last id recorded as published, so no change is skipped; the few entries of the
hand-over window that are published twice carry the same item ids, and the proxy
drops repeated ids (`id_cache_ttl`).

Each item's id is the entry's position (the SSE id clients see) and its
`prev-id` the position of the entry before it, so the proxy can tell whether an
item follows what each connection has (`lockservice.grip`): a change published
between a stream request's catch-up and the proxy's subscription is recovered
from the app, and one the catch-up already sent is not sent twice.

Items of all events waiting at one moment go out in one HTTP request per proxy,
at once: at low load that is one change per request; under load the batch grows
with the time the previous request took (adaptive coalescing of the publish
calls).

A proxy that is down loses nothing a client cannot recover: when it comes back,
clients reconnect with Last-Event-ID and the app serves what they missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

import httpx

from lockservice.grip import channel_name
from lockservice.keys import event_keys, grip_keys
from lockservice.ssewire import position, stream_id
from seatmap.changeentry import ChangeEntry, decode_entry
from seatmap.context import EventView, ServiceContext
from seatmap.redisclient import REDIS_UNAVAILABLE

log = logging.getLogger(__name__)

GRIP_LEASE_MS = 3000
# The lease is renewed this often, and a node without it retries this often.
RENEW_EVERY_S = GRIP_LEASE_MS / 3000
MAX_ITEMS_PER_REQUEST = 500
CATCH_UP_BATCH = 500
# A publish request that fails is sent again this many times in all, after 0.2, 0.4 s:
# a proxy that missed an item would otherwise hold its connections until a client
# notices the gap.
PUBLISH_ATTEMPTS = 3
PUBLISH_RETRY_S = 0.2

# KEYS[1] lease. ARGV[1] node id, ARGV[2] lease ms. Returns 1 when this node holds the
# lease afterwards (taken now or renewed), 0 when another node holds it.
LEASE_SCRIPT = """
local owner = redis.call('GET', KEYS[1])
if owner == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

SseBytes = Callable[[ChangeEntry, EventView], bytes]


class GripPublisher:
    """Publishes the changes of the events in `events` to the proxies of the settings."""

    def __init__(self, ctx: ServiceContext, events: set[int], sse_bytes: SseBytes) -> None:
        self._ctx = ctx
        self._events = events
        self._sse_bytes = sse_bytes
        self._urls = [url.rstrip("/") + "/publish/" for url in ctx.settings.grip_publish_urls]
        self._node_id = secrets.token_hex(8)
        self._lease = ctx.redis.register_script(LEASE_SCRIPT)
        self._queue: asyncio.Queue[tuple[int, str, dict[str, Any]]] = asyncio.Queue()
        self._leaders: dict[int, asyncio.Task[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._http: httpx.AsyncClient | None = None
        self.published = 0

    def start(self) -> None:
        """Start competing for leases and publishing."""
        self._http = httpx.AsyncClient(timeout=5.0)
        self._tasks = [
            asyncio.create_task(self._follow_events(), name="grip-events"),
            asyncio.create_task(self._flush_forever(), name="grip-flush"),
        ]

    async def stop(self) -> None:
        """Stop publishing; leases lapse by themselves."""
        tasks = [*self._tasks, *self._leaders.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks, self._leaders = [], {}
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _follow_events(self) -> None:
        while True:
            for event_id in list(self._events):
                task = self._leaders.get(event_id)
                if task is None or task.done():
                    self._leaders[event_id] = asyncio.create_task(
                        self._lead(event_id), name=f"grip-lead-{event_id}"
                    )
            await asyncio.sleep(RENEW_EVERY_S)

    async def _holds_lease(self, lease_key: str) -> bool:
        held = await self._lease(keys=[lease_key], args=[self._node_id, GRIP_LEASE_MS])
        return bool(held)

    async def _lead(self, event_id: int) -> None:
        """Publish the event's changes for as long as this node holds its lease."""
        lease_key, _ = grip_keys(self._ctx.settings.redis_prefix, event_id)
        while True:
            try:
                if await self._holds_lease(lease_key):
                    await self._publish_while_leading(event_id, lease_key)
            except asyncio.CancelledError:
                raise
            except REDIS_UNAVAILABLE as exc:
                log.warning("GRIP lease of event %d: %s: %s", event_id, type(exc).__name__, exc)
            except Exception:  # a bug: say so, and lead again from the recorded position
                log.exception("GRIP publishing of event %d failed", event_id)
            await asyncio.sleep(RENEW_EVERY_S)

    async def _publish_while_leading(self, event_id: int, lease_key: str) -> None:
        view = await self._ctx.catalog.get(event_id)
        follower = await self._ctx.feed.follower(event_id)
        async with self._ctx.feed.subscribe(event_id) as sub:
            # The subscription gets every entry after the one the follower applied last.
            prev = position(follower.last_id, follower.generation)
            last_id, prev = await self._catch_up(view, prev)
            while True:
                try:
                    entry = await asyncio.wait_for(sub.queue.get(), RENEW_EVERY_S)
                except TimeoutError:
                    entry = None
                if entry is not None and (not last_id or stream_id(entry.id) > stream_id(last_id)):
                    prev = self._enqueue(view, entry, prev)
                    last_id = entry.id
                if sub.lagged or sub.ended:
                    return  # resubscribe and catch up from the recorded position
                if not await self._holds_lease(lease_key):
                    return

    async def _catch_up(self, view: EventView, prev: str) -> tuple[str, str]:
        """Publish what the previous leaseholder had not: (the Stream id published up to,
        its position), or ("", `prev`) when nothing was recorded as published."""
        prefix, event_id = self._ctx.settings.redis_prefix, view.event.id
        _, published_key = grip_keys(prefix, event_id)
        raw = await self._ctx.redis.get(published_key)
        if raw is None:
            return "", prev
        last_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        log_key = event_keys(prefix, event_id).log
        # SSE ids carry the Stream's generation (lockservice.ssewire), as live entries do.
        generation = (await self._ctx.feed.follower(event_id)).generation
        prev = position(last_id, generation)
        metrics = self._ctx.metrics
        while True:
            batch: Any = await self._ctx.redis.xrange(
                log_key, min=f"({last_id}", count=CATCH_UP_BATCH
            )
            for entry_id, fields in batch:
                last_id = entry_id.decode()
                entry = decode_entry(event_id, entry_id, fields, generation, "grip", metrics)
                if entry is not None:  # the follower skips it too: live streams never had it
                    prev = self._enqueue(view, entry, prev)
            if len(batch) < CATCH_UP_BATCH:
                return last_id, prev

    def _enqueue(self, view: EventView, entry: ChangeEntry, prev: str) -> str:
        """Queue the entry's item, following `prev`; returns the entry's position."""
        at = position(entry.id, entry.generation)
        content = self._sse_bytes(entry, view).decode()
        item = {
            "channel": channel_name(self._ctx.settings, view.event.id),
            "id": at,
            "prev-id": prev,
            "formats": {"http-stream": {"content": content}},
        }
        self._queue.put_nowait((view.event.id, entry.id, item))
        return at

    async def _post(self, url: str, body: dict[str, Any]) -> bool:
        """Publish one request to one proxy, retried a few times; False if it never went.

        A retry of a request that did arrive is harmless: the proxy drops items whose
        id it has seen (`id_cache_ttl`).
        """
        assert self._http is not None
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                response = await self._http.post(url, json=body)
                if response.status_code < 300:
                    return True
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                problem = repr(exc)
            log.warning("GRIP publish to %s failed (attempt %d): %s", url, attempt + 1, problem)
            await asyncio.sleep(PUBLISH_RETRY_S * 2**attempt)
        log.error("GRIP publish to %s gave up after %d attempts", url, PUBLISH_ATTEMPTS)
        return False

    async def _flush_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_ITEMS_PER_REQUEST and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._send(batch)

    async def _send(self, batch: list[tuple[int, str, dict[str, Any]]]) -> None:
        body = {"items": [item for _, _, item in batch]}
        await asyncio.gather(*(self._post(url, body) for url in self._urls))
        self.published += len(batch)
        newest: dict[int, str] = {}
        for event_id, entry_id, _ in batch:
            newest[event_id] = entry_id
        prefix = self._ctx.settings.redis_prefix
        with contextlib.suppress(*REDIS_UNAVAILABLE):
            async with self._ctx.redis.pipeline(transaction=False) as pipe:
                for event_id, entry_id in newest.items():
                    pipe.set(grip_keys(prefix, event_id)[1], entry_id)
                await pipe.execute()
