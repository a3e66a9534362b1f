"""An on-sale under load, then an audit of what was sold.

    python benchmarks/onsale.py                 # 500 buyers for 60 s on a 20,000-seat arena
    python benchmarks/onsale.py --quick         # smoke run: 50 buyers, 10 s, a 2,000-seat theater
    python benchmarks/onsale.py --users 200 --duration 30

It creates its own database on the local PostgreSQL (dropped afterwards) unless
SEATMAP_DATABASE_URL is set, uses its own Redis key prefix (deleted afterwards),
generates and imports a venue, opens an event with a short hold time, starts
`seatmap serve --workers N` as a subprocess, and runs locust headless against it
(benchmarks/locustfile.py). It then prints requests/s and p50/p95/p99 per
request type, the error rate (409/422/429 are expected answers and excluded),
and an audit from PostgreSQL and Redis: seats sold twice, sales without a valid
hold, acknowledged sales missing, and holds still present after their expiry.
Exit status 0 only if every audit count is 0 and the error rate is under 0.1%.

Environment: SEATMAP_DATABASE_URL (use this database and keep it),
SEATMAP_TEST_PG_ADMIN_URL (where to create the throwaway database; default
postgresql://postgres@127.0.0.1:5432/test), SEATMAP_REDIS_URL (default
redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import asyncpg
import psutil
import redis.asyncio as aioredis

from seatmap.db import migrate
from seatmap.events import EventRules
from seatmap.grid import grid_for
from seatmap.model import NO_NEIGHBOUR, SeatType, Venue
from seatmap.settings import Settings
from seatmap.status import SeatStatus

ROOT = Path(__file__).resolve().parent.parent

MAX_ERROR_RATE = 0.001
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SERVER_START_TIMEOUT_S = 180
SERVER_STOP_TIMEOUT_S = 30
# After the last hold's expiry, the sweeper gets this long to release it (spec: 1 s).
EXPIRY_GRACE_S = 2.0
SCAN_BATCH = 1000
RESENT = "(idle connection, resent)"


@dataclass
class Run:
    """Everything one on-sale run sets up, so that it can all be taken down again."""

    args: argparse.Namespace
    out: Path
    database_url: str = ""
    admin_url: str = ""
    own_database: str = ""
    redis_url: str = ""
    prefix: str = ""
    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    event_id: int = 0
    venue: Venue | None = None


# -- set-up ----------------------------------------------------------------------------------


def _dsn_with_database(admin_url: str, database: str) -> str:
    head, _, query = admin_url.partition("?")
    base = head.rpartition("/")[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


async def create_database(run: Run) -> None:
    """Create and migrate a throwaway database, unless SEATMAP_DATABASE_URL names one."""
    given = os.environ.get("SEATMAP_DATABASE_URL")
    if given:
        run.database_url = given
    else:
        run.admin_url = os.environ.get("SEATMAP_TEST_PG_ADMIN_URL", DEFAULT_ADMIN_URL)
        run.own_database = f"seatmap_onsale_{secrets.token_hex(5)}"
        conn = await asyncpg.connect(run.admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{run.own_database}"')
        finally:
            await conn.close()
        run.database_url = _dsn_with_database(run.admin_url, run.own_database)
    conn = await asyncpg.connect(run.database_url)
    try:
        await migrate(conn)
    finally:
        await conn.close()


async def drop_database(run: Run) -> None:
    """Drop the throwaway database (never one named by SEATMAP_DATABASE_URL)."""
    if not run.own_database:
        return
    conn = await asyncpg.connect(run.admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{run.own_database}" WITH (FORCE)')
    finally:
        await conn.close()


async def drop_keys(redis_url: str, prefix: str) -> int:
    """Delete every key under this run's prefix; the number deleted."""
    client = aioredis.Redis.from_url(redis_url)
    deleted = 0
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}*", count=SCAN_BATCH):
            batch.append(key)
            if len(batch) >= SCAN_BATCH:
                deleted += await client.delete(*batch)
                batch.clear()
        if batch:
            deleted += await client.delete(*batch)
    finally:
        await client.aclose()
    return deleted


def build_venue(kind: str, seats: int, seed: int) -> Venue:
    """The synthetic venue of the run (a grid hall if the generator is unavailable)."""
    try:
        from seatmap.generator import generate_venue
    except ImportError:
        sys.path.insert(0, str(ROOT))
        from tests.venues import grid_venue

        per_section = 400
        return grid_venue(sections=max(1, seats // per_section), rows=20, seats_per_row=20)
    return generate_venue(kind, seats, seed)  # type: ignore[arg-type]


def settings_for(run: Run) -> Settings:
    """Settings of the provisioning step and of the server."""
    return Settings(
        database_url=run.database_url,
        redis_url=run.redis_url,
        data_dir=run.out / "data",
        api_key=run.api_key,
        session_secret=secrets.token_urlsafe(24),
        redis_prefix=run.prefix,
        log_json=True,
    )


async def open_sale(run: Run, settings: Settings) -> int:
    """Import the venue and open the event (live state in Redis, tiles pre-rendered)."""
    from seatmap.operations import import_venue, open_event
    from seatmap.runtime import open_context

    assert run.venue is not None
    rules = EventRules(
        max_seats_per_buyer=8, hold_ttl_s=run.args.hold_ttl, max_hold_s=run.args.hold_ttl * 4
    )
    async with open_context(settings) as ctx:
        venue_id = await import_venue(ctx, run.venue, "seatmap")
        event = await open_event(ctx, venue_id, "On-sale benchmark", rules=rules, progress=True)
        return event.id


def write_plan(run: Run, path: Path) -> None:
    """The buyers' view of the venue: pyramid size and blocks of adjacent seats to pick from."""
    venue = run.venue
    assert venue is not None
    grid = grid_for(venue)
    seats = venue.seats
    fx, fy = venue.focal_point
    reach = max(venue.width, venue.height) / 4
    blocks: list[dict[str, Any]] = []
    for row in venue.rows:
        run_of: list[int] = []
        for index in (*row.seat_indices, -1):
            usable = index >= 0 and seats.seat_type[index] == SeatType.STANDARD
            if usable:
                run_of.append(index)
            if run_of and (not usable or seats.right[index] == NO_NEIGHBOUR):
                if len(run_of) >= 2:
                    cx = float(seats.x[run_of].mean())
                    cy = float(seats.y[run_of].mean())
                    distance = math.hypot(cx - fx, cy - fy)
                    blocks.append(
                        {
                            "ids": [seats.external_ids[i] for i in run_of],
                            "section": venue.sections[row.section_index].name,
                            "cx0": cx * grid.scale0,
                            "cy0": cy * grid.scale0,
                            "weight": round(math.exp(-distance / reach), 6),
                            "distance": distance,
                        }
                    )
                run_of = []
    by_distance = sorted(blocks, key=lambda b: b["distance"])
    popular = list(dict.fromkeys(b["section"] for b in by_distance))[:6]
    plan = {
        "event_id": run.event_id,
        "world_px0": [venue.width * grid.scale0, venue.height * grid.scale0],
        "max_zoom": grid.max_zoom,
        "detail_zoom": grid.detail_lod_zoom,
        "popular_sections": popular,
        "blocks": blocks,
    }
    path.write_text(json.dumps(plan))


# -- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(run: Run, settings: Settings) -> dict[str, str]:
    """Environment of the server process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATMAP_")}
    own = settings.with_overrides(
        database_url=run.database_url,
        redis_url=run.redis_url,
        api_key=run.api_key,
        redis_prefix=run.prefix,
    )
    env.update(own.connection_environ())
    env.update(
        SEATMAP_LOG_JSON="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def get_url(url: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
    """GET a URL on loopback; (status, body), status 0 if unreachable."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()
    except OSError:
        return 0, b""


@contextlib.contextmanager
def serving(run: Run, settings: Settings, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`seatmap serve --workers N` until the block ends; ready when /readyz says so."""
    log = open(run.out / "server.log", "wb")  # noqa: SIM115 - closed below
    env = server_env(run, settings)
    args = [sys.executable, "-m", "seatmap.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(run.args.workers)]  # fmt: skip
    if run.args.app:
        args = [sys.executable, "-m", "uvicorn", run.args.app, "--factory", "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(run.args.workers), "--proxy-headers",
                "--log-level", "warning", "--timeout-graceful-shutdown", "10"]  # fmt: skip
        if run.args.workers > 1:
            shared = run.out / "metrics-multiproc"
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while get_url(f"http://127.0.0.1:{port}/readyz", 2)[0] != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not become ready; see {run.out / 'server.log'}")
            time.sleep(0.25)
        yield proc
    finally:
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        print(f"server stopped in {time.monotonic() - started:.1f} s (exit {proc.returncode})")
        log.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far."""
    total = 0.0
    with contextlib.suppress(psutil.NoSuchProcess):
        proc = psutil.Process(pid)
        for member in (proc, *proc.children(recursive=True)):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = member.cpu_times()
                total += times.user + times.system
    return total


def run_locust(run: Run, url: str, plan: Path, log: Path, server_pid: int) -> dict[str, float]:
    """Run the buyers headless (CSV under run.out/locust_*); where the CPU time went."""
    env = {
        **os.environ,
        "SEATMAP_LOAD_PLAN": str(plan),
        "SEATMAP_LOAD_LOG": str(log),
        "SEATMAP_API_KEY": run.api_key,
        "SEATMAP_LOAD_THINK": str(run.args.think),
        # Every connection goes to an IP literal: resolving it inline beats queueing
        # hundreds of getaddrinfo calls on gevent's small resolver thread pool.
        "GEVENT_RESOLVER": "block",
    }
    args = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks" / "locustfile.py"),
        "--headless", "-u", str(run.args.users), "-r", str(run.args.spawn_rate),
        "-t", f"{run.args.duration}s", "--host", url, "--csv", str(run.out / "locust"),
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    server_before = cpu_seconds(server_pid)
    started = time.monotonic()
    with open(run.out / "locust.log", "wb") as out:
        locust = psutil.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        locust_cpu = 0.0
        try:
            while locust.poll() is None:
                locust_cpu = max(locust_cpu, cpu_seconds(locust.pid))
                if time.monotonic() - started > run.args.duration + 120:
                    locust.kill()
                time.sleep(0.5)
        finally:
            if locust.poll() is None:
                locust.kill()
                locust.wait(timeout=10)
    wall = time.monotonic() - started
    return {
        "server_cores": (cpu_seconds(server_pid) - server_before) / wall,
        "locust_cores": locust_cpu / wall,
        "load_average": os.getloadavg()[0],
    }


# -- audit -------------------------------------------------------------------------------------


def read_log(path: Path) -> list[dict[str, Any]]:
    """The buyers' audit records."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


async def hold_records(client: aioredis.Redis, pattern: str) -> list[dict[str, str]]:
    """Every hold hash of the event (active holds and tombstones)."""
    keys = [key async for key in client.scan_iter(match=pattern, count=SCAN_BATCH)]
    records: list[dict[str, str]] = []
    for i in range(0, len(keys), 500):
        async with client.pipeline(transaction=False) as pipe:
            for key in keys[i : i + 500]:
                pipe.hgetall(key)
            for raw in await pipe.execute():
                records.append({k.decode(): v.decode() for k, v in raw.items()})
    return records


async def wait_for_expiry(client: aioredis.Redis, run: Run) -> dict[str, float]:
    """Wait until every hold has passed its expiry plus a grace; count what is still there."""
    from lockservice.keys import event_keys

    keys = event_keys(run.prefix, run.event_id)
    records = await hold_records(client, keys.hold("*"))
    active = [r for r in records if r.get("state") in ("held", "confirming")]
    latest_ms = max((int(r.get("expires_ms", "0")) for r in active), default=0)
    wait_s = max(0.0, latest_ms / 1000 - time.time()) + EXPIRY_GRACE_S
    print(f"waiting {wait_s:.1f} s for the last of {len(active)} open holds to expire")
    await asyncio.sleep(wait_s)
    now_ms = int(time.time() * 1000)
    records = await hold_records(client, keys.hold("*"))
    overdue = [
        r
        for r in records
        if r.get("state") in ("held", "confirming") and int(r.get("expires_ms", "0")) <= now_ms
    ]
    due_in_set = await client.zcount(keys.expiry, "-inf", now_ms - 1000)
    status = cast(bytes, await client.get(keys.status) or b"")
    held_bytes = sum(status.count(bytes([s])) for s in (SeatStatus.HELD, SeatStatus.CONFIRMING))
    return {
        "overdue_hold_records": len(overdue),
        "overdue_in_expiry_set": int(due_in_set),
        "seats_still_held": held_bytes,
        "waited_s": round(wait_s, 1),
    }


async def audit(run: Run, log: Path) -> dict[str, Any]:
    """Compare PostgreSQL, Redis and the buyers' receipts after the run."""
    from lockservice.keys import event_keys

    client = aioredis.Redis.from_url(run.redis_url)
    conn = await asyncpg.connect(run.database_url)
    try:
        expiry = await wait_for_expiry(client, run)
        keys = event_keys(run.prefix, run.event_id)
        sales = await conn.fetch(
            "SELECT s.seat_index, s.fencing, o.buyer_id, o.idempotency_key FROM sales s "
            "JOIN orders o ON o.id = s.order_id WHERE s.event_id = $1",
            run.event_id,
        )
        twice_pg = await conn.fetchval(
            "SELECT count(*) FROM (SELECT seat_index FROM sales WHERE event_id = $1 "
            "GROUP BY seat_index HAVING count(*) > 1) t",
            run.event_id,
        )
        orders = await conn.fetchval(
            "SELECT count(*) FROM orders WHERE event_id = $1", run.event_id
        )
        holds = {r.get("fencing", ""): r for r in await hold_records(client, keys.hold("*"))}
        status = cast(bytes, await client.get(keys.status) or b"")
    finally:
        await conn.close()
        await client.aclose()

    records = read_log(log)
    issued = {str(r["fencing"]): r for r in records if r["kind"] == "hold"}
    receipts = [r for r in records if r["kind"] == "sale"]
    sold_to: dict[int, set[str]] = {}
    for receipt in receipts:
        for seat in receipt["seats"]:
            sold_to.setdefault(seat, set()).add(receipt["key"])

    no_hold_redis = no_hold_log = 0
    for sale in sales:
        fencing = str(sale["fencing"])
        record = holds.get(fencing)
        seats_of = {int(s) for s in record.get("seats", "").split(",") if s} if record else set()
        if (
            record is None
            or sale["seat_index"] not in seats_of
            or record.get("buyer") != sale["buyer_id"]
            or record.get("state") != "sold"
        ):
            no_hold_redis += 1
        given = issued.get(fencing)
        if given is None or sale["seat_index"] not in given["seats"]:
            no_hold_log += 1
    sold_pg = {int(s["seat_index"]) for s in sales}
    sold_redis = {i for i, b in enumerate(status) if b == SeatStatus.SOLD}
    acknowledged = {seat for r in receipts for seat in r["seats"]}
    return {
        "orders": int(orders),
        "seats_sold": len(sold_pg),
        "holds_issued": len(issued),
        "seats_sold_twice_postgres": int(twice_pg),
        "seats_sold_twice_receipts": sum(1 for keys_ in sold_to.values() if len(keys_) > 1),
        "sales_without_valid_hold_redis": no_hold_redis,
        "sales_without_valid_hold_receipts": no_hold_log,
        "acknowledged_sales_missing": len(acknowledged - sold_pg),
        "redis_postgres_disagree": len(sold_pg ^ sold_redis),
        "holds_present_after_expiry": expiry["overdue_hold_records"]
        + expiry["overdue_in_expiry_set"]
        + expiry["seats_still_held"],
        "expiry_wait_s": expiry["waited_s"],
    }


# -- report ------------------------------------------------------------------------------------

AUDIT_LINES = (
    ("seats_sold_twice_postgres", "seats sold twice (PostgreSQL)"),
    ("seats_sold_twice_receipts", "seats sold twice (buyers' receipts)"),
    ("sales_without_valid_hold_redis", "sales without a valid hold (Redis hold records)"),
    ("sales_without_valid_hold_receipts", "sales without a valid hold (holds buyers got)"),
    ("acknowledged_sales_missing", "acknowledged sales missing from PostgreSQL"),
    ("redis_postgres_disagree", "seats where Redis and PostgreSQL disagree on sold"),
    ("holds_present_after_expiry", "holds still present after expiry"),
)


def read_stats(prefix: Path) -> list[dict[str, str]]:
    """Rows of locust's statistics CSV."""
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def error_rate(rows: list[dict[str, str]]) -> tuple[int, int]:
    """(failures, requests) over HTTP requests and stream opens; delivery timings and
    requests resent after an idle keep-alive connection closed (see locustfile) excluded."""
    counted = [
        r
        for r in rows
        if r["Name"] not in ("Aggregated", "own hold") and not r["Name"].endswith(RESENT)
    ]
    return (
        sum(int(r["Failure Count"]) for r in counted),
        sum(int(r["Request Count"]) for r in counted),
    )


def print_report(run: Run, rows: list[dict[str, str]], result: dict[str, Any]) -> bool:
    """Print the tables; True if the run passes."""
    args = run.args
    venue = run.venue
    assert venue is not None
    print(
        f"\non-sale: {args.users} buyers for {args.duration} s, {venue.seat_count} seats, "
        f"{args.workers} workers, hold TTL {args.hold_ttl} s"
    )
    print(f"{'request':<48}{'count':>8}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}{'errors':>8}")
    for r in rows:
        name = "all requests" if r["Name"] == "Aggregated" else f"{r['Type']} {r['Name']}"
        print(
            f"{name:<48}{r['Request Count']:>8}{float(r['Requests/s']):>8.1f}"
            f"{r['50%']:>7}{r['95%']:>7}{r['99%']:>7}{r['Failure Count']:>8}"
        )
    print("(latencies in ms; 'SSE own hold' = hold reply until the stream names its seats)")
    failures, requests = error_rate(rows)
    rate = failures / requests if requests else 1.0
    print(f"error rate: {rate:.4%} ({failures} of {requests}; 409/422/429 are not errors)")
    statuses = result.get("statuses", {})
    expected = sum(v for k, v in statuses.items() if k.rsplit(" ", 1)[-1] in ("409", "422", "429"))
    print(f"expected refusals (409/422/429): {expected}")
    for key in sorted(statuses):
        if not key.startswith("tile"):
            print(f"  {key:<56}{statuses[key]:>8}")
    print(f"\naudit ({result['orders']} orders, {result['seats_sold']} seats sold, "
          f"{result['holds_issued']} holds issued)")  # fmt: skip
    ok = rate < MAX_ERROR_RATE and requests > 0
    for key, label in AUDIT_LINES:
        print(f"  {label:<56}{result[key]:>8}")
        ok = ok and result[key] == 0
    print(f"  (checked after waiting {result['expiry_wait_s']} s for the last hold to expire)")
    print("PASS" if ok else "FAIL")
    return ok


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=None, help="simulated buyers (500)")
    parser.add_argument("--spawn-rate", type=float, default=100, help="buyers started per second")
    parser.add_argument("--duration", type=int, default=None, help="seconds of load (60)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--kind", default=None, help="arena (theater with --quick)")
    parser.add_argument("--seats", type=int, default=None, help="20000 (2000 with --quick)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hold-ttl", type=int, default=20, help="hold time of the event, s")
    parser.add_argument("--think", type=float, default=None, help="think-time multiplier (1)")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "onsale")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 buyers, 10 s")
    parser.add_argument(
        "--app",
        default="",
        help="serve this ASGI factory with uvicorn instead of `seatmap serve` "
        "(e.g. lockservice.app:create_app)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.users = args.users or (50 if quick else 500)
    args.duration = args.duration or (10 if quick else 60)
    args.kind = args.kind or ("theater" if quick else "arena")
    args.seats = args.seats or (2000 if quick else 20000)
    args.think = args.think if args.think is not None else (0.3 if quick else 1.0)
    return args


def main(argv: list[str] | None = None) -> int:
    """Set up, load, audit, report, tear down."""
    args = parse_args(argv)
    run = Run(args=args, out=args.out.resolve())
    run.out.mkdir(parents=True, exist_ok=True)
    run.redis_url = os.environ.get("SEATMAP_REDIS_URL", DEFAULT_REDIS_URL)
    run.prefix = f"seatmap-onsale-{secrets.token_hex(5)}:"
    log = run.out / "buyers.jsonl"
    log.unlink(missing_ok=True)
    try:
        asyncio.run(create_database(run))
        run.venue = build_venue(args.kind, args.seats, args.seed)
        settings = settings_for(run)
        print(f"opening the sale: {run.venue.seat_count} seats (tiles are cached in {run.out})")
        run.event_id = asyncio.run(open_sale(run, settings))
        plan = run.out / "plan.json"
        write_plan(run, plan)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with serving(run, settings, port) as server:
            print(f"{args.users} buyers for {args.duration} s against {url}", flush=True)
            cpu = run_locust(run, url, plan, log, server.pid)
            result = asyncio.run(audit(run, log))
            metrics = get_url(f"{url}/metrics")[1].decode(errors="replace")
        statuses_path = Path(f"{log}.statuses.json")
        result["statuses"] = json.loads(statuses_path.read_text()) if statuses_path.exists() else {}
        rows = read_stats(run.out / "locust")
        passed = print_report(run, rows, result)
        print(
            f"CPU during the load: server {cpu['server_cores']:.2f} cores, locust "
            f"{cpu['locust_cores']:.2f} cores, 1-min load average {cpu['load_average']:.1f} "
            f"on {os.cpu_count()} cores (other work on the machine shows up here)"
        )
        result["cpu"] = cpu
        (run.out / "metrics.txt").write_text(metrics)
        holds = Counter(
            {line.split("outcome=")[1].split('"')[1]: line.rsplit(" ", 1)[1]
             for line in metrics.splitlines() if line.startswith("seatmap_holds_total")}
        )  # fmt: skip
        if holds:
            print("server-side holds by outcome:", dict(holds))
        table = [
            {k: r[k] for k in ("Type", "Name", "Request Count", "Failure Count", "Requests/s",
                               "50%", "95%", "99%")}
            for r in rows
        ]  # fmt: skip
        summary = {"args": {k: str(v) for k, v in vars(args).items()}, "audit": result,
                   "requests": table}  # fmt: skip
        (run.out / "result.json").write_text(json.dumps(summary, indent=1))
        return 0 if passed else 1
    finally:
        asyncio.run(drop_keys(run.redis_url, run.prefix))
        asyncio.run(drop_database(run))


if __name__ == "__main__":
    sys.exit(main())
