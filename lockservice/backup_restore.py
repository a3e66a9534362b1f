"""Recreate one event from a backup, all or nothing.

1. Everything is checked before anything is written: the file (format, version,
   checksum, shape: `backup_format`), its parts (`backup_check`), the venue
   document against its content hash, and the target: an event with that id, or
   live state for it in Redis, is refused unless `replace` is asked for.
2. One PostgreSQL transaction imports the venue if no venue has its content
   hash, creates the event (or rewrites it, when replacing), writes orders,
   sales and blocked seats, and takes a fencing epoch above every restored
   fencing number (raising the `fencing_epochs` sequence if need be), so neither
   this state nor any rebuilt after a later Redis loss hands out a number again.
3. Still inside that transaction, one Lua script (`backup_scripts.RESTORE`)
   writes the live state: statuses, open holds with their remaining times, counts,
   the fencing counter at or above the epoch's floor, then the epoch. PostgreSQL
   then commits; if the commit fails, the live state just written is removed, so
   the event is rebuilt from PostgreSQL as it was. A Redis failure rolls back.

Order ids are kept when none of them is taken in this deployment, otherwise
every order gets a new id (the idempotency keys, unique per event, stay).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from lockservice.backup_check import check_payload
from lockservice.backup_format import HoldRecord, Payload, decode_backup
from lockservice.backup_scripts import RESTORE_SCRIPT
from lockservice.errors import BackupRejected, RestoreConflict
from lockservice.holdrecord import text
from lockservice.keys import FENCING_EPOCH_SPAN, TOMBSTONE_TTL_MS, event_keys
from seatmap.context import ServiceContext
from seatmap.errors import SeatmapError
from seatmap.formats import parse_native
from seatmap.livekeys import STREAM_MAXLEN
from seatmap.model import Venue
from seatmap.venuestore import save_venue


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore wrote."""

    event_id: int
    venue_id: int
    venue_imported: bool
    orders: int
    order_ids_kept: bool
    holds: int
    blocked: int
    epoch: int


def read_backup(path: Path) -> Payload:
    """A backup file's payload, fully checked; BackupRejected (one line) if anything is off."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BackupRejected(f"{path}: {exc.strerror or exc}") from None
    payload = decode_backup(data)
    check_payload(payload)
    return payload


def backup_venue(payload: Payload) -> Venue | None:
    """The venue document of a backup, parsed and checked against its content hash."""
    if payload.venue.document is None:
        return None
    try:
        venue = parse_native(payload.venue.document)
    except SeatmapError as exc:
        raise BackupRejected(f"venue document: {exc}") from None
    if venue.content_hash != payload.venue.content_hash:
        raise BackupRejected("venue document does not match its content hash")
    if venue.seat_count != payload.venue.seat_count:
        raise BackupRejected("venue document has another number of seats")
    return venue


async def restore_event(
    ctx: ServiceContext, payload: Payload, event_id: int | None = None, replace: bool = False
) -> RestoreResult:
    """Recreate the backed-up event as `event_id` (default: its own id); see the module
    docstring. Raises BackupRejected or RestoreConflict before writing anything."""
    check_payload(payload)
    venue = await asyncio.get_running_loop().run_in_executor(None, backup_venue, payload)
    target = payload.event.id if event_id is None else event_id
    if target < 1:
        raise BackupRejected(f"event id must be positive, not {target}")
    keys = event_keys(ctx.settings.redis_prefix, target)
    if not replace and await ctx.redis.exists(keys.epoch):
        raise RestoreConflict(
            f"event {target} already has live state in Redis; use --replace to overwrite it"
        )
    written: list[str] = []
    async with ctx.pool.acquire() as conn:
        try:
            async with conn.transaction():
                result = await _write_postgres(conn, payload, venue, target, replace)
                await _write_live(ctx, target, payload, result.epoch, replace, written)
        except BaseException:
            if written:  # the commit failed after Redis was written: take it back
                await ctx.redis.delete(*written)
            raise
    ctx.catalog.forget(target)
    return result


async def _write_postgres(
    conn: asyncpg.Connection, payload: Payload, venue: Venue | None, target: int, replace: bool
) -> RestoreResult:
    exists = await conn.fetchval("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", target)
    if exists and not replace:
        raise RestoreConflict(f"event {target} already exists; use --replace to overwrite it")
    venue_id, imported = await _venue_id(conn, payload, venue)
    event = payload.event
    settings = orjson.dumps(event.settings).decode()
    if exists:
        for table in ("sales", "orders", "blocked_seats"):
            await conn.execute(f"DELETE FROM {table} WHERE event_id = $1", target)
        await conn.execute(
            "UPDATE events SET venue_id = $2, title = $3, starts_at = $4, settings = $5::jsonb, "
            "created_at = $6 WHERE id = $1",
            target, venue_id, event.title, event.starts_at, settings, event.created_at,
        )  # fmt: skip
    else:
        await _advance_serial(conn, "events", target)
        await conn.execute(
            "INSERT INTO events (id, venue_id, title, starts_at, settings, created_at) "
            "VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
            target, venue_id, event.title, event.starts_at, settings, event.created_at,
        )  # fmt: skip
    order_ids, kept = await _order_ids(conn, payload)
    await conn.copy_records_to_table(
        "orders",
        columns=["id", "event_id", "idempotency_key", "request_hash", "buyer_id", "fencing",
                 "total_cents", "created_at"],
        records=[
            (oid, target, o.idempotency_key, o.request_hash, o.buyer_id, o.fencing,
             o.total_cents, o.created_at)
            for oid, o in zip(order_ids, payload.orders, strict=True)
        ],
    )  # fmt: skip
    await conn.copy_records_to_table(
        "sales",
        columns=["event_id", "seat_index", "order_id", "fencing", "sold_at"],
        records=[
            (target, s.seat_index, oid, s.fencing, s.sold_at)
            for oid, o in zip(order_ids, payload.orders, strict=True)
            for s in o.sales
        ],
    )
    await conn.copy_records_to_table(
        "blocked_seats",
        columns=["event_id", "seat_index", "blocked_at"],
        records=[(target, b.seat_index, b.blocked_at) for b in payload.blocked],
    )
    epoch = await _epoch_above(conn, payload.max_fencing())
    return RestoreResult(
        target, venue_id, imported, len(payload.orders), kept, len(payload.holds),
        len(payload.blocked), epoch,
    )  # fmt: skip


async def _venue_id(
    conn: asyncpg.Connection, payload: Payload, venue: Venue | None
) -> tuple[int, bool]:
    """The id of a venue with the backup's content hash: found, or imported from the file."""
    found = await conn.fetchrow(
        "SELECT id, seat_count FROM venues WHERE content_hash = $1 ORDER BY id LIMIT 1",
        payload.venue.content_hash,
    )
    if found is not None:
        if found["seat_count"] != payload.venue.seat_count:
            raise BackupRejected(f"venue {found['id']} has the content hash but not the seats")
        return int(found["id"]), False
    if venue is None:
        raise BackupRejected(
            f"venue {payload.venue.content_hash} is not in this deployment and the backup "
            "has no venue document (taken with --no-venue)"
        )
    return await save_venue(conn, venue, payload.venue.source_format), True


async def _advance_serial(conn: asyncpg.Connection, table: str, at_least: int) -> None:
    """Make the table's id sequence hand out only ids above `at_least` from now on."""
    sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
    row = await conn.fetchrow(f"SELECT last_value, is_called FROM {sequence}")
    assert row is not None
    next_id = row["last_value"] + 1 if row["is_called"] else row["last_value"]
    if next_id <= at_least:
        await conn.execute("SELECT setval($1::regclass, $2)", sequence, at_least)


async def _order_ids(conn: asyncpg.Connection, payload: Payload) -> tuple[list[int], bool]:
    """The backed-up order ids if none is taken here, else fresh ones; and which it is."""
    wanted = [o.id for o in payload.orders]
    if not wanted:
        return [], True
    taken = await conn.fetchval("SELECT count(*) FROM orders WHERE id = ANY($1::bigint[])", wanted)
    if taken == 0:
        await _advance_serial(conn, "orders", max(wanted))
        return wanted, True
    fresh = await conn.fetch(
        "SELECT nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, $1)",
        len(wanted),
    )
    return [int(r[0]) for r in fresh], False


async def _epoch_above(conn: asyncpg.Connection, max_fencing: int) -> int:
    """A new fencing epoch whose numbers all lie above `max_fencing`."""
    epoch = int(await conn.fetchval("SELECT nextval('fencing_epochs')"))
    needed = max_fencing // FENCING_EPOCH_SPAN + 1
    if epoch < needed:
        await conn.execute("SELECT setval('fencing_epochs', $1)", needed)
        epoch = needed
    return epoch


def _hold_args(hold: HoldRecord) -> list[Any]:
    return [
        hold.token, hold.buyer_id, hold.address, hold.state, ",".join(map(str, hold.seats)),
        hold.fencing, int(hold.accessible), hold.confirm_key, hold.age_ms, hold.expires_in_ms,
        hold.max_expires_in_ms, hold.due_in_ms,
    ]  # fmt: skip


async def _write_live(
    ctx: ServiceContext,
    event_id: int,
    payload: Payload,
    epoch: int,
    replace: bool,
    written: list[str],
) -> None:
    """Run RESTORE; `written` gets the keys to delete should PostgreSQL not commit."""
    keys = event_keys(ctx.settings.redis_prefix, event_id)
    buyers: Counter[str] = Counter()
    addresses: Counter[str] = Counter()
    for order in payload.orders:
        buyers[order.buyer_id] += len(order.sales)
    for hold in payload.holds:
        buyers[hold.buyer_id] += len(hold.seats)
        if hold.address:
            addresses[hold.address] += len(hold.seats)
    restored = {h.token for h in payload.holds}
    old: list[Any] = await ctx.redis.zrange(keys.expiry, 0, -1) if replace else []
    void = [keys.hold(text(t)) for t in old if text(t) not in restored]
    hold_keys = [keys.hold(h.token) for h in payload.holds]
    base = [keys.epoch, keys.status, keys.fencing, keys.expiry, keys.buyers, keys.addresses]
    args: list[Any] = [
        int(replace), ctx.clock.pinned_ms(), STREAM_MAXLEN, payload.status, epoch,
        epoch * FENCING_EPOCH_SPAN, TOMBSTONE_TTL_MS, len(payload.holds), len(buyers),
        len(addresses),
    ]  # fmt: skip
    for hold in payload.holds:
        args += _hold_args(hold)
    for pairs in (buyers, addresses):
        for name, seats in sorted(pairs.items()):
            args += [name, seats]
    script = ctx.redis.register_script(RESTORE_SCRIPT)
    written += [keys.epoch, keys.status, keys.expiry, keys.buyers, keys.addresses, *hold_keys]
    reply: list[Any] = list(await script(keys=[*base, keys.log, *hold_keys, *void], args=args))
    if text(reply[0]) != "ok":
        written.clear()
        raise RestoreConflict(
            f"event {event_id} got live state in Redis meanwhile; use --replace to overwrite it"
        )
