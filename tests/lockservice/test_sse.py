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

from lockservice.fanout import MAX_QUEUED_BYTES, Connection
from lockservice.holds import Holds
from lockservice.keys import event_keys
from lockservice.reconcile import ensure_event_state
from lockservice.replay import REPLAY_MAX_ENTRIES
from lockservice.ssewire import reset_message
from seatmap.context import ServiceContext
from seatmap.livekeys import generation_key
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from tests.conftest import free_port
from tests.lockservice.conftest import LockServer, new_event
from tests.lockservice.test_rules import seats
from tests.ops.api import seat_index, seat_pairs


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
    """The next event that carries data (skips retry-only blocks and heartbeats), within
    `timeout_s` in all: heartbeats alone never keep a test waiting."""
    async with asyncio.timeout(timeout_s):
        while True:
            found = await anext(events)
            if found.data or found.event != "message":
                return found


async def stream_ids(ctx: ServiceContext, event_id: int, after: str) -> list[str]:
    """Stream ids of the change-log entries after position (or Stream id) `after`."""
    key = event_keys(ctx.settings.redis_prefix, event_id).log
    ms, seq = entry_id(after).split("-")
    entries = await ctx.redis.xrange(key, min=f"{ms}-{int(seq) + 1}")
    return [e[0].decode() for e in entries]


def entry_id(at: str | None) -> str:
    """The Stream id part of a position "ms-seq.generation"."""
    assert at is not None
    return at.partition(".")[0]


async def generation(ctx: ServiceContext, event_id: int) -> str:
    """The generation token kept beside the event's Stream."""
    token = await ctx.redis.get(generation_key(ctx.settings.redis_prefix, event_id))
    assert token is not None
    return str(token.decode())


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
        assert message.id == f"{newest}.{await generation(ctx, view.event.id)}"
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
            assert [entry_id(e.id) for e in got] == missed_ids
            assert [(orjson.loads(e.data)["kind"], orjson.loads(e.data)["seats"]) for e in got] == (
                expected
            )
            # Then live changes follow, with nothing repeated.
            await holds.hold(view, "late", seats(view, "F", 5, 6))
            live = await next_event(events)
            assert entry_id(live.id) == (await stream_ids(ctx, view.event.id, missed_ids[-1]))[0]
            assert orjson.loads(live.data)["kind"] == "hold"


async def test_resume_from_a_trimmed_unknown_or_foreign_position_gets_a_reset(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    key = event_keys(ctx.settings.redis_prefix, view.event.id).log
    base = f"{lock_server.url}/events/{view.event.id}"
    async with httpx.AsyncClient(timeout=10) as client:  # the first snapshot names the Stream
        first = await client.get(f"{base}/status.bin")
        assert first.status_code == 200, first.text
        token = first.headers["etag"].strip('"').split(".")[1]
    assert token == await generation(ctx, view.event.id)
    old_id = (await ctx.redis.xrevrange(key, count=1))[0][0].decode()
    for row in "BCD":
        await holds.hold(view, row, seats(view, row, 1, 2))
    await ctx.redis.xtrim(key, maxlen=1, approximate=False)
    newest = (await ctx.redis.xrevrange(key, count=1))[0][0].decode()
    url = f"{base}/stream"
    unprovable = [
        f"{old_id}.{token}",  # trimmed away
        old_id,  # no generation: cannot be proven to be of this Stream
        f"{newest}.0123456789ab",  # another life of the Stream
        "not-an-id",
        f"99999999999999-0.{token}",  # ahead of the Stream
    ]
    async with httpx.AsyncClient(timeout=10) as client:
        for last_id in unprovable:
            async with client.stream("GET", url, headers={"Last-Event-ID": last_id}) as response:
                reset = await next_event(sse_events(response))
                assert reset.event == "reset", last_id
                assert reset.id == f"{newest}.{token}", last_id


async def test_a_recreated_stream_resets_connected_and_resuming_clients(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    """Redis losing an event (as after a restart without data) is a new life of its Stream:
    connected clients get `reset`, and so does a resume from a position of the old life."""
    view = await new_event(ctx)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", url) as response:
            events = sse_events(response)
            await anext(events)
            await holds.hold(view, "before", seats(view, "C", 1, 2))
            before = await next_event(events)
            tag = event_keys(ctx.settings.redis_prefix, view.event.id).status.rsplit(":", 1)[0]
            lost = [key async for key in ctx.redis.scan_iter(match=f"{tag}:*")]
            await ctx.redis.delete(*lost)
            await ensure_event_state(ctx, view.event.id)
            reset = await next_event(events)
        assert reset.event == "reset"
        assert reset.id is not None and reset.id.split(".")[1] != before.id.split(".")[1]
        headers = {"Last-Event-ID": before.id}
        async with client.stream("GET", url, headers=headers) as response:
            resumed = await next_event(sse_events(response))
            assert resumed.event == "reset"
            assert resumed.id == reset.id or entry_id(resumed.id) > entry_id(reset.id)


async def test_a_burst_of_changes_is_coalesced_and_a_lone_change_goes_out_at_once(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    pairs = [[seat_index(view.venue, s) for s in pair] for pair in seat_pairs(view.venue)][:40]
    async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", url) as response:
        events = sse_events(response)
        await anext(events)
        started = time.monotonic()
        await holds.hold(view, "lone", pairs[0])
        lone = await next_event(events)
        assert time.monotonic() - started < 0.05, "a lone change waited for a tick"
        assert orjson.loads(lone.data)["seats"] == [[s, SeatStatus.HELD] for s in pairs[0]]
        burst = pairs[1:]
        await asyncio.gather(*(holds.hold(view, f"b{i}", pair) for i, pair in enumerate(burst)))
        newest = (await stream_ids(ctx, view.event.id, entry_id(lone.id)))[-1]
        got: list[Sse] = []
        while not got or entry_id(got[-1].id) != newest:
            got.append(await next_event(events))
        seen = {s: st for message in got for s, st in orjson.loads(message.data)["seats"]}
        assert seen == {s: SeatStatus.HELD for pair in burst for s in pair}
        assert len(got) < len(burst) / 3, f"{len(burst)} changes came as {len(got)} messages"


async def test_resume_within_the_replay_bound_replays_and_beyond_it_resets(
    ctx: ServiceContext, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    key = event_keys(ctx.settings.redis_prefix, view.event.id).log
    fields = {"kind": "hold", "status": str(int(SeatStatus.HELD)), "seats": "1"}
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", url) as response:
            events = sse_events(response)
            await anext(events)
            await ctx.redis.xadd(key, fields)
            start = await next_event(events)
            async with ctx.redis.pipeline(transaction=False) as pipe:
                for _ in range(REPLAY_MAX_ENTRIES + 10):
                    pipe.xadd(key, fields)
                await pipe.execute()
            ids = await stream_ids(ctx, view.event.id, entry_id(start.id))
            while entry_id((await next_event(events)).id) != ids[-1]:
                pass
        token = start.id.split(".")[1]  # type: ignore[union-attr]
        near = f"{ids[-11]}.{token}"
        async with client.stream("GET", url, headers={"Last-Event-ID": near}) as response:
            events = sse_events(response)
            replayed = [await next_event(events) for _ in range(10)]
            assert [entry_id(e.id) for e in replayed] == ids[-10:]
        async with client.stream("GET", url, headers={"Last-Event-ID": start.id}) as response:
            far = await next_event(sse_events(response))
            assert far.event == "reset" and orjson.loads(far.data)["reason"] == "too_far_behind"
            assert far.id == f"{ids[-1]}.{token}"


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
            assert entry_id(message.id) == (await stream_ids(ctx, view.event.id, resume))[0]
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


class StalledSocket:
    """An ASGI `send` with uvicorn's flow control: once `paused`, sends wait for `resume()`."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self._writable = asyncio.Event()
        self._writable.set()

    async def send(self, message: dict[str, object]) -> None:
        await self._writable.wait()
        body = message.get("body", b"")
        assert isinstance(body, bytes)
        self.bodies.append(body)

    def pause(self) -> None:
        self._writable.clear()

    def resume(self) -> None:
        self._writable.set()


class FixedSource:
    """A broadcaster stand-in whose position the test sets."""

    event_id = 1

    def __init__(self) -> None:
        self.sid = (0, 0)

    def position(self) -> tuple[str, tuple[int, int]]:
        return f"{self.sid[0]}-{self.sid[1]}.ab12", self.sid


async def test_a_client_that_overflows_its_queue_gets_a_reset_and_then_every_later_message() -> (
    None
):
    socket, source = StalledSocket(), FixedSource()
    conn = Connection(socket.send, source)
    conn.catching_up = False
    message = b"x" * 1000
    conn.deliver((1, 0), b"first")
    socket.pause()
    for n in range(2, 2 + MAX_QUEUED_BYTES // len(message) + 10):  # more than the queue holds
        source.sid = (n, 0)
        conn.deliver(source.sid, message)
    await asyncio.sleep(0.01)
    assert len(socket.bodies) == 1 and not conn.closed
    socket.resume()
    await asyncio.sleep(0.01)
    later = (source.sid[0] + 1, 0)
    conn.deliver(later, b"later")
    await asyncio.sleep(0.01)
    assert socket.bodies[0] == b"first" and socket.bodies[1] == message  # the one in flight
    assert socket.bodies[2] == reset_message(f"{source.sid[0]}-0.ab12", "lagged")
    assert socket.bodies[3:] == [b"later"]
    assert not conn.closed
