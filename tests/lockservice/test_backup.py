"""Backup and restore of one event: the same event in a fresh deployment, or beside itself.

The source event (`backup_helpers.on_sale`) has sales, blocked seats, open holds
of several buyers and addresses, and a hold stuck half-way through its sale. It
is restored into a new database and key prefix and compared field by field, as
a renumbered copy in its own deployment, and replaced; what changes between the
backup's two reads is settled as PostgreSQL says. Refusals are in
`test_backup_refusals.py`.
"""

from __future__ import annotations

import pytest

from lockservice import backup_capture
from lockservice.adminscripts import register_scripts
from lockservice.backup_capture import capture_event
from lockservice.backup_format import (
    HoldRecord,
    LiveRecord,
    decode_backup,
    encode_backup,
)
from lockservice.backup_restore import restore_event
from lockservice.errors import BackupRejected, RestoreConflict
from lockservice.holds import Holds
from lockservice.keys import FENCING_EPOCH_SPAN, event_keys
from lockservice.reconcile import ensure_event_state, reconcile_event
from lockservice.sales import confirm, resolve_stuck
from seatmap.context import ServiceContext
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from tests.lockservice.backup_helpers import (
    TIME_TOLERANCE_MS,
    assert_same_holds,
    fresh_deployment,
    live_state,
    on_sale,
    pg_state,
    rows_and_keys,
)


async def test_restore_into_a_fresh_deployment_gives_the_same_event(
    ctx: ServiceContext, holds: Holds, settings: Settings
) -> None:
    view = await on_sale(ctx, holds)
    event_id = view.event.id
    payload = decode_backup(encode_backup(await capture_event(ctx, event_id)))
    source_live = await live_state(ctx, event_id)
    assert len(payload.holds) == 4 and len(payload.orders) == 2 and len(payload.blocked) == 2

    async with fresh_deployment(settings) as target:
        result = await restore_event(target, payload)
        target_live = await live_state(target, event_id)
        assert result.event_id == event_id and result.venue_imported and result.order_ids_kept

        assert await pg_state(target, event_id) == await pg_state(ctx, event_id)
        assert target_live.status == source_live.status
        assert_same_holds(source_live, target_live, TIME_TOLERANCE_MS)
        assert target_live.buyers == source_live.buyers
        assert target_live.addresses == source_live.addresses
        assert target_live.fencing >= result.epoch * FENCING_EPOCH_SPAN > source_live.fencing

        # The restored state is what the sales record says: nothing to rebuild or correct.
        assert not await ensure_event_state(target, event_id)
        fixed = await reconcile_event(target, event_id)
        assert (fixed.made_sold, fixed.made_blocked, fixed.made_available) == (0, 0, 0)
        # Restored holds belong to their owners; new ones get larger fencing numbers.
        target_holds = Holds(target, register_scripts(target.redis))
        view_t = await target.catalog.get(event_id)
        kept = next(h for h in payload.holds if h.buyer_id == "buyer-7")
        assert (await target_holds.get(event_id, "buyer-7", kept.token)).seats == (50,)
        await target_holds.release(view_t, "buyer-7", kept.token)
        fresh = await target_holds.hold(view_t, "buyer-7", [70])
        assert fresh.fencing > max(source_live.fencing, target_live.fencing)
        order = await confirm(target, target_holds, view_t, fresh.token, "order-new", {}, None)
        assert order.fencing == fresh.fencing
        async with target.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM orders") == 3
        # The sale that was stuck half-way is settled there as the sweeper settles any.
        stuck = next(h for h in payload.holds if h.state == "confirming")
        assert stuck.confirm_key == "order-stuck"
        assert await resolve_stuck(target, target_holds, event_id, stuck.token) == "released"
        assert (await live_state(target, event_id)).status[60:62] == bytes(2)


async def test_renumbered_restore_beside_the_original_and_replace(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await on_sale(ctx, holds)
    payload = await capture_event(ctx, view.event.id, with_venue=False)
    assert payload.venue.document is None
    before = await pg_state(ctx, view.event.id)

    with pytest.raises(RestoreConflict, match="already"):
        await restore_event(ctx, payload)
    assert await pg_state(ctx, view.event.id) == before

    async with ctx.pool.acquire() as conn:
        new_id = int(await conn.fetchval("SELECT max(id) FROM events")) + 1000
    result = await restore_event(ctx, payload, new_id)
    assert result.event_id == new_id and not result.venue_imported
    assert not result.order_ids_kept  # the original orders keep their ids
    copy = await pg_state(ctx, new_id)
    assert copy == before
    copy_live = await live_state(ctx, new_id)
    assert copy_live.status == payload.status

    # Replace the copy with a later backup of the source, after one more sale there.
    extra = await holds.hold(view, "buyer-5", [80, 81])
    await confirm(ctx, holds, view, extra.token, "order-late", {}, None)
    later = await capture_event(ctx, view.event.id)
    with pytest.raises(RestoreConflict):
        await restore_event(ctx, later, new_id)
    replaced = await restore_event(ctx, later, new_id, replace=True)
    assert replaced.epoch > result.epoch
    assert await pg_state(ctx, new_id) == await pg_state(ctx, view.event.id)
    assert (await live_state(ctx, new_id)).status == later.status


async def _written(target: ServiceContext) -> tuple[int, int]:
    """Rows in events and orders, and keys under the deployment's prefix."""
    async with target.pool.acquire() as conn:
        rows = int(await conn.fetchval("SELECT (SELECT count(*) FROM events) + "
                                       "(SELECT count(*) FROM orders)"))  # fmt: skip
    keys = [k async for k in target.redis.scan_iter(match=f"{target.settings.redis_prefix}*")]
    return rows, len(keys)


async def test_a_sale_and_a_block_between_the_two_reads_are_settled_as_postgres_says(
    ctx: ServiceContext, holds: Holds, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = await on_sale(ctx, holds)
    event_id = view.event.id
    racing = await holds.hold(view, "buyer-6", [90, 91])
    refused_block = await holds.hold(view, "buyer-4", [95])
    read_live = backup_capture._read_live

    async def sale_and_block_after_redis_was_read(
        ctx_: ServiceContext, event_id_: int
    ) -> tuple[LiveRecord, list[HoldRecord]]:
        live = await read_live(ctx_, event_id_)
        # Sold after Redis was read: the hold is in the Redis read, its sale in PostgreSQL.
        await confirm(ctx, holds, view, racing.token, "order-racing", {}, None)
        # A block committed in PostgreSQL whose Redis step is refused (the seat is held),
        # and one that has not reached Redis yet.
        async with ctx.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO blocked_seats (event_id, seat_index) VALUES ($1, 95), ($1, 99)",
                event_id,
            )
        return live

    monkeypatch.setattr(backup_capture, "_read_live", sale_and_block_after_redis_was_read)
    payload = await capture_event(ctx, event_id)
    assert racing.token not in {h.token for h in payload.holds}
    assert refused_block.token in {h.token for h in payload.holds}
    assert "order-racing" in {o.idempotency_key for o in payload.orders}
    assert {b.seat_index for b in payload.blocked} == {30, 31, 99}
    status = payload.status
    assert (status[90], status[91], status[95], status[99]) == (
        SeatStatus.SOLD, SeatStatus.SOLD, SeatStatus.HELD, SeatStatus.BLOCKED)  # fmt: skip


async def test_without_its_venue_a_backup_restores_only_where_that_venue_is(
    ctx: ServiceContext, holds: Holds, settings: Settings
) -> None:
    view = await on_sale(ctx, holds)
    payload = await capture_event(ctx, view.event.id, with_venue=False)
    async with fresh_deployment(settings) as target:
        with pytest.raises(BackupRejected, match="no venue document"):
            await restore_event(target, payload)
        assert await rows_and_keys(target) == (0, 0)


async def test_an_event_whose_live_state_was_lost_backs_up_its_sales_record(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await on_sale(ctx, holds)
    await ctx.redis.delete(event_keys(ctx.settings.redis_prefix, view.event.id).epoch)
    payload = await capture_event(ctx, view.event.id)
    assert payload.live.epoch is None and payload.holds == []
    assert sorted(set(payload.status)) == [SeatStatus.AVAILABLE, SeatStatus.SOLD,
                                           SeatStatus.BLOCKED]  # fmt: skip
    assert payload.status.count(SeatStatus.SOLD) == 5
