"""One undecodable change-log entry costs live streams nothing but itself; when the
process stops following an event, its open streams end at once and the clients that
reconnect get live changes again: never a stream kept open by heartbeats alone; and an
event without streams stops being followed."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import httpx
import orjson

from lockservice.holds import Holds
from lockservice.keys import event_keys
from lockservice.sse import StreamHub
from seatmap.changefeed import ChangeFeed
from seatmap.context import ServiceContext
from seatmap.livekeys import generation_key
from seatmap.status import SeatStatus
from tests.lockservice.conftest import LockServer, new_event
from tests.lockservice.test_rules import seats
from tests.lockservice.test_sse import Sse, next_event, sse_events

END_WITHIN_S = 5.0  # the server's heartbeat is 0.3 s: a stalled stream would keep beating
GARBLED = {"kind": "hold", "status": "garbled", "seats": "3"}  # a writer of another format
IDLE_S = 0.5  # a short idle time, so stopping idle broadcasters is seen within a test


async def server_metric(client: httpx.AsyncClient, url: str, name: str, label: str) -> float:
    """The value of the server's sample `name{label}` on /metrics."""
    text = (await client.get(f"{url}/metrics")).text
    found = re.search(rf"^{re.escape(name)}\{{{re.escape(label)}\}} (\S+)$", text, re.M)
    assert found, f"no {name}{{{label}}} on /metrics"
    return float(found.group(1))


async def drops_reader_ended(client: httpx.AsyncClient, url: str) -> float:
    """The server's `seatmap_sse_drops_total{reason="reader_ended"}`."""
    return await server_metric(client, url, "seatmap_sse_drops_total", 'reason="reader_ended"')


async def bad_entries(client: httpx.AsyncClient, url: str, reader: str) -> float:
    """The server's `seatmap_changelog_bad_entries_total{reader}`."""
    label = f'reader="{reader}"'
    return await server_metric(client, url, "seatmap_changelog_bad_entries_total", label)


def seat_changes(message: Sse) -> list[list[int]]:
    """The [seat, public status] pairs of a change message."""
    assert message.event == "message", message
    changes: list[list[int]] = orjson.loads(message.data)["seats"]
    return changes


async def test_an_undecodable_entry_is_skipped_and_the_stream_goes_on_live_and_on_resume(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    log_key = event_keys(ctx.settings.redis_prefix, view.event.id).log
    async with httpx.AsyncClient(timeout=10) as client:
        drops_before = await drops_reader_ended(client, lock_server.url)
        bad_before = await bad_entries(client, lock_server.url, "follower")
        async with client.stream("GET", url) as response:
            assert response.status_code == 200
            events = sse_events(response)
            await holds.hold(view, "b1", seats(view, "C", 1, 2))
            first_id = (await next_event(events)).id
            await ctx.redis.xadd(log_key, GARBLED)
            wanted = seats(view, "D", 1, 2)
            await holds.hold(view, "b2", wanted)
            message = await next_event(events)  # neither an end nor a reset
            assert seat_changes(message) == [[s, SeatStatus.HELD] for s in wanted]
        assert await bad_entries(client, lock_server.url, "follower") == bad_before + 1
        assert await drops_reader_ended(client, lock_server.url) == drops_before

        # A client resuming from before the entry gets what followed it, without a reset.
        headers = {"Last-Event-ID": str(first_id)}
        async with client.stream("GET", url, headers=headers) as response:
            events = sse_events(response)
            caught_up = await next_event(events)
            assert caught_up.id == message.id and seat_changes(caught_up) == seat_changes(message)


async def test_streams_end_with_a_retry_hint_when_the_event_reader_dies_and_reconnects_go_live(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    prefix = ctx.settings.redis_prefix
    async with httpx.AsyncClient(timeout=10) as client:
        drops_before = await drops_reader_ended(client, lock_server.url)
        resume_bad_before = await bad_entries(client, lock_server.url, "sse_resume")
        async with client.stream("GET", url) as response:
            assert response.status_code == 200
            events = sse_events(response)
            await holds.hold(view, "b1", seats(view, "C", 1, 2))
            last_id = (await next_event(events)).id
            token = await ctx.redis.get(generation_key(prefix, view.event.id))
            assert token
            # A generation token that is not text (damage): the process's reader of the
            # event's change log fails on it, and with it the stream's broadcaster.
            await ctx.redis.set(generation_key(prefix, view.event.id), b"\xff\xfe")
            tail: list[Sse] = []
            async with asyncio.timeout(END_WITHIN_S):
                tail.extend([found async for found in events])
        assert tail, "the stream ended without a last message"
        assert tail[-1].retry == 2000 and "live updates interrupted" in tail[-1].comments
        assert await drops_reader_ended(client, lock_server.url) == drops_before + 1

        # Meanwhile the log goes on, an undecodable entry among it; then the token is mended.
        await ctx.redis.xadd(event_keys(prefix, view.event.id).log, GARBLED)
        missed = seats(view, "E", 1, 2)
        await holds.hold(view, "b2", missed)
        await ctx.redis.set(generation_key(prefix, view.event.id), token)

        # The client reconnects as EventSource does: the process follows the event afresh,
        # reads what the client missed from the log (past the undecodable entry) and goes live.
        headers = {"Last-Event-ID": str(last_id)}
        async with client.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            events = sse_events(response)
            caught_up = await next_event(events)
            assert seat_changes(caught_up) == [[s, SeatStatus.HELD] for s in missed]
            wanted = seats(view, "D", 1, 2)
            await holds.hold(view, "b3", wanted)
            message = await next_event(events)
            assert seat_changes(message) == [[s, SeatStatus.HELD] for s in wanted]
        assert await bad_entries(client, lock_server.url, "sse_resume") == resume_bad_before + 1


async def test_a_broadcaster_without_streams_stops_and_then_its_event_is_not_followed(
    ctx: ServiceContext,
) -> None:
    """The broadcaster's subscription would keep the event followed for ever: once it has
    had no stream for the idle time it stops, and then the change feed drops the event."""
    view = await new_event(ctx)
    event_id = view.event.id
    feed = ChangeFeed(ctx.redis, ctx.settings.redis_prefix, ctx.catalog.seat_count,
                      idle_s=IDLE_S)  # fmt: skip
    hub = StreamHub(dataclasses.replace(ctx, feed=feed), heartbeat_s=0.05, idle_s=IDLE_S)
    hub.start()
    try:
        broadcaster = await hub.broadcaster(view)
        follower = await feed.follower(event_id)
        assert follower.subscribers and broadcaster.alive
        async with asyncio.timeout(IDLE_S * 10):
            while event_id in hub.broadcasters or broadcaster.alive:
                await asyncio.sleep(0.02)
            while event_id in feed._followers or follower.alive:
                await asyncio.sleep(0.02)
        again = await hub.broadcaster(view)
        assert again is not broadcaster and again.alive
        assert (await feed.follower(event_id)).version > follower.version
    finally:
        await hub.stop()
        await feed.close()
