"""Benchmark the lock service: holds per second and latency through HTTP against a
PostgreSQL row-lock baseline, then SSE delivery to thousands of connected clients.

    python benchmarks/holds.py [--seconds 10] [--clients 64] [--sse-clients 5000]

It creates a throw-away database and Redis key prefix on the local servers
(SEATMAP_BENCH_PG_ADMIN_URL, SEATMAP_BENCH_REDIS_URL), generates a stadium, and
starts `benchmarks/holds_server.py` in its own process (uvicorn, one worker).
Load comes from raw asyncio HTTP/1.1 keep-alive connections, not an HTTP library,
so the client costs little of the machine's two cores. Every hold request is a
block of 2-4 neighbouring seats in a row that never conflicts and never strands
a seat, so both sides do the full successful hold path with all rules checked.

SSE: N clients follow the event's stream; one hold per interval is made and the
time from its HTTP reply to the arrival of its message at each client is taken
(negative when the message beat the reply). Server memory per connection is the
growth of the server's RSS divided by the number of connections.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from holds_load import (  # noqa: E402
    LoadResult,
    hold_request,
    percentile,
    plan_blocks,
    run_load,
    sse_phase,
)
from holds_server import BASELINE_SCHEMA  # noqa: E402
from lockservice.reconcile import ensure_event_state  # noqa: E402
from lockservice.sessions import issue_token  # noqa: E402
from seatmap.context import build_context  # noqa: E402
from seatmap.db import create_pool, migrate  # noqa: E402
from seatmap.events import EventRules, create_event  # noqa: E402
from seatmap.generator import generate_venue  # noqa: E402
from seatmap.runtime import redis_client  # noqa: E402
from seatmap.settings import Settings  # noqa: E402
from seatmap.venuestore import save_venue  # noqa: E402

PG_ADMIN = os.environ.get("SEATMAP_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEATMAP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = secrets.token_urlsafe(16)
API_KEY = secrets.token_urlsafe(16)
SSE_RESERVED_BLOCKS = 200


def _dsn(database: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + database


def _server(
    port: int, database_url: str, prefix: str, data_dir: Path, workers: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SEATMAP_DATABASE_URL": database_url,
        "SEATMAP_REDIS_URL": REDIS_URL,
        "SEATMAP_REDIS_PREFIX": prefix,
        "SEATMAP_API_KEY": API_KEY,
        "SEATMAP_SESSION_SECRET": SECRET,
        "SEATMAP_DATA_DIR": str(data_dir),
        "SEATMAP_PORT": str(port),
        "SEATMAP_WORKERS": str(workers),
        "SEATMAP_LOG_JSON": "0",
        # The limiter still runs on every hold; the budget is sized for a load test.
        "SEATMAP_RATE_LIMIT_HOLDS_PER_MIN": "100000000",
    }
    script = Path(__file__).resolve().parent / "holds_server.py"
    return subprocess.Popen([sys.executable, str(script)], env=env)


async def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError("benchmark server exited")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("benchmark server did not start")


def _line(name: str, result: LoadResult) -> str:
    return (
        f"{name:<28} {result.ok_per_s:>9.0f} holds/s   p50 {percentile(result.latencies_s, 50):6.2f} ms"
        f"   p99 {percentile(result.latencies_s, 99):6.2f} ms   ({result.ok} ok, "
        f"{result.other} other, {result.clients} connections; "
        f"app CPU {result.server_cpu_s / max(result.ok, 1) * 1000:.2f} ms per hold)"
    )


async def main(args: argparse.Namespace) -> None:
    run = secrets.token_hex(4)
    database, prefix = f"seatmap_bench_{run}", f"seatmap-bench-{run}:"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    pool = await create_pool(_dsn(database), max_size=4)
    redis = redis_client(REDIS_URL)
    data_dir = Path(f"/tmp/{database}")
    proc = None
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
            await conn.execute(BASELINE_SCHEMA)
            venue = generate_venue(args.kind, args.seats, 1)
            venue_id = await save_venue(conn, venue, "generated")
            rules = EventRules(max_seats_per_buyer=8)
            redis_event = (await create_event(conn, venue_id, "redis", rules=rules)).id
            pg_event = (await create_event(conn, venue_id, "pg", rules=rules)).id
            await conn.execute(
                "INSERT INTO bench_seats (event_id, seat_index) "
                "SELECT $1, generate_series(0, $2 - 1)",
                pg_event, venue.seat_count,
            )
        settings = Settings(database_url=_dsn(database), redis_url=REDIS_URL, redis_prefix=prefix)
        await ensure_event_state(build_context(settings, pool, redis), redis_event)
        blocks = plan_blocks(venue)
        now_ms = time.time_ns() // 1_000_000
        tokens = [issue_token(SECRET, now_ms, 3600)[0] for _ in range(len(blocks) // 2 + 1)]
        owner = [tokens[i // 2] for i in range(len(blocks))]  # <= 8 seats per buyer
        sse_blocks = blocks[-SSE_RESERVED_BLOCKS:]
        load_blocks = list(zip(blocks[:-SSE_RESERVED_BLOCKS], owner, strict=False))
        print(f"venue: {venue.seat_count} seats, {len(blocks)} hold blocks; "
              f"{args.clients} client connections, {args.seconds:.0f} s per side")

        port = args.port
        proc = _server(port, _dsn(database), prefix, data_dir, args.workers)
        await _wait_ready(port, proc)
        parent = psutil.Process(proc.pid)
        server = [parent, *parent.children()]
        half = len(load_blocks) // 2
        results: dict[str, LoadResult] = {}
        for name, event_id, path, part in (
            ("redis (Lua)", redis_event, "/events/{}/holds", load_blocks[:half]),
            ("postgres (FOR UPDATE)", pg_event, "/baseline/events/{}/holds", load_blocks[half:]),
        ):
            requests = [hold_request(path.format(event_id), venue, b, t) for b, t in part]
            warm = min(500, len(requests) // 10)
            await run_load(port, requests[:warm], 2.0, args.clients)
            results[name] = await run_load(
                port, requests[warm:], args.seconds, args.clients, server
            )
            print(_line(name, results[name]))
        ratio = results["redis (Lua)"].ok_per_s / max(results["postgres (FOR UPDATE)"].ok_per_s, 1e-9)
        print(f"ratio redis / postgres: {ratio:.1f}x")

        sse_tokens = [issue_token(SECRET, now_ms, 3600)[0] for _ in sse_blocks]
        sse_requests = [
            hold_request(f"/events/{redis_event}/holds", venue, b, t)
            for b, t in zip(sse_blocks, sse_tokens, strict=True)
        ]
        sse = await sse_phase(
            port, f"/events/{redis_event}/stream", sse_requests[: args.sse_messages],
            [b[0] for b in sse_blocks], args.sse_clients, server, args.sse_interval,
        )
        print(
            f"SSE to {sse.connected} clients: p50 {percentile(sse.latencies_s, 50):.1f} ms, "
            f"p99 {percentile(sse.latencies_s, 99):.1f} ms after the hold's reply "
            f"({len(sse.latencies_s)} deliveries, {sse.missing} missing); "
            f"server memory {sse.bytes_per_connection / 1024:.1f} KB per connection"
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*", count=1000)]
        for i in range(0, len(keys), 500):
            await redis.delete(*keys[i : i + 500])
        await redis.aclose()
        await pool.close()
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per side")
    parser.add_argument("--clients", type=int, default=64, help="concurrent HTTP connections")
    parser.add_argument("--kind", default="stadium")
    parser.add_argument("--seats", type=int, default=80_000)
    parser.add_argument("--sse-clients", type=int, default=5000)
    parser.add_argument("--sse-messages", type=int, default=60)
    parser.add_argument("--sse-interval", type=float, default=0.15, help="seconds between holds")
    parser.add_argument("--port", type=int, default=18_931)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    asyncio.run(main(parser.parse_args()))
