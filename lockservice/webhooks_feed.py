"""Turn seat changes made in Redis into webhook messages, none lost or doubled.

Releases, expiries, blocks and unblocks happen in Redis and are logged in each
event's change log (a Stream, `seatmap.livekeys`). For every event that some
endpoint listens to, a cursor in PostgreSQL (`webhook_feed_cursors`: the
Stream's generation token and the last entry id read) says how far the log has
been turned into outbox rows. One step locks the cursor row (`FOR UPDATE SKIP
LOCKED`, so app nodes share the work and never read one event twice at once),
reads the entries after it, inserts their messages and moves the cursor, all in
one transaction: a crash before the commit leaves the cursor where it was and
the next step reads the same entries again; the unique message id per endpoint
keeps a repeat from queueing anything twice.

A Stream that was recreated (Redis lost its data: a new generation token) is
read from its start; the changes of the lost Stream are gone with it, and the
reconciler's repairs are logged as `reconcile`, which is no webhook kind.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from httpkit.errors import is_backend_fault
from lockservice.webhooks_payloads import CHANGE_KINDS, change_body, change_message_id, entry_time
from lockservice.webhooks_store import Change, enqueue_changes
from seatmap.changeentry import decode_entry, skip_entry
from seatmap.changefeed import GENERATION_BYTES
from seatmap.context import ServiceContext
from seatmap.livekeys import generation_key, stream_key

log = logging.getLogger(__name__)

READ_COUNT = 500  # entries per transaction
MAX_BATCHES = 20  # per event per pass; the rest waits for the next pass
STEP_TIMEOUT_S = 10.0  # one step (PostgreSQL and Redis) at most
START = "0-0"
# Events whose change logs have a listener: all of them if a global endpoint wants changes.
EVENTS_SQL = """
SELECT id FROM events
WHERE EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.kinds && $1::text[]
              AND (e.event_id IS NULL OR e.event_id = events.id))
ORDER BY id
"""


class OutboxFeed:
    """Follows the change logs of the events that endpoints listen to (one pass at a time)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        # (generation, last id) committed per event, to skip events whose log did not move.
        self._seen: dict[int, tuple[str, str]] = {}

    async def run_once(self) -> int:
        """One pass over every listened-to event; returns the entries read."""
        async with self.ctx.pool.acquire() as conn:
            rows = await conn.fetch(EVENTS_SQL, list(set(CHANGE_KINDS.values())))
        events = [int(r[0]) for r in rows]
        if not events:
            return 0
        moved = await self._moved(events)
        total = 0
        for event_id in moved:
            try:
                total += await self._follow(event_id)
            except Exception as exc:  # one event's trouble never holds up the others
                if not is_backend_fault(exc):
                    log.exception("webhooks: reading the change log of event %d", event_id)
                    continue
                log.warning("webhooks: change log of event %d: %s: %s",
                            event_id, type(exc).__name__, exc)
        return total

    async def _follow(self, event_id: int) -> int:
        """Steps until the event's cursor is at the end of its log (or MAX_BATCHES)."""
        total = 0
        for _ in range(MAX_BATCHES):
            async with asyncio.timeout(STEP_TIMEOUT_S):  # a rollback leaves the cursor
                read = await self.step(event_id)
            total += read
            if read < READ_COUNT:
                break
        return total

    async def _moved(self, events: list[int]) -> list[int]:
        """The events whose newest log entry (or generation) differs from what was seen."""
        prefix = self.ctx.settings.redis_prefix
        async with self.ctx.redis.pipeline(transaction=False) as pipe:
            for event_id in events:
                pipe.get(generation_key(prefix, event_id))
                pipe.xrevrange(stream_key(prefix, event_id), count=1)
            replies = await pipe.execute()
        moved = []
        for i, event_id in enumerate(events):
            generation, newest = replies[2 * i], replies[2 * i + 1]
            now = (
                generation.decode() if generation else "",
                newest[0][0].decode() if newest else START,
            )
            if self._seen.get(event_id) != now:
                moved.append(event_id)
        return moved

    async def step(self, event_id: int) -> int:
        """Turn up to READ_COUNT entries after the event's cursor into outbox rows and move
        the cursor, in one transaction; 0 if another node holds the cursor right now."""
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO webhook_feed_cursors (event_id, generation, last_id) "
                "VALUES ($1, '', $2) ON CONFLICT DO NOTHING",
                event_id,
                START,
            )
            cursor = await conn.fetchrow(
                "SELECT generation, last_id FROM webhook_feed_cursors WHERE event_id = $1 "
                "FOR UPDATE SKIP LOCKED",
                event_id,
            )
            if cursor is None:
                return 0
            generation, entries = await self._read(event_id, cursor[0], cursor[1])
            if generation != cursor[0] and cursor[0]:
                log.warning(
                    "change log of event %d was recreated (generation %s -> %s): "
                    "webhooks follow the new one from its start", event_id, cursor[0], generation,
                )  # fmt: skip
            if entries:
                last_id = entries[-1][0].decode()
            else:
                last_id = cursor[1] if generation == cursor[0] else START
            view = await self.ctx.catalog.get(event_id)
            changes = []
            metrics = self.ctx.metrics
            for raw_id, fields in entries:
                # An entry that cannot be decoded is read past: it would stop the cursor for good.
                entry = decode_entry(event_id, raw_id, fields, generation, "webhooks", metrics)
                if entry is None:
                    continue
                kind = CHANGE_KINDS.get(entry.kind)
                if kind is None or not entry.seats.size:
                    continue
                if int(entry.seats.max()) >= view.venue.seat_count:
                    skip_entry(event_id, raw_id, "webhooks", metrics, "a seat the venue lacks")
                    continue
                body = change_body(
                    view.venue, kind=kind, event_id=event_id, generation=generation,
                    entry_id=entry.id, seats=entry.seats.tolist(),
                )  # fmt: skip
                message_id = change_message_id(event_id, generation, entry.id)
                changes.append(Change(message_id, kind, body, entry_time(entry.id)))
            await enqueue_changes(conn, event_id, changes)
            await conn.execute(
                "UPDATE webhook_feed_cursors SET generation = $2, last_id = $3, updated_at = now() "
                "WHERE event_id = $1",
                event_id,
                generation,
                last_id,
            )
        self._seen[event_id] = (generation, last_id)
        return len(entries)

    async def _read(
        self, event_id: int, generation: str, after: str
    ) -> tuple[str, list[tuple[bytes, dict[bytes, bytes]]]]:
        """The Stream's generation and up to READ_COUNT entries after `after` in it (from
        the start if the generation is not `generation`), read atomically."""
        prefix = self.ctx.settings.redis_prefix
        gen_key, log_key = generation_key(prefix, event_id), stream_key(prefix, event_id)
        start = "-" if after == START else f"({after}"
        current, entries = await self._range(gen_key, log_key, start)
        if current != generation and after != START:
            current, entries = await self._range(gen_key, log_key, "-")
        return current, entries

    async def _range(
        self, gen_key: str, log_key: str, start: str
    ) -> tuple[str, list[tuple[bytes, dict[bytes, bytes]]]]:
        async with self.ctx.redis.pipeline(transaction=True) as pipe:
            # A missing token is created as the change feed creates it (SET NX).
            pipe.set(gen_key, secrets.token_hex(GENERATION_BYTES), nx=True)
            pipe.get(gen_key)
            pipe.xrange(log_key, min=start, max="+", count=READ_COUNT)
            replies: list[Any] = await pipe.execute()
        return replies[1].decode(), list(replies[2])
