"""SSE clients for `benchmarks/holds.py`: many raw connections, each chunk timed on arrival."""

from __future__ import annotations

import asyncio
import bisect
import time
from dataclasses import dataclass

import numpy as np
import psutil
from holds_load import memory_bytes, read_response

SSE_CONNECT_BATCH = 250


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
        status = await read_response(reader)
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
