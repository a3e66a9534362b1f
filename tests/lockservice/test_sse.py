"""Server-sent events over real HTTP: message format, resume by Last-Event-ID, resets,
heartbeats, the status snapshot, and a clean end at shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import orjson

from lockservice.holds import Holds
from lockservice.keys import event_keys
from seatmap.context import ServiceContext
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from tests.conftest import free_port
from tests.lockservice.conftest import LockServer, new_event
from tests.lockservice.test_rules import seats


@dataclass
class Sse:
    """One parsed server-sent event (or comment)."""

    id: str | None = None
    event: str = "message"
    data: str = ""
    comments: list[str] = field(default_factory=list)
    retry: int | None = None


async def sse_events(response: httpx.Response) -> AsyncIterator[Sse]:
    """Parse a text/event-stream response into events; comments and retry lines too."""
    current = Sse()
    async for line in response.aiter_lines():
        if line == "":
            yield current
            current = Sse()
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                current.id = value
            elif name == "event":
                current.event = value
            elif name == "data":
                current.data += value
            elif name == "retry":
                current.retry = int(value)


async def next_event(events: AsyncIterator[Sse], timeout_s: float = 5.0) -> Sse:
    """The next event that carries data (skips retry-only blocks and heartbeats)."""
    while True:
        found = await asyncio.wait_for(anext(events), timeout_s)
        if found.data or found.event != "message":
            return found


async def stream_ids(ctx: ServiceContext, event_id: int, after: str) -> list[str]:
    key = event_keys(ctx.settings.redis_prefix, event_id).log
    ms, seq = after.split("-")
    entries = await ctx.redis.xrange(key, min=f"{ms}-{int(seq) + 1}")
    return [e[0].decode() for e in entries]


async def test_each_change_arrives_with_its_stream_id_seats_and_dirty_tiles(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        events = sse_events(response)
        first = await asyncio.wait_for(anext(events), 5)
        assert first.retry == 2000  # sent once the subscription is in place
        wanted = seats(view, "C", 1, 2)
        hold = await holds.hold(view, "b1", wanted)
        message = await next_event(events)
        keys = event_keys(ctx.settings.redis_prefix, view.event.id)
        newest = (await ctx.redis.xrevrange(keys.log, count=1))[0][0].decode()
        assert message.id == newest
        data = orjson.loads(message.data)
        assert data["kind"] == "hold"
        assert data["seats"] == [[s, SeatStatus.HELD] for s in wanted]
        assert set(data["dirty"]) == {str(z) for z in range(view.grid.max_zoom + 1)}
        for rects in data["dirty"].values():
            assert rects and all(len(r) == 4 and r[0] <= r[2] and r[1] <= r[3] for r in rects)
        # A sale in progress is shown as held, never as "confirming".
        await holds.mark_confirming(view.event.id, hold.token, "", "k")
        confirming = orjson.loads((await next_event(events)).data)
        assert confirming["kind"] == "confirming"
        assert confirming["seats"] == [[s, SeatStatus.HELD] for s in wanted]


async def test_reconnect_with_last_event_id_gets_exactly_the_missed_changes_in_order(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", url) as response:
            events = sse_events(response)
            await anext(events)
            await holds.hold(view, "warmup", seats(view, "F", 1, 2))
            last_seen = await next_event(events)
        assert last_seen.id is not None
        expected: list[tuple[str, list[list[int]]]] = []
        for n in range(50):  # 100 changes while disconnected: 50 holds, 50 releases
            row = "ABCDE"[n % 5]
            section = "101" if n % 2 else "102"
            hold = await holds.hold(view, f"b{n}", seats(view, row, 3, 4, section=section))
            expected.append(("hold", [[s, SeatStatus.HELD] for s in hold.seats]))
            await holds.release(view, f"b{n}", hold.token)
            expected.append(("release", [[s, SeatStatus.AVAILABLE] for s in hold.seats]))
        missed_ids = await stream_ids(ctx, view.event.id, last_seen.id)
        assert len(missed_ids) == 100
        headers = {"Last-Event-ID": last_seen.id}
        async with client.stream("GET", url, headers=headers) as response:
            events = sse_events(response)
            got = [await next_event(events) for _ in range(100)]
            assert [e.id for e in got] == missed_ids
            assert [(orjson.loads(e.data)["kind"], orjson.loads(e.data)["seats"]) for e in got] == (
                expected
            )
            # Then live changes follow, with nothing repeated.
            await holds.hold(view, "late", seats(view, "F", 5, 6))
            live = await next_event(events)
            assert live.id == (await stream_ids(ctx, view.event.id, missed_ids[-1]))[0]
            assert orjson.loads(live.data)["kind"] == "hold"


async def test_resume_from_a_trimmed_or_unknown_id_gets_a_reset(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    key = event_keys(ctx.settings.redis_prefix, view.event.id).log
    old_id = (await ctx.redis.xrevrange(key, count=1))[0][0].decode()
    for row in "BCD":
        await holds.hold(view, row, seats(view, row, 1, 2))
    await ctx.redis.xtrim(key, maxlen=1, approximate=False)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    async with httpx.AsyncClient(timeout=10) as client:
        for last_id in (old_id, "not-an-id", "99999999999999-0"):
            async with client.stream("GET", url, headers={"Last-Event-ID": last_id}) as response:
                reset = await next_event(sse_events(response))
                assert reset.event == "reset", last_id


async def test_heartbeat_comments_keep_an_idle_stream_alive(
    ctx: ServiceContext, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", url) as response:
        events = sse_events(response)
        started = time.monotonic()
        while True:
            found = await asyncio.wait_for(anext(events), 3)
            if "hb" in found.comments:
                break
        assert time.monotonic() - started < 2


async def test_status_snapshot_and_its_etag_are_a_resume_point(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    held = seats(view, "C", 1, 2)
    await holds.hold(view, "b1", held)
    base = f"{lock_server.url}/events/{view.event.id}"
    async with httpx.AsyncClient(timeout=10) as client:
        snapshot = await client.get(f"{base}/status.bin")
        assert snapshot.status_code == 200
        assert len(snapshot.content) == view.venue.seat_count
        assert [snapshot.content[s] for s in held] == [SeatStatus.HELD] * 2
        etag = snapshot.headers["etag"]
        again = await client.get(f"{base}/status.bin", headers={"If-None-Match": etag})
        assert again.status_code == 304
        resume = etag.strip('"')
        async with client.stream("GET", f"{base}/stream?last_event_id={resume}") as response:
            events = sse_events(response)
            await holds.hold(view, "b2", seats(view, "D", 1, 2))
            message = await next_event(events)
            assert message.id == (await stream_ids(ctx, view.event.id, resume))[0]
        changed = await client.get(f"{base}/status.bin", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_shutdown_ends_open_streams_with_a_retry_hint(
    ctx: ServiceContext, settings: Settings
) -> None:
    view = await new_event(ctx)
    port = free_port()
    env = {
        **os.environ,
        "SEATMAP_DATABASE_URL": settings.database_url or "",
        "SEATMAP_REDIS_URL": settings.redis_url or "",
        "SEATMAP_REDIS_PREFIX": settings.redis_prefix,
        "SEATMAP_API_KEY": settings.api_key,
        "SEATMAP_SESSION_SECRET": settings.session_secret,
        "SEATMAP_DATA_DIR": str(settings.data_dir),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "lockservice.app:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "20",
        ],
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}/events/{view.event.id}/stream"
        async with httpx.AsyncClient(timeout=20) as client:
            for _ in range(200):
                try:
                    await client.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            async with client.stream("GET", url) as response:
                lines = response.aiter_lines()
                assert (await anext(lines)).startswith("retry:")
                started = time.monotonic()
                server.send_signal(signal.SIGTERM)
                rest = [line async for line in lines]
                assert time.monotonic() - started < 5, "the stream held up the shutdown"
                assert any(line.startswith("retry:") for line in rest)
        # uvicorn re-raises the signal it handled once it has shut down cleanly.
        assert server.wait(timeout=10) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
