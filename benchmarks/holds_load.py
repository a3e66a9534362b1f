"""Load generation for `benchmarks/holds.py`: hold plans, raw HTTP/1.1 clients, SSE clients."""

from __future__ import annotations

import asyncio
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


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (head and Content-Length body); its status code."""
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
                status = await read_response(reader)
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
