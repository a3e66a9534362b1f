"""The collaborators every service receives: settings, pools, caches, clock."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg

from seatmap.changefeed import ChangeFeed
from seatmap.events import Event, get_event
from seatmap.grid import TileGrid, grid_for
from seatmap.metrics import Metrics, create_metrics
from seatmap.model import Venue
from seatmap.redisclient import RedisClient
from seatmap.settings import Settings
from seatmap.venuestore import load_venue


class Clock(Protocol):
    """Where time comes from; tests pass a fake one.

    Hold expiry, extension and rate limits run on Redis's clock (`TIME` inside the
    scripts), so app hosts whose clocks disagree still agree on them; `pinned_ms`
    lets a test fix the time those scripts see instead.
    """

    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch, by this host's clock."""
        ...

    def pinned_ms(self) -> int:
        """The time Redis scripts must use instead of Redis's own clock; 0 = Redis's clock."""
        ...


class SystemClock:
    """The real wall clock; scripts use Redis's."""

    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        return time.time_ns() // 1_000_000

    def pinned_ms(self) -> int:
        """0: scripts read Redis's own clock."""
        return 0


@dataclass(frozen=True, slots=True)
class EventView:
    """An event with its venue and tile grid, as every request handler needs them."""

    event: Event
    venue: Venue
    grid: TileGrid


class EventCatalog:
    """Loads events and their venues from PostgreSQL once per process and keeps them."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._venues: dict[int, tuple[Venue, TileGrid]] = {}
        self._events: dict[int, EventView] = {}
        self._lock = asyncio.Lock()

    async def get(self, event_id: int) -> EventView:
        """The event, its venue and grid; raises NotFound for an unknown event."""
        found = self._events.get(event_id)
        if found is not None:
            return found
        async with self._lock:
            found = self._events.get(event_id)
            if found is not None:
                return found
            async with self._pool.acquire() as conn:
                event = await get_event(conn, event_id)
                cached = self._venues.get(event.venue_id)
                if cached is None:
                    venue = await load_venue(conn, event.venue_id)
                    cached = (venue, grid_for(venue))
                    self._venues[event.venue_id] = cached
            view = EventView(event, cached[0], cached[1])
            self._events[event_id] = view
            return view

    async def seat_count(self, event_id: int) -> int:
        """Number of seats of the event's venue."""
        return (await self.get(event_id)).venue.seat_count

    def forget(self, event_id: int) -> None:
        """Drop a cached event (after its settings change)."""
        self._events.pop(event_id, None)


@dataclass(slots=True)
class ServiceContext:
    """Everything a service needs, built once by the composition root and passed down."""

    settings: Settings
    pool: asyncpg.Pool
    redis: RedisClient
    catalog: EventCatalog
    feed: ChangeFeed
    clock: Clock = field(default_factory=SystemClock)
    metrics: Metrics = field(default_factory=create_metrics)


def build_context(
    settings: Settings, pool: asyncpg.Pool, redis: RedisClient, clock: Clock | None = None
) -> ServiceContext:
    """Wire a context from live connections; `redis` (one server or a cluster) must not decode
    responses."""
    catalog = EventCatalog(pool)
    metrics = create_metrics()
    feed = ChangeFeed(redis, settings.redis_prefix, catalog.seat_count, metrics)
    return ServiceContext(settings, pool, redis, catalog, feed, clock or SystemClock(), metrics)
