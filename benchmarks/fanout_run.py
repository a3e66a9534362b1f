"""One measured run of the fan-out benchmark: servers up, clients connected, holds driven.

`measure(...)` takes the servers' processes and the address clients connect to,
starts the load-generator processes (benchmarks/fanout_clients.py), drives holds
at a steady rate through the app, and returns what was delivered, how fast, and
at what CPU and memory cost on the server side.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import redis
import scratch

from seatmap.livekeys import stream_key
from seatmap.settings import Settings

HERE = Path(__file__).resolve().parent
SOURCES = [f"127.0.0.{n}" for n in range(2, 10)]  # spread client ports over addresses
SETTLE_S = 3.0


@dataclass
class RunResult:
    """What one run measured."""

    clients: int
    connected: int
    memory_per_connection_kb: float
    seconds: float
    holds: int
    deliveries: int
    lost: int
    duplicated: int
    latencies_ms: list[float] = field(default_factory=list)
    clients_short: int = 0  # clients that missed at least one message
    streams_closed: int = 0  # streams the server ended during the run
    server_cpu_s: float = 0.0
    generator_cpu_s: float = 0.0

    @property
    def deliveries_per_s(self) -> float:
        """Messages delivered to clients per second of driving."""
        return self.deliveries / self.seconds

    @property
    def deliveries_per_cpu_s(self) -> float:
        """Messages delivered per CPU-second of every server-side process."""
        return self.deliveries / self.server_cpu_s if self.server_cpu_s else 0.0


def _rss_kb(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 1024


def _log_lengths(settings: Settings, event_ids: list[int]) -> dict[int, int]:
    assert settings.redis_url is not None
    client = redis.Redis.from_url(settings.redis_url)
    try:
        return {e: int(client.xlen(stream_key(settings.redis_prefix, e))) for e in event_ids}
    finally:
        client.close()


async def _drive(
    app_url: str, event_ids: list[int], seat_ids: list[str], rate: float, seconds: float
) -> dict[tuple[int, int], float]:
    """Hold one seat after another at `rate` per second, events in turn; when each
    hold's reply came, by (event id, seat index)."""
    replies: dict[tuple[int, int], float] = {}
    total = int(rate * seconds)
    async with httpx.AsyncClient(base_url=app_url, timeout=10) as http:
        started = time.monotonic()
        for k in range(total):
            delay = started + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            event_id = event_ids[k % len(event_ids)]
            seat = k // len(event_ids)
            token = (await http.post("/sessions", json={})).json()["token"]
            response = await http.post(
                f"/events/{event_id}/holds",
                json={"seats": [seat_ids[seat]]},
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code == 201:
                replied = time.monotonic()
                # The venue's seat index, as the stream messages carry it.
                replies[(event_id, int(response.json()["seats"][0]["index"]))] = replied
    return replies


def _spawn_generators(
    targets: list[tuple[str, int]], paths: list[str], clients: int, processes: int
) -> list[subprocess.Popen[str]]:
    generators = []
    for g in range(processes):
        share = clients // processes + (1 if g < clients % processes else 0)
        spec = {
            "targets": targets,
            "paths": paths,
            "clients": share,
            "sources": SOURCES,
            "instrumented": 1000 // processes + 1,
        }
        generators.append(
            subprocess.Popen(
                [sys.executable, str(HERE / "fanout_clients.py"), json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    return generators


def measure(
    settings: Settings,
    app_url: str,
    servers: Callable[[], list[psutil.Process]],
    holders: Callable[[], list[psutil.Process]],
    targets: list[tuple[str, int]],
    event_ids: list[int],
    seat_ids: list[str],
    clients: int,
    rate: float,
    seconds: float,
    generator_processes: int,
    drain_s: float = SETTLE_S,
) -> RunResult:
    """Connect `clients` SSE clients to `targets`, drive holds, and measure.

    `servers` are every server-side process (their CPU is counted); `holders` those
    that hold the connections (their memory growth per connection is reported).
    Messages that have not arrived `drain_s` after the last hold count as lost.
    """
    paths = [f"/events/{e}/stream" for e in event_ids]
    rss_before = _rss_kb(holders())
    generators = _spawn_generators(targets, paths, clients, generator_processes)
    connected = 0
    for generator in generators:
        assert generator.stdout is not None
        line = generator.stdout.readline().split()
        connected += int(line[1]) if len(line) == 2 and line[0] == "CONNECTED" else 0
    time.sleep(SETTLE_S)
    rss_after = _rss_kb(holders())
    server_procs = servers()
    generator_procs = [psutil.Process(g.pid) for g in generators]
    cpu_before = scratch.cpu_seconds(server_procs)
    gen_before = scratch.cpu_seconds(generator_procs)
    logs_before = _log_lengths(settings, event_ids)
    started = time.monotonic()
    replies = asyncio.run(_drive(app_url, event_ids, seat_ids, rate, seconds))
    driven = time.monotonic() - started
    time.sleep(drain_s)
    cpu_used = scratch.cpu_seconds(server_procs) - cpu_before
    gen_used = scratch.cpu_seconds(generator_procs) - gen_before
    logs_after = _log_lengths(settings, event_ids)
    expected = {e: logs_after[e] - logs_before[e] for e in event_ids}
    result = RunResult(
        clients=clients,
        connected=connected,
        memory_per_connection_kb=(rss_after - rss_before) / max(connected, 1),
        seconds=driven,
        holds=len(replies),
        deliveries=0,
        lost=0,
        duplicated=0,
        server_cpu_s=cpu_used,
        generator_cpu_s=gen_used,
    )
    for generator in generators:
        assert generator.stdin is not None and generator.stdout is not None
        generator.stdin.write("\n")
        generator.stdin.flush()
        report = json.loads(generator.stdout.readline())
        for path_index, counts in report["messages"].items():
            want = expected[event_ids[int(path_index)]]
            for got in counts:
                result.deliveries += got
                result.lost += max(0, want - got)
                result.duplicated += max(0, got - want)
                result.clients_short += got < want
        result.streams_closed += sum(len(c) for c in report["closed"].values())
        for client in report["instrumented"]:
            event_id = event_ids[client["path"]]
            for seat, arrived in client["arrivals"].items():
                replied = replies.get((event_id, int(seat)))
                if replied is not None:
                    result.latencies_ms.append((arrived - replied) * 1000)
        generator.wait(timeout=30)
    return result
