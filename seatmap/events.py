"""Events: a venue put on sale, with the rules its holds follow."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from seatmap.errors import BadRequest, NotFound
from seatmap.settings import Settings


@dataclass(frozen=True, slots=True)
class EventRules:
    """Per-event hold rules, stored as the event's `settings` JSON."""

    max_seats_per_buyer: int = 8
    no_orphans: bool = True
    contiguous_in_row: bool = False
    restrict_accessible: bool = True
    hold_ttl_s: int = 600
    max_hold_s: int = 1800
    # Where the viewer's "Continue" takes the buyer (with event= and hold= added); "" for none.
    checkout_url: str = ""

    @classmethod
    def defaults(cls, settings: Settings) -> EventRules:
        """The rules of an event that sets none of its own (hold times from the settings)."""
        return cls(hold_ttl_s=settings.hold_ttl_s, max_hold_s=settings.max_hold_s)

    @classmethod
    def from_json(cls, raw: dict[str, Any], defaults: EventRules | None = None) -> EventRules:
        """Rules from JSON over `defaults`, rejecting unknown keys, wrong types and nonsense."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in known:
                raise BadRequest(f"unknown event setting {key!r}", field=key)
            kind = known[key].type
            expected = bool if kind in ("bool", bool) else (str if kind in ("str", str) else int)
            if expected is str and not isinstance(value, str):
                raise BadRequest(f"event setting {key!r} must be a string", field=key)
            if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise BadRequest(f"event setting {key!r} must be an integer", field=key)
            if expected is bool and not isinstance(value, bool):
                raise BadRequest(f"event setting {key!r} must be true or false", field=key)
            values[key] = value
        return replace(defaults or cls(), **values).checked()

    def checked(self) -> EventRules:
        """These rules, or BadRequest naming the first value out of range."""
        if not 1 <= self.max_seats_per_buyer <= 100:
            raise BadRequest("max_seats_per_buyer must be 1..100", field="max_seats_per_buyer")
        if not 10 <= self.hold_ttl_s <= self.max_hold_s <= 24 * 3600:
            raise BadRequest("need 10 <= hold_ttl_s <= max_hold_s <= 86400", field="hold_ttl_s")
        url = self.checkout_url
        if url and (len(url) > 2000 or not url.startswith(("https://", "http://")) or " " in url):
            raise BadRequest("checkout_url must be an http(s) URL", field="checkout_url")
        return self

    def to_json(self) -> dict[str, Any]:
        """The rules as a JSON object."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Event:
    """One event row."""

    id: int
    venue_id: int
    title: str
    starts_at: datetime | None
    rules: EventRules


def _event(row: asyncpg.Record) -> Event:
    return Event(
        id=row["id"],
        venue_id=row["venue_id"],
        title=row["title"],
        starts_at=row["starts_at"],
        rules=EventRules.from_json(orjson.loads(row["settings"])),
    )


async def create_event(
    conn: asyncpg.Connection,
    venue_id: int,
    title: str,
    starts_at: datetime | None = None,
    rules: EventRules | None = None,
) -> Event:
    """Insert an event for an existing venue; raises NotFound for an unknown venue."""
    exists = await conn.fetchval("SELECT 1 FROM venues WHERE id = $1", venue_id)
    if not exists:
        raise NotFound(f"venue {venue_id} does not exist", venue_id=venue_id)
    rules = rules or EventRules()
    row = await conn.fetchrow(
        "INSERT INTO events (venue_id, title, starts_at, settings) "
        "VALUES ($1, $2, $3, $4::jsonb) RETURNING *",
        venue_id,
        title,
        starts_at,
        orjson.dumps(rules.to_json()).decode(),
    )
    assert row is not None
    return _event(row)


async def get_event(conn: asyncpg.Connection, event_id: int) -> Event:
    """The event with this id; raises NotFound if there is none."""
    row = await conn.fetchrow("SELECT * FROM events WHERE id = $1", event_id)
    if row is None:
        raise NotFound(f"event {event_id} does not exist", event_id=event_id)
    return _event(row)


async def list_events(conn: asyncpg.Connection) -> list[Event]:
    """All events, oldest first."""
    return [_event(r) for r in await conn.fetch("SELECT * FROM events ORDER BY id")]
