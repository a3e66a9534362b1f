"""Confirming holds as sales: idempotency, ownership, stuck sales, the reconciler, and Redis
losing an event (rebuilt from the sales record before anything else runs on it)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lockservice.adminscripts import register_scripts
from lockservice.errors import HoldConflict, HoldGone, NotHoldOwner
from lockservice.holds import CONFIRM_GRACE_MS, Holds
from lockservice.keys import event_keys
from lockservice.reconcile import reconcile_event
from lockservice.service import LockService
from seatmap.context import EventView, ServiceContext
from seatmap.events import EventRules
from seatmap.status import SeatStatus
from tests.conftest import API_KEY_HEADER
from tests.lockservice.conftest import (
    FakeClock,
    buyer_token,
    clocked,
    confirm_headers,
    hold_over_http,
    in_process_client,
    new_event,
    operator_action,
    request_hold,
)
from tests.lockservice.test_holds import holds_status
from tests.lockservice.test_rules import seats


def confirm_url(view: EventView, hold_token: object) -> str:
    return f"/events/{view.event.id}/holds/{hold_token}/confirm"


async def sales_of(ctx: ServiceContext, event_id: int) -> list[tuple[int, int, int]]:
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT seat_index, order_id, fencing FROM sales WHERE event_id = $1 "
            "ORDER BY seat_index",
            event_id,
        )
    return [(r[0], r[1], r[2]) for r in rows]


async def test_confirm_sells_the_seats_durably_and_replays_by_key(ctx: ServiceContext) -> None:
    view = await new_event(ctx)
    token, buyer_id = buyer_token(ctx.settings)
    async with in_process_client(ctx) as api:
        hold = await hold_over_http(api, view, token, ["101-B-1", "101-B-2"])
        headers = confirm_headers("order-1")
        first = await api.post(confirm_url(view, hold["hold_token"]), headers=headers)
        assert first.status_code == 201, first.text
        order = first.json()
        assert order["buyer_id"] == buyer_id and order["fencing"] == hold["fencing"]
        assert order["total_cents"] == 2 * 8000
        again = await api.post(confirm_url(view, hold["hold_token"]), headers=headers)
        assert again.status_code == 200 and again.json() == order
        changed = await api.post(
            confirm_url(view, hold["hold_token"]), headers=headers, json={"note": "other"}
        )
        assert changed.status_code == 422 and changed.json()["error"] == "idempotency_key_reused"
        other_key = await api.post(
            confirm_url(view, hold["hold_token"]),
            headers=confirm_headers("order-2"),
        )
        assert other_key.status_code == 410 and other_key.json()["state"] == "sold"
    indices = [s["index"] for s in order["seats"]]
    assert await holds_status(ctx, view.event.id, indices) == [SeatStatus.SOLD] * 2
    sold = await sales_of(ctx, view.event.id)
    assert [(s, o, f) for s, o, f in sold] == [
        (i, order["order_id"], hold["fencing"]) for i in indices
    ]


async def test_concurrent_confirms_with_one_key_make_exactly_one_order(
    ctx: ServiceContext,
) -> None:
    view = await new_event(ctx)
    token, _ = buyer_token(ctx.settings)
    async with in_process_client(ctx) as api:
        hold = await hold_over_http(api, view, token, ["101-D-1", "101-D-2", "101-D-3"])
        headers = confirm_headers("same-key")
        replies = await asyncio.gather(
            *(api.post(confirm_url(view, hold["hold_token"]), headers=headers) for _ in range(12))
        )
    assert sorted(r.status_code for r in replies) == [200] * 11 + [201]
    assert len({r.json()["order_id"] for r in replies}) == 1
    async with ctx.pool.acquire() as conn:
        orders = await conn.fetchval(
            "SELECT count(*) FROM orders WHERE event_id = $1", view.event.id
        )
    assert orders == 1 and len(await sales_of(ctx, view.event.id)) == 3


async def test_confirm_refuses_without_key_or_for_ended_and_unknown_holds(
    ctx: ServiceContext,
) -> None:
    clock, fctx = clocked(ctx)
    view = await new_event(fctx, EventRules(hold_ttl_s=60))
    token, _ = buyer_token(ctx.settings, clock.ms)
    async with in_process_client(fctx) as api:
        hold = await hold_over_http(api, view, token, ["101-E-1", "101-E-2"])
        url = confirm_url(view, hold["hold_token"])
        no_api_key = await api.post(url, headers={"Idempotency-Key": "k1"})
        assert no_api_key.status_code == 401
        no_idempotency_key = await api.post(url, headers=API_KEY_HEADER)
        assert no_idempotency_key.status_code == 400
        unknown = await api.post(confirm_url(view, "u" * 32), headers=confirm_headers("k1"))
        assert unknown.status_code == 404
        clock.advance(60_000)
        expired = await api.post(url, headers=confirm_headers("k1"))
        assert expired.status_code == 410 and expired.json()["state"] == "expired"
    assert await sales_of(ctx, view.event.id) == []


async def test_hold_confirming_under_another_key_is_a_conflict(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx)
    hold = await holds.hold(view, "b1", seats(view, "C", 1, 2, 3))
    await holds.mark_confirming(view.event.id, hold.token, "", "first-key")
    async with in_process_client(ctx) as api:
        reply = await api.post(confirm_url(view, hold.token), headers=confirm_headers("second"))
        assert reply.status_code == 409 and reply.json()["error"] == "confirm_in_progress"
        # The same key finishes the sale an earlier attempt started.
        reply = await api.post(
            confirm_url(view, hold.token),
            headers=confirm_headers("first-key"),
        )
        assert reply.status_code == 201
    assert len(await sales_of(ctx, view.event.id)) == 3


@pytest.mark.parametrize("committed", [False, True])
async def test_sale_stuck_confirming_is_resolved_by_the_sweeper(
    ctx: ServiceContext, committed: bool
) -> None:
    clock, fctx = clocked(ctx)
    service = LockService(fctx)
    try:
        await _stuck_sale(ctx, service, clock, committed)
    finally:
        await service.shutdown()


async def _stuck_sale(
    ctx: ServiceContext, service: LockService, clock: FakeClock, committed: bool
) -> None:
    fctx = service.ctx
    view = await new_event(fctx, EventRules(hold_ttl_s=30))
    service.events.add(view.event.id)
    wanted = seats(view, "C", 1, 2)
    hold = await service.holds.hold(view, "b1", wanted)
    _, fencing, seat_list = await service.holds.mark_confirming(view.event.id, hold.token, "", "k")
    if committed:  # the process died after PostgreSQL committed, before Redis heard
        async with ctx.pool.acquire() as conn:
            order_id = await conn.fetchval(
                "INSERT INTO orders (event_id, idempotency_key, request_hash, buyer_id, fencing, "
                "total_cents) VALUES ($1, 'k', 'h', 'b1', $2, 0) RETURNING id",
                view.event.id,
                fencing,
            )
            await conn.execute(
                "INSERT INTO sales (event_id, seat_index, order_id, fencing) "
                "SELECT $1, unnest($2::int[]), $3, $4",
                view.event.id,
                seat_list,
                order_id,
                fencing,
            )
    clock.advance(60_000)  # past the hold's own expiry, within the confirm grace time
    await service.sweep_once()
    assert await holds_status(ctx, view.event.id, wanted) == [SeatStatus.CONFIRMING] * 2
    clock.advance(CONFIRM_GRACE_MS)
    await service.sweep_once()
    await service.resolved()  # each stuck sale is settled by a task of its own
    expected = SeatStatus.SOLD if committed else SeatStatus.AVAILABLE
    assert await holds_status(ctx, view.event.id, wanted) == [expected] * 2


async def delete_event_keys(ctx: ServiceContext, event_id: int) -> None:
    """What a Redis flush does to one event (other runs share this Redis: no FLUSHALL)."""
    tag = event_keys(ctx.settings.redis_prefix, event_id).status.rsplit(":", 1)[0]
    doomed = [k async for k in ctx.redis.scan_iter(match=tag.replace("{", "[{]") + "*")]
    assert doomed
    await ctx.redis.delete(*doomed)


async def test_reconciler_restores_every_sold_seat_after_redis_loses_the_event(
    ctx: ServiceContext,
) -> None:
    view = await new_event(ctx, EventRules(max_seats_per_buyer=4))
    token, _ = buyer_token(ctx.settings)
    sold: list[int] = []
    fencings = []
    async with in_process_client(ctx) as api:
        for n, labels in enumerate((["101-B-1", "101-B-2"], ["102-F-11", "102-F-12"])):
            hold = await hold_over_http(api, view, token, labels)
            fencings.append(hold["fencing"])
            reply = await api.post(
                confirm_url(view, hold["hold_token"]),
                headers=confirm_headers(f"flush-{n}"),
            )
            assert reply.status_code == 201
            sold += [s["index"] for s in reply.json()["seats"]]
        blocked = await operator_action(api, view, "block", ["102-A-5"])
        assert blocked.status_code == 200
        await delete_event_keys(ctx, view.event.id)
        result = await reconcile_event(ctx, view.event.id, register_scripts(ctx.redis))
        assert result.rebuilt
        assert await holds_status(ctx, view.event.id, sold) == [SeatStatus.SOLD] * 4
        blocked_index = view.venue.seat_index_of("102-A-5")
        assert blocked_index is not None
        assert await holds_status(ctx, view.event.id, [blocked_index]) == [SeatStatus.BLOCKED]
        # Fencing keeps growing, and the buyer's sold seats still count against the limit.
        other, _ = buyer_token(ctx.settings)
        hold = await hold_over_http(api, view, other, ["101-D-1", "101-D-2"])
        assert int(str(hold["fencing"])) > max(int(str(f)) for f in fencings)
        over = await request_hold(api, view, token, ["101-E-1"])
        assert over.status_code == 422 and over.json()["error"] == "max_seats_per_buyer"


async def test_sale_redis_forgot_cannot_be_sold_again(ctx: ServiceContext, holds: Holds) -> None:
    view = await new_event(ctx)
    async with in_process_client(ctx) as api:
        first, _ = buyer_token(ctx.settings)
        hold = await hold_over_http(api, view, first, ["101-C-1", "101-C-2"])
        reply = await api.post(
            confirm_url(view, hold["hold_token"]),
            headers=confirm_headers("a"),
        )
        assert reply.status_code == 201
        # Redis loses the sold state of those seats (but not the whole event).
        keys = event_keys(ctx.settings.redis_prefix, view.event.id)
        for seat in (s["index"] for s in reply.json()["seats"]):
            await ctx.redis.setrange(keys.status, seat, b"\x00")
        second, _ = buyer_token(ctx.settings)
        again = await hold_over_http(api, view, second, ["101-C-1", "101-C-2"])
        resell = await api.post(
            confirm_url(view, again["hold_token"]),
            headers=confirm_headers("b"),
        )
        assert resell.status_code == 409, resell.text
        assert sorted(resell.json()["seats"]) == ["101-C-1", "101-C-2"]
    assert len(await sales_of(ctx, view.event.id)) == 2
    indices = [s["index"] for s in reply.json()["seats"]]
    assert await holds_status(ctx, view.event.id, indices) == [SeatStatus.SOLD] * 2


async def test_a_lost_event_is_rebuilt_on_first_use_and_its_old_holds_are_void(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx)
    before = await holds.hold(view, "b1", seats(view, "C", 1, 2))
    await delete_event_keys(ctx, view.event.id)
    after = await holds.hold(view, "b2", seats(view, "C", 1, 2))  # rebuilt, then held
    assert after.fencing > before.fencing
    keys = event_keys(ctx.settings.redis_prefix, view.event.id)
    assert int(await ctx.redis.get(keys.epoch) or 0) > 0
    entries: Any = await ctx.redis.xrange(keys.log)
    assert entries[0][1][b"kind"] == b"reset"
    with pytest.raises((NotHoldOwner, HoldGone)):
        await holds.get(view.event.id, "b1", before.token)


async def test_a_status_without_epoch_is_not_trusted_and_the_sales_record_wins(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx)
    sold = seats(view, "D", 3, 4)
    hold = await holds.hold(view, "b1", sold)
    await holds.mark_confirming(view.event.id, hold.token, "b1", "key-1")
    await insert_order(ctx, view.event.id, "key-1", hold.fencing, sold)
    await delete_event_keys(ctx, view.event.id)
    keys = event_keys(ctx.settings.redis_prefix, view.event.id)
    # Something recreated the status (all available) after the loss, but no epoch.
    await ctx.redis.set(keys.status, bytes(view.venue.seat_count))
    with pytest.raises(HoldConflict):
        await holds.hold(view, "b2", sold)
    status = await holds.statuses(view.event.id)
    assert [status[s] for s in sold] == [SeatStatus.SOLD] * 2


async def insert_order(
    ctx: ServiceContext, event_id: int, key: str, fencing: int, sold: list[int]
) -> None:
    """Commit a sale in PostgreSQL the way a confirm does."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        order_id = await conn.fetchval(
            "INSERT INTO orders (event_id, idempotency_key, request_hash, buyer_id, fencing, "
            "total_cents) VALUES ($1, $2, 'h', 'b1', $3, 0) RETURNING id",
            event_id,
            key,
            fencing,
        )
        await conn.execute(
            "INSERT INTO sales (event_id, seat_index, order_id, fencing) "
            "SELECT $1, unnest($2::int[]), $3, $4",
            event_id,
            sold,
            order_id,
            fencing,
        )


async def test_fencing_never_repeats_across_losses_even_for_a_sale_in_flight(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx, EventRules(no_orphans=False))
    issued: list[int] = []
    for round_ in range(4):
        # A sale frozen before the loss commits in PostgreSQL only after the rebuild.
        in_flight = await holds.hold(view, f"b{round_}", seats(view, "C", 1 + 2 * round_))
        await holds.mark_confirming(view.event.id, in_flight.token, "", f"k{round_}")
        issued.append(in_flight.fencing)
        await delete_event_keys(ctx, view.event.id)
        fresh = await holds.hold(view, f"c{round_}", seats(view, "D", 1 + 2 * round_))
        sold = list(in_flight.seats)
        await insert_order(ctx, view.event.id, f"k{round_}", in_flight.fencing, sold)
        issued.append(fresh.fencing)
    assert issued == sorted(issued) and len(set(issued)) == len(issued), issued
