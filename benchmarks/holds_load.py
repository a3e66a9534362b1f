"""Load generation for `benchmarks/holds.py`: hold plans, raw HTTP/1.1 clients, SSE clients."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import psutil
import scratch

from lockservice.blocks import restricted_seats
from seatmap.model import Venue
from seatmap.settings import Settings

SSE_CONNECT_BATCH = 250
SERVER_SCRIPT = Path(__file__).resolve().parent / "holds_server.py"


def plan_blocks(venue: Venue) -> list[list[int]]:
    """Cut every run of neighbouring seats into blocks of 2-4 seats, leaving no single seat.

    Held in any order, such blocks never conflict and never strand a seat.
    """
    left, right = venue.seats.left, venue.seats.right
    blocks: list[list[int]] = []
    for row in venue.rows:
        for start in row.seat_indices:
            if left[start] >= 0:
                continue
            run = [start]
            while right[run[-1]] >= 0:
                run.append(int(right[run[-1]]))
            sizes = [2] * (len(run) // 2)
            if len(run) % 2:
                if not sizes:
                    continue
                sizes[-1] = 3
            i = 0
            for size in sizes:
                blocks.append(run[i : i + size])
                i += size
    order = np.random.default_rng(7).permutation(len(blocks))
    return [blocks[i] for i in order]


def hold_request(path: str, venue: Venue, seats: list[int], token: str) -> bytes:
    """The raw bytes of one hold request (seats named by their external ids)."""
    restricted = restricted_seats(venue)
    body = orjson.dumps(
        {
            "seats": [venue.seats.external_ids[s] for s in seats],
            "accessible": bool(restricted[seats].any()),
        }
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class LoadResult:
    """What one load run measured."""

    clients: int
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    ok: int = 0
    other: int = 0
    latencies_s: list[float] = field(default_factory=list)

    @property
    def ok_per_s(self) -> float:
        """Successful holds per second."""
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0


def percentile(values_s: list[float], pct: float) -> float:
    """A percentile of seconds, in milliseconds."""
    return float(np.percentile(np.array(values_s), pct) * 1000) if values_s else float("nan")


def result_line(name: str, result: LoadResult) -> str:
    """One printed line: holds per second, latency percentiles and app CPU per hold."""
    p50, p99 = percentile(result.latencies_s, 50), percentile(result.latencies_s, 99)
    cpu_ms = result.server_cpu_s / max(result.ok, 1) * 1000
    return (
        f"{name:<24} {result.ok_per_s:>6.0f} holds/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
        f"({result.ok} ok, {result.other} other, {result.clients} connections; "
        f"app CPU {cpu_ms:.2f} ms per hold)"
    )


@contextlib.contextmanager
def hold_server(
    settings: Settings, workers: int, port: int = 0
) -> Iterator[tuple[int, list[psutil.Process]]]:
    """`holds_server.py` on `settings` with load-test limits: (its port, its processes).

    The rate limiter still runs on every hold, with a budget sized for a load test;
    the per-address seat cap is off, as every simulated buyer comes from 127.0.0.1.
    """
    port = port or scratch.free_port()
    env = scratch.server_environ(
        settings,
        SEATMAP_PORT=str(port),
        SEATMAP_WORKERS=str(workers),
        SEATMAP_LOG_JSON="0",
        SEATMAP_RATE_LIMIT_HOLDS_PER_MIN="100000000",
        SEATMAP_MAX_SEATS_PER_ADDRESS="0",
    )
    command = [sys.executable, str(SERVER_SCRIPT)]
    with scratch.ServerProcess(command, f"http://127.0.0.1:{port}/readyz", env=env) as server:
        yield port, scratch.process_tree(server.pid)


def memory_bytes(processes: list[psutil.Process]) -> int:
    """Resident memory of these processes."""
    return sum(p.memory_info().rss for p in processes)


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def run_load(
    port: int,
    requests: list[bytes],
    seconds: float,
    clients: int,
    server: list[psutil.Process] | None = None,
) -> LoadResult:
    """Send the requests over `clients` keep-alive connections until done or out of time."""
    result = LoadResult(clients)
    cpu_before = scratch.cpu_seconds(server or [])
    next_index = 0
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_index < len(requests) and time.perf_counter() < deadline:
                request = requests[next_index]
                next_index += 1
                started = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                result.latencies_s.append(time.perf_counter() - started)
                if status == 201:
                    result.ok += 1
                else:
                    result.other += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(clients)))
    result.elapsed_s = time.perf_counter() - started
    result.server_cpu_s = scratch.cpu_seconds(server or []) - cpu_before
    return result


class SseClient(asyncio.Protocol):
    """A minimal SSE client: keeps every chunk with its arrival time."""

    def __init__(self, request: bytes, connected: asyncio.Event, counter: list[int]) -> None:
        self.request = request
        self.connected = connected
        self.counter = counter
        self.chunks: list[bytes] = []
        self.times: list[float] = []
        self.ready = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the GET."""
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        """Record the chunk and when it came."""
        self.times.append(time.perf_counter())
        self.chunks.append(data)
        if not self.ready and b"retry:" in data:
            self.ready = True
            self.counter[0] += 1
            if self.counter[0] == self.counter[1]:
                self.connected.set()

    def arrival(self, marker: bytes) -> float | None:
        """When the chunk that completed `marker` arrived."""
        stream = b"".join(self.chunks)
        at = stream.find(marker)
        if at < 0:
            return None
        ends = np.cumsum([len(c) for c in self.chunks]).tolist()
        return self.times[bisect.bisect_left(ends, at + len(marker))]


@dataclass
class SseResult:
    """SSE delivery figures."""

    connected: int
    latencies_s: list[float]  # from the hold's HTTP reply to arrival
    from_request_s: list[float]  # from sending the hold request to arrival
    spread_s: list[float]  # per message: last arrival minus first arrival
    missing: int
    bytes_per_connection: float


async def _connect(
    port: int, get: bytes, clients: int, server: list[psutil.Process]
) -> tuple[list[SseClient], list[asyncio.BaseTransport], float, int]:
    """Open the SSE clients; returns them with the server's memory per connection.

    Memory per connection is the growth from half the clients to all of them: the
    first half soaks up memory the server freed earlier and would reuse anyway.
    """
    loop = asyncio.get_running_loop()
    connected = asyncio.Event()
    counter = [0, clients]
    protocols: list[SseClient] = []
    transports: list[asyncio.BaseTransport] = []
    half = clients // 2
    rss_half = 0
    for first in range(0, clients, SSE_CONNECT_BATCH):
        if first >= half and not rss_half:
            await asyncio.sleep(1.0)
            rss_half = memory_bytes(server)
        batch = await asyncio.gather(
            *(
                loop.create_connection(
                    lambda: SseClient(get, connected, counter), "127.0.0.1", port
                )
                for _ in range(min(SSE_CONNECT_BATCH, clients - first))
            )
        )
        for transport, protocol in batch:
            transports.append(transport)
            protocols.append(protocol)
    await asyncio.wait_for(connected.wait(), 60)
    await asyncio.sleep(2.0)
    per_connection = (memory_bytes(server) - rss_half) / max(1, clients - half)
    return protocols, transports, per_connection, counter[0]


async def sse_phase(
    port: int,
    path: str,
    hold_requests: list[bytes],
    first_seats: list[int],
    clients: int,
    server: list[psutil.Process],
    interval_s: float,
) -> SseResult:
    """Connect `clients` SSE clients, make holds one by one, time every delivery."""
    get = f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode()
    protocols, transports, per_connection, connected = await _connect(port, get, clients, server)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies: list[tuple[int, float, float]] = []
    for request, seat in zip(hold_requests, first_seats, strict=False):
        sent = time.perf_counter()
        writer.write(request)
        status = await _read_response(reader)
        replies.append((seat, sent, time.perf_counter()))
        assert status == 201, status
        await asyncio.sleep(interval_s)
    await asyncio.sleep(2.0)
    writer.close()
    latencies: list[float] = []
    from_request: list[float] = []
    arrivals: dict[int, list[float]] = {seat: [] for seat, _, _ in replies}
    missing = 0
    for protocol in protocols:
        for seat, sent, replied in replies:
            arrived = protocol.arrival(b'"seats":[[%d,1]' % seat)
            if arrived is None:
                missing += 1
            else:
                latencies.append(arrived - replied)
                from_request.append(arrived - sent)
                arrivals[seat].append(arrived)
    spread = [max(a) - min(a) for a in arrivals.values() if a]
    for open_transport in transports:
        open_transport.close()
    return SseResult(connected, latencies, from_request, spread, missing, per_connection)
