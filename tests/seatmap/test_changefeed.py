from __future__ import annotations

import asyncio

import numpy as np
import pytest

from seatmap.changefeed import ChangeFeed, FeedEnded
from seatmap.context import ServiceContext
from seatmap.livekeys import generation_key, status_key, stream_key
from seatmap.status import SeatStatus
from tests.conftest import parametrize_redis

SEATS = 50


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every change-feed test against single Redis and against a Redis Cluster."""
    parametrize_redis(metafunc)


async def _feed(ctx: ServiceContext, event_id: int) -> ChangeFeed:
    async def seat_count(_: int) -> int:
        return SEATS

    return ChangeFeed(ctx.redis, ctx.settings.redis_prefix, seat_count)


async def _log(ctx: ServiceContext, event_id: int, kind: str, status: int, seats: list[int]) -> str:
    prefix = ctx.settings.redis_prefix
    raw = bytearray(await ctx.redis.get(status_key(prefix, event_id)) or bytes(SEATS))
    for s in seats:
        raw[s] = status
    async with ctx.redis.pipeline(transaction=True) as pipe:
        pipe.set(status_key(prefix, event_id), bytes(raw))
        pipe.xadd(
            stream_key(prefix, event_id),
            {"kind": kind, "status": str(status), "seats": ",".join(map(str, seats))},
        )
        _, entry_id = await pipe.execute()
    return str(entry_id.decode())


async def _until(predicate: object, timeout_s: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_follower_starts_from_snapshot_and_applies_later_changes(ctx: ServiceContext) -> None:
    event_id = 910_001
    await _log(ctx, event_id, "hold", SeatStatus.HELD, [1, 2])
    feed = await _feed(ctx, event_id)
    try:
        status = await feed.statuses(event_id)
        assert status[1] == status[2] == SeatStatus.HELD and status[0] == SeatStatus.AVAILABLE
        async with feed.subscribe(event_id) as sub:
            entry_id = await _log(ctx, event_id, "sold", SeatStatus.SOLD, [2, 7])
            entry = await asyncio.wait_for(sub.queue.get(), timeout=2)
            assert entry.id == entry_id and entry.kind == "sold"
            np.testing.assert_array_equal(entry.seats, [2, 7])
        status = await feed.statuses(event_id)
        assert status[2] == status[7] == SeatStatus.SOLD and status[1] == SeatStatus.HELD
    finally:
        await feed.close()


async def test_two_followers_see_every_change_in_order(ctx: ServiceContext) -> None:
    event_id = 910_002
    feeds = [await _feed(ctx, event_id) for _ in range(2)]
    try:
        subs = []
        for feed in feeds:
            await feed.statuses(event_id)
        async with feeds[0].subscribe(event_id) as a, feeds[1].subscribe(event_id) as b:
            subs = [a, b]
            ids = [await _log(ctx, event_id, "hold", SeatStatus.HELD, [i]) for i in range(20)]
            for sub in subs:
                got = [(await asyncio.wait_for(sub.queue.get(), 2)).id for _ in ids]
                assert got == ids
        for feed in feeds:
            assert (await feed.statuses(event_id))[:20].tolist() == [SeatStatus.HELD] * 20
    finally:
        for feed in feeds:
            await feed.close()


async def test_reset_entry_reloads_the_whole_snapshot(ctx: ServiceContext) -> None:
    event_id = 910_003
    feed = await _feed(ctx, event_id)
    try:
        await feed.statuses(event_id)
        prefix = ctx.settings.redis_prefix
        rebuilt = bytes([SeatStatus.SOLD]) * SEATS
        await ctx.redis.set(status_key(prefix, event_id), rebuilt)  # written without a log entry
        await ctx.redis.xadd(
            stream_key(prefix, event_id), {"kind": "reset", "status": "0", "seats": ""}
        )
        await _until(lambda: bool(((feed._followers[event_id].status) == SeatStatus.SOLD).all()))
    finally:
        await feed.close()


async def test_a_recreated_stream_reloads_the_follower_and_resets_its_subscribers(
    ctx: ServiceContext,
) -> None:
    """Redis losing the event's keys and the log starting anew (ids that may even look
    continuous) is noticed by the generation token: reload, and a `reset` for subscribers."""
    event_id = 910_004
    prefix = ctx.settings.redis_prefix
    await _log(ctx, event_id, "hold", SeatStatus.HELD, [1, 2])
    feed = await _feed(ctx, event_id)
    try:
        follower = await feed.follower(event_id)
        old_generation = follower.generation
        assert old_generation and follower.status[1] == SeatStatus.HELD
        async with feed.subscribe(event_id) as sub:
            await _log(ctx, event_id, "hold", SeatStatus.HELD, [3])
            first = await asyncio.wait_for(sub.queue.get(), 2)
            assert first.generation == old_generation
            keys = [status_key(prefix, event_id), stream_key(prefix, event_id)]
            await ctx.redis.delete(*keys, generation_key(prefix, event_id))
            new_id = await _log(ctx, event_id, "sold", SeatStatus.SOLD, [7])
            entry = await asyncio.wait_for(sub.queue.get(), 3)
            assert entry.kind == "reset" and entry.id == new_id
            assert entry.generation and entry.generation != old_generation
        assert follower.status[7] == SeatStatus.SOLD
        assert follower.status[1] == follower.status[3] == SeatStatus.AVAILABLE
        assert follower.generation == entry.generation
    finally:
        await feed.close()


async def test_a_follower_that_fails_ends_its_subscriptions_and_a_fresh_one_takes_over(
    ctx: ServiceContext,
) -> None:
    """An entry the follower cannot decode stops it: subscribers get what was queued and
    then FeedEnded (never a silent wait), and the next use of the event starts a new
    follower from a fresh snapshot."""
    event_id = 910_005
    prefix = ctx.settings.redis_prefix
    feed = await _feed(ctx, event_id)
    try:
        failed = await feed.follower(event_id)
        async with feed.subscribe(event_id) as sub:
            held = await _log(ctx, event_id, "hold", SeatStatus.HELD, [1])
            garbled = {"kind": "hold", "status": "garbled", "seats": "2"}
            await ctx.redis.xadd(stream_key(prefix, event_id), garbled)
            assert (await asyncio.wait_for(sub.get(), 2)).id == held
            with pytest.raises(FeedEnded):
                await asyncio.wait_for(sub.get(), 3)
        assert not failed.alive
        await _log(ctx, event_id, "sold", SeatStatus.SOLD, [4])
        fresh = await feed.follower(event_id)
        assert fresh is not failed and fresh.alive and fresh.version > failed.version
        await _until(lambda: fresh.status[4] == SeatStatus.SOLD)
        assert fresh.status[1] == SeatStatus.HELD
    finally:
        await feed.close()
