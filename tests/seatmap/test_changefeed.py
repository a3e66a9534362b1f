from __future__ import annotations

import asyncio

import numpy as np
import pytest

from seatmap.changeentry import BadEntry, parse_entry
from seatmap.changefeed import FOLLOWER_IDLE_S, ChangeFeed, FeedEnded
from seatmap.context import ServiceContext
from seatmap.livekeys import generation_key, status_key, stream_key
from seatmap.metrics import Metrics, create_metrics
from seatmap.status import SeatStatus
from tests.conftest import parametrize_redis

SEATS = 50
IDLE_S = 0.5  # a short idle time, so dropping idle followers is seen within a test


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every change-feed test against single Redis and against a Redis Cluster."""
    parametrize_redis(metafunc)


async def _feed(
    ctx: ServiceContext,
    event_id: int,
    metrics: Metrics | None = None,
    idle_s: float = FOLLOWER_IDLE_S,
) -> ChangeFeed:
    async def seat_count(_: int) -> int:
        return SEATS

    return ChangeFeed(ctx.redis, ctx.settings.redis_prefix, seat_count, metrics, idle_s=idle_s)


def bad_entries(metrics: Metrics, reader: str) -> float:
    """`seatmap_changelog_bad_entries_total{reader}` of `metrics`."""
    found = metrics.registry.get_sample_value(
        "seatmap_changelog_bad_entries_total", {"reader": reader}
    )
    return found or 0.0


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


async def test_a_garbled_entry_between_two_good_ones_is_skipped_counted_and_logged(
    ctx: ServiceContext, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry nobody can decode carries no change: the follower logs it once, counts it
    and reads on, so the next good entry still reaches the statuses and subscribers."""
    event_id = 910_006
    prefix = ctx.settings.redis_prefix
    metrics = create_metrics()
    feed = await _feed(ctx, event_id, metrics=metrics)
    try:
        follower = await feed.follower(event_id)
        async with feed.subscribe(event_id) as sub:
            first = await _log(ctx, event_id, "hold", SeatStatus.HELD, [1])
            garbled = {"kind": "hold", "status": "garbled", "seats": "2"}
            bad = (await ctx.redis.xadd(stream_key(prefix, event_id), garbled)).decode()
            second = await _log(ctx, event_id, "sold", SeatStatus.SOLD, [3])
            got = [(await asyncio.wait_for(sub.get(), 3)).id for _ in range(2)]
            assert got == [first, second] and sub.queue.empty() and not sub.ended
        assert follower.alive and follower.last_id == second
        assert follower.status[1] == SeatStatus.HELD and follower.status[3] == SeatStatus.SOLD
        assert follower.status[2] == SeatStatus.AVAILABLE
        assert bad_entries(metrics, "follower") == 1
        errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert len([m for m in errors if bad in m and str(event_id) in m]) == 1, errors
    finally:
        await feed.close()


def test_entries_that_are_no_change_cannot_be_parsed() -> None:
    for fields in (
        {b"kind": b"hold", b"status": b"garbled", b"seats": b"2"},
        {b"kind": b"hold", b"status": b"300", b"seats": b"2"},
        {b"kind": b"hold", b"status": b"1", b"seats": b"2,x"},
        {b"kind": b"hold", b"status": b"1", b"seats": b"-1"},
        {b"kind": b"hold", b"status": b"1", b"seats": b"99999999999999999999"},
        {b"kind": b"\xff", b"status": b"1", b"seats": b"2"},
    ):
        with pytest.raises(BadEntry):
            parse_entry(b"1-1", fields)
    entry = parse_entry(b"1-2", {b"kind": b"sold", b"status": b"2", b"seats": b"4,5"})
    assert entry.kind == "sold" and entry.status == SeatStatus.SOLD
    assert entry.seats.tolist() == [4, 5]


async def test_a_follower_that_fails_ends_its_subscriptions_and_a_fresh_one_takes_over(
    ctx: ServiceContext,
) -> None:
    """A reader that stops for anything but Redis being away (here: a generation token that
    is not text) ends its subscriptions: subscribers get what was queued and then FeedEnded
    (never a silent wait), and the next use of the event starts a new follower from a
    fresh snapshot, its version above the failed one's."""
    event_id = 910_005
    prefix = ctx.settings.redis_prefix
    feed = await _feed(ctx, event_id)
    try:
        failed = await feed.follower(event_id)
        token = failed.generation
        async with feed.subscribe(event_id) as sub:
            held = await _log(ctx, event_id, "hold", SeatStatus.HELD, [1])
            assert (await asyncio.wait_for(sub.get(), 2)).id == held
            await ctx.redis.set(generation_key(prefix, event_id), b"\xff\xfe")
            with pytest.raises(FeedEnded):
                await asyncio.wait_for(sub.get(), 3)
        assert not failed.alive
        await ctx.redis.set(generation_key(prefix, event_id), token)
        last_version = failed.version
        await _log(ctx, event_id, "sold", SeatStatus.SOLD, [4])
        fresh = await feed.follower(event_id)
        assert fresh is not failed and fresh.alive and fresh.version > last_version
        assert failed.version > last_version  # what was cached against it is stale now
        await _until(lambda: fresh.status[4] == SeatStatus.SOLD)
        assert fresh.status[1] == SeatStatus.HELD
    finally:
        await feed.close()


async def test_a_follower_nobody_uses_is_stopped_and_a_later_one_goes_on_from_its_version(
    ctx: ServiceContext,
) -> None:
    """A follower with a subscriber is kept however long; one neither subscribed to nor
    asked for during the idle time stops reading and is dropped; asking again gives a
    working follower whose version is above every version of the dropped one."""
    watched, unwatched = 910_007, 910_008
    feed = await _feed(ctx, watched, idle_s=IDLE_S)
    try:
        async with feed.subscribe(watched) as sub:
            kept = await feed.follower(watched)
            dropped = await feed.follower(unwatched)
            reader = dropped._task
            assert reader is not None and dropped.alive
            await _log(ctx, unwatched, "hold", SeatStatus.HELD, [5])
            await _until(lambda: dropped.status[5] == SeatStatus.HELD)
            last_version = dropped.version
            await _until(lambda: unwatched not in feed._followers, timeout_s=IDLE_S * 10)
            await _until(reader.done)  # no more reads of its Stream
            assert not dropped.alive
            assert dropped.version > last_version  # caches holding it see it moved
            await asyncio.sleep(IDLE_S * 2)
            assert feed._followers.get(watched) is kept and kept.alive  # subscribed: kept
            entry_id = await _log(ctx, watched, "sold", SeatStatus.SOLD, [6])
            assert (await asyncio.wait_for(sub.get(), 3)).id == entry_id

        again = await feed.follower(unwatched)
        assert again is not dropped and again.alive and again.version > dropped.version
        assert again.status[5] == SeatStatus.HELD  # from a fresh snapshot
        async with feed.subscribe(unwatched) as sub:
            entry_id = await _log(ctx, unwatched, "sold", SeatStatus.SOLD, [7])
            assert (await asyncio.wait_for(sub.get(), 3)).id == entry_id
        assert again.status[7] == SeatStatus.SOLD
        # With its last subscriber gone, the watched event is dropped too.
        await _until(lambda: watched not in feed._followers, timeout_s=IDLE_S * 10)
        await _until(lambda: not kept.alive)
    finally:
        await feed.close()
