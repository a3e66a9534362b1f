"""Edges of the live stream: a client that stops reading, and resume ids out of range.

A client with a small receive buffer stops reading while the event changes fast,
then reads again. It must get every message in order, or `event: reset`, or the
end of the stream (so its EventSource reconnects), within a bounded time; if it
is still connected, heartbeats and later changes keep coming. Never silence on
an open connection, also when a write to it fails (a send made to fail the
moment it would have to wait for the client's socket).

A Last-Event-ID (header or `?last_event_id=`) that is not a position of the
Stream (parts beyond 64 bits, negative, garbage, ahead of the Stream) gets 200
and `event: reset` (reason `resume_unavailable`), and the stream stays open;
on single Redis and on a Redis Cluster.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import httpx
import orjson
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lockservice.app import create_app
from lockservice.broadcaster import AHEAD_WAIT_S
from lockservice.ssewire import parse_position
from seatmap.context import EventView, ServiceContext
from seatmap.livekeys import stream_key
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from tests.conftest import REDIS_VARIANTS, LiveServer
from tests.lockservice.conftest import new_event
from tests.ops.streamclients import Client, LogTruth, Spec, apply_events

HEARTBEAT_S = 0.3
# Every connection's kernel send buffer, fixed (Linux would autotune it up to 4 MiB on
# loopback and hide the backlog), and the client's receive buffer: small, as a phone's.
SERVER_SNDBUF = 32 * 1024
CLIENT_RCVBUF = 4096
CHANGES = 20_000
BURST = 100  # changes per burst, a burst every BURST_PAUSE_S: 2,000 changes/s
BURST_PAUSE_S = 0.05
SEATS_EACH = 20
CATCH_UP_S = 20.0
LIVE_S = 5.0
U64 = 2**64


class SmallBufferServer(LiveServer):
    """An ASGI app under uvicorn in this process, every accepted socket's send buffer fixed."""

    def __init__(self, app: ASGIApp, sndbuf: int) -> None:
        super().__init__(app)
        self.listener = socket.create_server(("127.0.0.1", self.port), backlog=128)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)  # inherited
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.listener]}, daemon=True
        )

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        super().stop()
        self.listener.close()


class FailingWhenFull:
    """Makes a stream's write fail the moment it would have to wait for the client's socket
    (flow control), as a broken send does; counts the failures."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.failures = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/stream"):
            await self.app(scope, receive, send)
            return

        async def failing(message: Message) -> None:
            step = send(message)
            try:
                step.send(None)  # type: ignore[attr-defined]
            except StopIteration:
                return  # the socket took it at once
            step.close()  # type: ignore[attr-defined]  # it would wait: nothing was written
            self.failures += 1
            raise RuntimeError("await wasn't used with future")

        await self.app(scope, receive, failing)


@dataclass
class RawStream:
    """One SSE response read from a blocking raw socket with a small receive buffer."""

    sock: socket.socket
    pending: bytes = b""
    chunked: bool = False  # the body comes in HTTP/1.1 chunks (then `raw` holds the framing)
    raw: bytes = b""
    body: bytearray = field(default_factory=bytearray)  # complete events read so far
    events: list[tuple[str, str]] = field(default_factory=list)  # (event or "heartbeat", id)
    eof: bool = False

    @classmethod
    def open(cls, port: int, path: str, last_id: str) -> RawStream:
        """Connect (SO_RCVBUF set before the handshake), send the request, read the head."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", port))
        sock.sendall(  # HTTP/1.0: the body is the event stream itself, not chunked
            f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
            f"Last-Event-ID: {last_id}\r\n\r\n".encode()
        )
        stream = cls(sock)
        while b"\r\n\r\n" not in stream.pending:
            stream.pending += sock.recv(4096)
        head, _, rest = stream.pending.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        stream.chunked = b"transfer-encoding: chunked" in head.lower()
        stream.pending = b""
        stream._take(rest)
        return stream

    def _take(self, data: bytes) -> None:
        """Add received bytes to `pending`, without the chunk framing if there is one."""
        if not self.chunked:
            self.pending += data
            return
        self.raw += data
        while True:
            size_line, found, rest = self.raw.partition(b"\r\n")
            if not found:
                return
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            self.pending += rest[:size]
            self.raw = rest[size + 2 :]
            if size == 0:
                self.eof = True
                return

    def read_until(self, done: Callable[[RawStream], bool], timeout_s: float) -> None:
        """Read until `done(self)`, the end of the stream, or `timeout_s` of it all."""
        deadline = time.monotonic() + timeout_s
        while not self.eof and not done(self):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(min(left, 1.0))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionError:
                chunk = b""
            if not chunk:
                self.eof = True
                return
            self._take(chunk)
            complete, _, self.pending = self.pending.rpartition(b"\n\n")
            if complete:
                self.body += complete + b"\n\n"
                self._note(complete)

    def _note(self, blocks: bytes) -> None:
        for block in blocks.split(b"\n\n"):
            event, event_id = "message", ""
            for line in block.split(b"\n"):
                name, _, value = line.partition(b":")
                if name == b"event":
                    event = value.strip().decode()
                elif name == b"id":
                    event_id = value.strip().decode()
            if event_id or event != "message":
                self.events.append((event, event_id))
            elif block.startswith(b": hb"):
                self.events.append(("heartbeat", ""))

    def last_id(self) -> str:
        """The Stream id of the newest event with an id ("" if none)."""
        ids = [i for _, i in self.events if i]
        return ids[-1].partition(".")[0] if ids else ""

    def heartbeats(self) -> int:
        """How many heartbeat comments have been read."""
        return sum(e == "heartbeat" for e, _ in self.events)


def entry(position: str) -> tuple[int, int]:
    """The Stream id "ms-seq" of a position as a comparable pair."""
    ms, _, seq = position.partition(".")[0].partition("-")
    return int(ms), int(seq)


async def add_changes(ctx: ServiceContext, view: EventView, count: int) -> str:
    """Log `count` changes (holds and releases of random seats) into the event's change log
    at once; the Stream id of the last one."""
    key = stream_key(ctx.settings.redis_prefix, view.event.id)
    chooser = random.Random()
    last = b""
    async with ctx.redis.pipeline(transaction=False) as pipe:
        for n in range(count):
            status = SeatStatus.HELD if n % 2 == 0 else SeatStatus.AVAILABLE
            seats = chooser.sample(range(view.venue.seat_count), SEATS_EACH)
            kind = "hold" if n % 2 == 0 else "release"
            seat_list = ",".join(map(str, seats))
            pipe.xadd(key, {"kind": kind, "status": str(int(status)), "seats": seat_list})
        last = (await pipe.execute())[-1]
    return last.decode() if isinstance(last, bytes) else str(last)


@dataclass
class Lagged:
    """A stream that stopped reading while the event changed, and what is true meanwhile."""

    stream: RawStream
    view: EventView
    last: str  # Stream id of the last change
    truth: LogTruth  # what every seat shows after each change


async def lag_behind(ctx: ServiceContext, server: LiveServer) -> Lagged:
    """Open a stream that reads nothing while CHANGES changes are made."""
    view = await new_event(ctx, sections=8, rows=20, seats_per_row=25)  # 4,000 seats
    async with httpx.AsyncClient(timeout=10) as client:
        snapshot = await client.get(f"{server.url}/events/{view.event.id}/status.bin")
    resume_at = snapshot.headers["x-last-event-id"]
    stream = await asyncio.to_thread(
        RawStream.open, server.port, f"/events/{view.event.id}/stream", resume_at
    )
    last = ""
    for _ in range(CHANGES // BURST):  # the client reads nothing meanwhile
        last = await add_changes(ctx, view, BURST)
        await asyncio.sleep(BURST_PAUSE_S)
    assert ctx.settings.redis_url
    spec = Spec(port=server.port, path="", last_id=resume_at, clients=1,
                base_hex=snapshot.content.hex(), redis_url=ctx.settings.redis_url,
                log_key=stream_key(ctx.settings.redis_prefix, view.event.id))  # fmt: skip
    return Lagged(stream, view, last, await asyncio.to_thread(LogTruth, spec))


def assert_in_order(stream: RawStream) -> None:
    """Ids only grow along the stream (a reset may move the client on, never back)."""
    ids = [entry(i) for _, i in stream.events if i]
    assert ids == sorted(ids), "messages out of order"


@pytest.fixture
def small_buffer_server(settings: Settings) -> Iterator[SmallBufferServer]:
    """The lock service with a 0.3 s heartbeat, its sockets' send buffers fixed small."""
    server = SmallBufferServer(create_app(settings, sse_heartbeat_s=HEARTBEAT_S), SERVER_SNDBUF)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def failing_server(settings: Settings) -> Iterator[tuple[SmallBufferServer, FailingWhenFull]]:
    """As `small_buffer_server`, with every stream write that would wait made to fail."""
    app = FailingWhenFull(create_app(settings, sse_heartbeat_s=HEARTBEAT_S))
    server = SmallBufferServer(app, SERVER_SNDBUF)
    server.start()
    yield server, app
    server.stop()


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_client_that_stopped_reading_gets_every_change_or_a_reset_then_live_ones(
    ctx: ServiceContext, small_buffer_server: SmallBufferServer
) -> None:
    lagged = await lag_behind(ctx, small_buffer_server)
    stream, last, truth = lagged.stream, lagged.last, lagged.truth
    started = time.monotonic()
    await asyncio.to_thread(stream.read_until, lambda s: s.last_id() == last, CATCH_UP_S)
    took = time.monotonic() - started
    kinds = [e for e, _ in stream.events]
    print(f"\nafter {CHANGES} changes: {len(kinds)} events in {took:.1f} s, "
          f"{kinds.count('reset')} resets, eof {stream.eof}")  # fmt: skip
    assert stream.eof or stream.last_id() == last, (
        f"silent for {CATCH_UP_S} s on an open connection at {stream.last_id()}, want {last}"
    )
    assert_in_order(stream)
    if stream.eof:
        return  # closed: the client's EventSource reconnects with its Last-Event-ID
    assert "reset" in kinds, "the client did not overflow its queue: the test tested nothing"
    reader = Client(None, None, 200, truth.states[0].copy())  # type: ignore[arg-type]
    apply_events(reader, bytes(stream.body), truth)
    assert (reader.state == truth.at(last)).all(), "the client's map is not the truth"
    # Still connected: heartbeats and later changes keep coming.
    beats = stream.heartbeats()
    await asyncio.to_thread(stream.read_until, lambda s: s.heartbeats() >= beats + 2, LIVE_S)
    assert stream.heartbeats() >= beats + 2, "no heartbeats after catching up"
    later = await add_changes(ctx, lagged.view, 1)
    await asyncio.to_thread(stream.read_until, lambda s: s.last_id() == later, LIVE_S)
    assert stream.last_id() == later, "a later change did not arrive"
    stream.sock.close()


@pytest.mark.fault
@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_write_that_fails_closes_the_stream_instead_of_leaving_it_silent(
    ctx: ServiceContext, failing_server: tuple[SmallBufferServer, FailingWhenFull]
) -> None:
    server, app = failing_server
    lagged = await lag_behind(ctx, server)
    stream, last = lagged.stream, lagged.last
    assert app.failures >= 1, "no write had to wait: the test tested nothing"
    started = time.monotonic()
    await asyncio.to_thread(stream.read_until, lambda s: s.last_id() == last, CATCH_UP_S)
    took = time.monotonic() - started
    print(f"\nafter a failed write: {len(stream.events)} events, eof {stream.eof} "
          f"after {took:.1f} s")  # fmt: skip
    assert stream.eof or stream.last_id() == last, (
        f"the write failed, yet the connection stayed open and silent for {CATCH_UP_S} s "
        f"at {stream.last_id()}"
    )
    assert_in_order(stream)
    stream.sock.close()


@pytest.fixture
async def stream_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """The lock service over real HTTP with a 0.3 s heartbeat."""
    server = await asyncio.to_thread(
        LiveServer(create_app(settings, sse_heartbeat_s=HEARTBEAT_S)).start
    )
    yield server
    await asyncio.to_thread(server.stop)


def test_a_position_is_two_unsigned_64_bit_numbers_and_a_generation() -> None:
    top = U64 - 1
    assert parse_position(f"{top}-{top}.ab12") == ((top, top), "ab12")
    assert parse_position(" 1-0.ab12 ") == ((1, 0), "ab12")
    bad_ids = [
        f"{U64}-0.ab12",
        f"0-{U64}.ab12",
        "-1-0.ab12",
        "1--1.ab12",
        "1-0",
        "1-0.",
        "1-0.AB12",
        "1.ab12",
        "１-0.ab12",
        "1-0.ab12\nid: 2-0.ab12",
        "",
        "garbage",
    ]
    for bad in bad_ids:
        assert parse_position(bad) is None, bad


@pytest.mark.parametrize("redis_variant", REDIS_VARIANTS, indirect=True, scope="session")
@pytest.mark.timeout(120)
async def test_a_resume_id_out_of_range_or_ahead_gets_a_reset_and_the_stream_stays_open(
    ctx: ServiceContext, stream_server: LiveServer
) -> None:
    view = await new_event(ctx)
    base = f"{stream_server.url}/events/{view.event.id}"
    async with httpx.AsyncClient(timeout=10) as client:
        token = (await client.get(f"{base}/status.bin")).headers["etag"].strip('"').split(".")[1]
        newest = await add_changes(ctx, view, 3)
        at = f"{newest}.{token}"
        ms = entry(newest)[0]
        invalid = [
            f"1-{U64 - 1}",  # no generation
            f"1-{U64}.{token}",  # sequence beyond 64 bits
            f"{U64}-0.{token}",  # milliseconds beyond 64 bits
            f"{10**20 - 1}-{10**20 - 1}.{token}",
            f"-1-0.{token}",
            f"1--5.{token}",
            "garbage",
        ]
        ahead = [f"{ms + 10**6}-0.{token}", f"{U64 - 1}-{U64 - 1}.{token}"]
        for last_id in [*invalid, *ahead]:
            for how in ("header", "query"):
                asked = (
                    {"headers": {"Last-Event-ID": last_id}}
                    if how == "header"
                    else {"params": {"last_event_id": last_id}}
                )
                started = time.monotonic()
                async with client.stream("GET", f"{base}/stream", **asked) as response:  # type: ignore[arg-type]
                    assert response.status_code == 200, (last_id, how)
                    lines = response.aiter_lines()
                    got = await first_event(lines)
                    took = time.monotonic() - started
                    assert got == ("reset", at, "resume_unavailable"), (last_id, how, got)
                    if last_id in invalid:  # not a position at all: nothing to wait for
                        assert took < AHEAD_WAIT_S, (last_id, how, took)
                    # The stream stays open: a heartbeat follows.
                    assert await heartbeat(lines), (last_id, how)
        # Unicode digits are not digits of a position (only the query can carry them).
        wide = {"last_event_id": f"１-0.{token}"}
        async with client.stream("GET", f"{base}/stream", params=wide) as response:
            got = await first_event(response.aiter_lines())
            assert got == ("reset", at, "resume_unavailable"), got


async def first_event(lines: AsyncIterator[str], timeout_s: float = 5.0) -> tuple[str, str, str]:
    """(event, id, reason) of the first event with data: the retry hint and comments skipped."""
    event, event_id, data = "message", "", ""
    async with asyncio.timeout(timeout_s):
        async for line in lines:
            if line == "" and data:
                return event, event_id, orjson.loads(data).get("reason", "")
            name, _, value = line.partition(": ")
            if name == "event":
                event = value
            elif name == "id":
                event_id = value
            elif name == "data":
                data = value
    raise AssertionError("the stream ended before its first event")


async def heartbeat(lines: AsyncIterator[str], timeout_s: float = 3.0) -> bool:
    """Whether a heartbeat comment comes within `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        async for line in lines:
            if line.startswith(": hb"):
                return True
    return False
