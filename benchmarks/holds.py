"""Benchmark the lock service: holds per second and latency through HTTP against a
PostgreSQL row-lock baseline, then SSE delivery to thousands of connected clients.

    python benchmarks/holds.py [--seconds 10] [--clients 64] [--sse-clients 5000]

It creates a throw-away database and Redis key prefix on the local servers
(SEATMAP_BENCH_PG_ADMIN_URL, SEATMAP_BENCH_REDIS_URL), generates a stadium, and
starts `benchmarks/holds_server.py` in its own process (uvicorn with --workers worker processes).
Load comes from raw asyncio HTTP/1.1 keep-alive connections, not an HTTP library,
so the client costs little of the machine's two cores. Every hold request is a
block of 2-4 neighbouring seats in a row that never conflicts and never strands
a seat, so both sides do the full successful hold path with all rules checked.
Each side gets enough events on the venue that it never runs out of seats: one
event is held until sold out, then the next, so the load is always one hot event.

SSE: N clients follow the event's stream; one hold per interval is made and the
time from its HTTP reply to the arrival of its message at each client is taken
(negative when the message beat the reply). Server memory per connection is the
growth of the server's RSS divided by the number of connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import secrets
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scratch
from holds_load import (
    LoadResult,
    hold_request,
    hold_server,
    percentile,
    plan_blocks,
    result_line,
    run_load,
)
from holds_server import BASELINE_SCHEMA
from holds_sse import sse_phase

from lockservice.reconcile import ensure_event_state
from lockservice.sessions import issue_token
from seatmap.context import build_context
from seatmap.db import create_pool, migrate
from seatmap.events import EventRules, create_event
from seatmap.generator import generate_venue
from seatmap.model import Venue
from seatmap.runtime import redis_client
from seatmap.settings import Settings
from seatmap.venuestore import save_venue

SECRET = secrets.token_urlsafe(16)
API_KEY = secrets.token_urlsafe(16)
SSE_BLOCKS = 200  # hold plans kept for the SSE phase
HOLDS_PER_S_CEILING = 8_000  # sizes the seat supply so a run never ends early

T = TypeVar("T")


@dataclass
class Setup:
    """The benchmark's data: one venue, an event per side, hold plans and buyers."""

    venue: Venue
    redis_events: list[int]
    pg_events: list[int]
    load: list[tuple[list[int], str]]  # (seats, buyer token), at most 8 seats per buyer
    sse: list[tuple[list[int], str]]

    def requests(self, path: str, events: list[int], skip_first: int) -> list[bytes]:
        """Hold requests over the events in turn, each sold out before the next begins.

        The first `skip_first` plans of the first event are left out (the SSE phase
        holds them).
        """
        return [
            hold_request(path.format(event_id), self.venue, block, token)
            for round_, event_id in enumerate(events)
            for block, token in self.load[(skip_first if round_ == 0 else 0) :]
        ]


async def prepare(conn: asyncpg.Connection, args: argparse.Namespace) -> Setup:
    """Import a generated venue, open an event for each side, plan the holds."""
    await migrate(conn)
    await conn.execute(BASELINE_SCHEMA)
    venue = generate_venue(args.kind, args.seats, 1)
    venue_id = await save_venue(conn, venue, "generated")
    rules = EventRules(max_seats_per_buyer=8)
    blocks = plan_blocks(venue)
    # Enough events that neither side runs out of seats at HOLDS_PER_S_CEILING.
    rounds = max(1, math.ceil(args.seconds * HOLDS_PER_S_CEILING / len(blocks)))
    redis_events = [
        (await create_event(conn, venue_id, f"redis {i}", rules=rules)).id for i in range(rounds)
    ]
    pg_events = [
        (await create_event(conn, venue_id, f"pg {i}", rules=rules)).id for i in range(rounds)
    ]
    await conn.execute(
        "INSERT INTO bench_seats (event_id, seat_index) "
        "SELECT e, generate_series(0, $2 - 1) FROM unnest($1::bigint[]) AS e",
        pg_events,
        venue.seat_count,
    )
    now_ms = time.time_ns() // 1_000_000
    tokens = [issue_token(SECRET, now_ms, 3600)[0] for _ in range(len(blocks) // 2 + 1)]
    planned = [(block, tokens[i // 2]) for i, block in enumerate(blocks)]
    sse = [(block, issue_token(SECRET, now_ms, 3600)[0]) for block in blocks[:SSE_BLOCKS]]
    return Setup(venue, redis_events, pg_events, planned, sse)


async def measure(
    args: argparse.Namespace, setup: Setup, port: int, server: list[psutil.Process]
) -> None:
    """SSE first (on a fresh server, for a clean memory figure), then both hold paths."""
    venue = setup.venue
    sse_event = setup.redis_events[0]
    sse_requests = [
        hold_request(f"/events/{sse_event}/holds", venue, block, token)
        for block, token in setup.sse[: args.sse_messages]
    ]
    sse = await sse_phase(
        port,
        f"/events/{sse_event}/stream",
        sse_requests,
        [block[0] for block, _ in setup.sse],
        args.sse_clients,
        server,
        args.sse_interval,
    )
    print(
        f"SSE to {sse.connected} clients ({len(sse.latencies_s)} deliveries, {sse.missing} "
        f"missing): from the hold's request p50 {percentile(sse.from_request_s, 50):.1f} ms, "
        f"p99 {percentile(sse.from_request_s, 99):.1f} ms; from its reply p50 "
        f"{percentile(sse.latencies_s, 50):.1f} ms, p99 {percentile(sse.latencies_s, 99):.1f} ms "
        f"(negative: the message came first); first to last client p50 "
        f"{percentile(sse.spread_s, 50):.1f} ms; server memory "
        f"{sse.bytes_per_connection / 1024:.1f} KB per connection"
    )
    results: dict[str, LoadResult] = {}
    for name, events, path in (
        ("redis (Lua)", setup.redis_events, "/events/{}/holds"),
        ("postgres (FOR UPDATE)", setup.pg_events, "/baseline/events/{}/holds"),
    ):
        requests = setup.requests(path, events, SSE_BLOCKS)
        warm = min(500, len(requests) // 10)
        await run_load(port, requests[:warm], 2.0, args.clients)
        results[name] = await run_load(port, requests[warm:], args.seconds, args.clients, server)
        print(result_line(name, results[name]))
    ratio = results["redis (Lua)"].ok_per_s / max(results["postgres (FOR UPDATE)"].ok_per_s, 1e-9)
    print(f"ratio redis / postgres: {ratio:.1f}x")


async def prepare_backends(settings: Settings, args: argparse.Namespace) -> Setup:
    """Fill the database, then put the Redis side's events live."""
    assert settings.database_url is not None and settings.redis_url is not None
    pool = await create_pool(settings.database_url, max_size=4)
    redis = redis_client(settings.redis_url)
    try:
        async with pool.acquire() as conn:
            setup = await prepare(conn, args)
        for event_id in setup.redis_events:
            await ensure_event_state(build_context(settings, pool, redis), event_id)
        return setup
    finally:
        await redis.aclose()
        await pool.close()


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on uvloop when it is installed, else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


@contextlib.contextmanager
def scratch_settings(benchmark: str) -> Iterator[Settings]:
    """Settings on a throw-away database, key prefix and data folder, removed afterwards."""
    with (
        scratch.database(benchmark) as database_url,
        scratch.key_prefix(benchmark.replace("_", "-")) as prefix,
        tempfile.TemporaryDirectory(prefix=f"seatmap-bench-{benchmark}-") as data_dir,
    ):
        yield Settings(
            database_url=database_url,
            redis_url=scratch.REDIS_URL,
            redis_prefix=prefix,
            data_dir=Path(data_dir),
            api_key=API_KEY,
            session_secret=SECRET,
        )


def main(args: argparse.Namespace) -> None:
    """Set up, run the server, measure, clean up."""
    with scratch_settings("holds") as settings:
        setup = run_async(prepare_backends(settings, args))
        print(
            f"venue: {setup.venue.seat_count} seats, {len(setup.redis_events)} event(s) per "
            f"side; {args.workers} server worker(s), "
            f"{args.clients} client connections, {args.seconds:.0f} s per hold path"
        )
        with hold_server(settings, args.workers, args.port) as (port, processes):
            run_async(measure(args, setup, port, processes))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per side")
    parser.add_argument("--clients", type=int, default=64, help="concurrent HTTP connections")
    parser.add_argument("--kind", default="stadium")
    parser.add_argument("--seats", type=int, default=80_000)
    parser.add_argument("--sse-clients", type=int, default=5000)
    parser.add_argument("--sse-messages", type=int, default=60)
    parser.add_argument("--sse-interval", type=float, default=0.15, help="seconds between holds")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    main(parser.parse_args())
