"""The hold lifecycle: take, read, extend, release, expire (sweeper), and who may touch it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import pytest

from lockservice.adminscripts import register_scripts
from lockservice.errors import HoldConflict, HoldGone, NotHoldOwner, RuleViolation
from lockservice.holds import Holds
from lockservice.keys import event_keys
from seatmap.context import ServiceContext
from seatmap.events import EventRules
from seatmap.status import SeatStatus
from tests.lockservice.conftest import (
    bearer,
    buyer_token,
    clocked,
    confirm_headers,
    hold_over_http,
    in_process_client,
    new_event,
    request_hold,
)
from tests.lockservice.test_rules import seats


async def test_hold_takes_all_seats_and_logs_one_change(ctx: ServiceContext, holds: Holds) -> None:
    view = await new_event(ctx)
    wanted = seats(view, "C", 4, 5, 6)
    hold = await holds.hold(view, "buyer-a", wanted)
    status = await holds.statuses(view.event.id)
    assert [status[s] for s in hold.seats] == [SeatStatus.HELD] * 3
    keys = event_keys(ctx.settings.redis_prefix, view.event.id)
    entries: Any = await ctx.redis.xrange(keys.log)
    assert [e[1][b"kind"] for e in entries] == [b"reset", b"hold"]
    assert entries[-1][1] == {
        b"kind": b"hold",
        b"status": b"1",
        b"seats": ",".join(map(str, wanted)).encode(),
    }


async def test_conflicting_hold_lists_taken_seats_and_takes_nothing(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx)
    await holds.hold(view, "b1", seats(view, "C", 3, 4, 5, 6))
    with pytest.raises(HoldConflict) as caught:
        await holds.hold(view, "b2", seats(view, "C", 5, 6, 7, 8))
    assert caught.value.status_code == 409
    assert caught.value.seats == ["101-C-5", "101-C-6"]
    status = await holds.statuses(view.event.id)
    assert [status[s] for s in seats(view, "C", 7, 8)] == [SeatStatus.AVAILABLE] * 2


async def test_fencing_only_grows_per_event(ctx: ServiceContext, holds: Holds) -> None:
    view = await new_event(ctx)
    fencings = []
    for row in "BCDE":
        hold = await holds.hold(view, "b1", seats(view, row, 1, 2))
        fencings.append(hold.fencing)
        await holds.release(view, "b1", hold.token)
    assert fencings == sorted(set(fencings)) and len(fencings) == 4


async def test_extend_moves_expiry_but_never_past_the_maximum(ctx: ServiceContext) -> None:
    clock, fctx = clocked(ctx)
    fholds = Holds(fctx, register_scripts(ctx.redis))
    view = await new_event(fctx, EventRules(hold_ttl_s=60, max_hold_s=150))
    hold = await fholds.hold(view, "b1", seats(view, "C", 1, 2))
    assert hold.expires_ms == clock.ms + 60_000
    clock.advance(50_000)
    extended = await fholds.extend(view, "b1", hold.token)
    assert extended.expires_ms == clock.ms + 60_000
    clock.advance(50_000)
    capped = await fholds.extend(view, "b1", hold.token)
    assert capped.expires_ms == hold.created_ms + 150_000 == capped.max_expires_ms
    clock.advance(50_001)
    with pytest.raises(HoldGone) as caught:
        await fholds.extend(view, "b1", hold.token)
    assert caught.value.state == "expired" and caught.value.status_code == 410


async def test_released_and_expired_holds_are_gone_for_their_owner(ctx: ServiceContext) -> None:
    clock, fctx = clocked(ctx)
    fholds = Holds(fctx, register_scripts(ctx.redis))
    view = await new_event(fctx, EventRules(hold_ttl_s=60))
    released = await fholds.hold(view, "b1", seats(view, "C", 1, 2))
    assert await fholds.release(view, "b1", released.token) == 0
    expiring = await fholds.hold(view, "b1", seats(view, "D", 1, 2))
    clock.advance(60_000)
    for hold, state in ((released, "released"), (expiring, "expired")):
        with pytest.raises(HoldGone) as caught:
            await fholds.get(view.event.id, "b1", hold.token)
        assert caught.value.state == state
        with pytest.raises(HoldGone):
            await fholds.release(view, "b1", hold.token)
    with pytest.raises(NotHoldOwner):
        await fholds.get(view.event.id, "b1", "x" * 32)


async def test_sweeper_releases_a_hold_within_one_second_of_expiry(ctx: ServiceContext) -> None:
    clock, fctx = clocked(ctx)
    view = await new_event(fctx, EventRules(hold_ttl_s=30))
    keys = event_keys(ctx.settings.redis_prefix, view.event.id)
    token, _ = buyer_token(ctx.settings, clock.ms)
    async with in_process_client(fctx) as api:
        hold = await hold_over_http(api, view, token, ["101-C-1", "101-C-2"])
        wanted = [s["index"] for s in hold["seats"]]
        clock.advance(29_999)
        await asyncio.sleep(0.6)  # a few sweeps: not due yet
        status = await ctx.redis.getrange(keys.status, wanted[0], wanted[0])
        assert status == b"\x01"
        clock.advance(1)
        started = time.monotonic()
        while (await ctx.redis.getrange(keys.status, wanted[0], wanted[0])) != b"\x00":
            assert time.monotonic() - started < 1.0, "hold not released within 1 s of expiry"
            await asyncio.sleep(0.02)
        newest: Any = await ctx.redis.xrevrange(keys.log, count=1)
        last = newest[0][1]
        assert last[b"kind"] == b"expire"
        assert sorted(map(int, last[b"seats"].split(b","))) == sorted(wanted)
        gone = await api.get(
            f"/events/{view.event.id}/holds/{hold['hold_token']}", headers=bearer(token)
        )
        assert gone.status_code == 410 and gone.json()["state"] == "expired"


async def test_another_buyers_token_gets_404_everywhere_and_changes_nothing(
    ctx: ServiceContext,
) -> None:
    view = await new_event(ctx)
    owner, _ = buyer_token(ctx.settings)
    other, _ = buyer_token(ctx.settings)
    base = f"/events/{view.event.id}/holds"
    async with in_process_client(ctx) as api:
        token = (await hold_over_http(api, view, owner, ["101-C-1", "101-C-2"]))["hold_token"]
        before = (await api.get(f"{base}/{token}", headers=bearer(owner))).json()
        attempts = [
            api.get(f"{base}/{token}", headers=bearer(other)),
            api.post(f"{base}/{token}/extend", headers=bearer(other)),
            api.request("DELETE", f"{base}/{token}", headers=bearer(other)),
            api.request(
                "DELETE", f"{base}/{token}", json={"seats": ["101-C-1"]}, headers=bearer(other)
            ),
            api.post(
                f"{base}/{token}/confirm",
                headers={**bearer(other), **confirm_headers("k-other")},
            ),
        ]
        for reply in await asyncio.gather(*attempts):
            assert reply.status_code == 404, reply.text
            assert reply.json()["error"] == "hold_not_found"
        after = (await api.get(f"{base}/{token}", headers=bearer(owner))).json()
        assert after == before and after["state"] == "held"
        status = await holds_status(ctx, view.event.id, [s["index"] for s in after["seats"]])
        assert status == [SeatStatus.HELD] * 2


async def holds_status(ctx: ServiceContext, event_id: int, indices: list[int]) -> list[int]:
    """Live statuses of some seats."""
    raw = await ctx.redis.get(event_keys(ctx.settings.redis_prefix, event_id).status)
    assert isinstance(raw, bytes)
    return [raw[i] for i in indices]


async def test_hold_lifecycle_over_http(ctx: ServiceContext) -> None:
    view = await new_event(ctx)
    token, buyer_id = buyer_token(ctx.settings)
    base = f"/events/{view.event.id}/holds"
    async with in_process_client(ctx) as api:
        body = await hold_over_http(api, view, token, ["s1-C-1", "101-C-2", "101-C-3"])
        assert {"hold_token", "fencing", "seats", "expires_at"} <= body.keys()
        assert [s["label"] for s in body["seats"]] == ["101-C-1", "101-C-2", "101-C-3"]
        assert body["seats"][0]["id"] == "s1-C-1"
        hold_url = f"{base}/{body['hold_token']}"
        extended = await api.post(f"{hold_url}/extend", headers=bearer(token))
        assert extended.status_code == 200 and extended.json()["expires_at"] >= body["expires_at"]
        partial = await api.request(
            "DELETE", hold_url, json={"seats": ["101-C-3"]}, headers=bearer(token)
        )
        assert partial.status_code == 200, partial.text
        assert [s["label"] for s in partial.json()["seats"]] == ["101-C-1", "101-C-2"]
        done = await api.delete(hold_url, headers=bearer(token))
        assert done.status_code == 204
        gone = await api.get(hold_url, headers=bearer(token))
        assert gone.status_code == 410 and gone.json()["error"] == "hold_gone"
        taken = await request_hold(api, view, token, ["101-C-2"])
        assert taken.status_code == 422 and taken.json()["error"] == "orphan_seat"
        assert taken.json()["alternative"]
    assert buyer_id


class SkewedClock:
    """An app host whose clock is ten minutes fast."""

    def now_ms(self) -> int:
        """The host's wrong time."""
        return time.time_ns() // 1_000_000 + 600_000

    def pinned_ms(self) -> int:
        """Scripts use Redis's clock."""
        return 0


async def redis_now_ms(ctx: ServiceContext) -> int:
    """Redis's own clock in ms."""
    seconds, micros = await ctx.redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_hold_expiry_and_extension_follow_redis_not_the_host_clock(
    ctx: ServiceContext,
) -> None:
    skewed = Holds(dataclasses.replace(ctx, clock=SkewedClock()), register_scripts(ctx.redis))
    view = await new_event(ctx, EventRules(hold_ttl_s=60, max_hold_s=120))
    started = await redis_now_ms(ctx)
    hold = await skewed.hold(view, "b1", seats(view, "C", 1, 2))
    assert started <= hold.created_ms <= started + 1000
    assert hold.expires_ms == hold.created_ms + 60_000
    assert hold.max_expires_ms == hold.created_ms + 120_000
    extended = await skewed.extend(view, "b1", hold.token)
    assert hold.expires_ms <= extended.expires_ms <= await redis_now_ms(ctx) + 60_000
    assert (await skewed.get(view.event.id, "b1", hold.token)).state == "held"


async def test_one_address_holds_at_most_the_cap_across_buyer_identities(
    ctx: ServiceContext,
) -> None:
    capped = dataclasses.replace(ctx, settings=ctx.settings.with_overrides(max_seats_per_address=6))
    holds = Holds(capped, register_scripts(ctx.redis))
    view = await new_event(capped, EventRules(no_orphans=False))
    address = "203.0.113.7"
    taken = [
        await holds.hold(view, f"id-{n}", seats(view, "C", 1 + 2 * n, 2 + 2 * n), address=address)
        for n in range(3)
    ]
    with pytest.raises(RuleViolation) as caught:
        await holds.hold(view, "id-3", seats(view, "D", 1), address=address)
    assert caught.value.rule == "max_seats_per_address"
    assert caught.value.extra["limit"] == 6 and caught.value.extra["held"] == 6
    # Another address is not affected; releasing, expiring or selling frees the address's share.
    await holds.hold(view, "id-4", seats(view, "D", 1, 2), address="198.51.100.9")
    await holds.release(view, "id-0", taken[0].token)
    again = await holds.hold(view, "id-5", seats(view, "E", 1, 2), address=address)
    await holds.mark_confirming(view.event.id, again.token, "", "sale-1")
    assert await holds.mark_sold(view.event.id, again.token, again.fencing)
    await holds.end(view.event.id, taken[1].token, force=True)
    await holds.hold(view, "id-6", seats(view, "F", 1, 2, 3, 4), address=address)
    keys = event_keys(ctx.settings.redis_prefix, view.event.id)
    assert int(await ctx.redis.hget(keys.addresses, address) or 0) == 6
