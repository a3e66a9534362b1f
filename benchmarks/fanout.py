"""Live-update fan-out at the seed's scale: Pushpin against the built-in broadcaster.

    python benchmarks/fanout.py [--clients 50000] [--baseline-clients 15000]
        [--events 5] [--rate 10] [--seconds 20] [--pushpins 3] [--generators 4]

Pushpin run: `--pushpins` Pushpin instances (deploy/pushpin/pushpin.conf; one
instance holds at most ~19,000 connections under this machine's 20,000 open files
per process) in front of one app process that answers each stream request and
publishes every change once. Load generators in `--generators` processes open
`--clients` SSE connections spread over the instances and over loopback source
addresses 127.0.0.2-9, and count what they receive; 1,000 of them timestamp
each held seat's message. Holds are then made at `--rate` per second for
`--seconds`, events in turn.

Baseline run: the same against the app's built-in Python broadcaster, with as
many connections as one process holds (`--baseline-clients`).

Printed per run: connections held, server memory per connection, deliveries per
second, deliveries per server CPU-second, p50/p99/max from a hold's reply to its
arrival at the instrumented clients, messages lost or duplicated (must be 0),
and the generators' CPU; then the ratio of deliveries per CPU-second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import scratch
from fanout_run import SETTLE_S, RunResult, measure

sys.path.insert(0, str(scratch.ROOT))

from seatmap.events import EventRules
from seatmap.generator import generate_venue
from seatmap.model import SeatType
from seatmap.runtime import open_context
from seatmap.settings import Settings
from seatmap_app.operations import import_venue, open_event
from tests.ops.pushpin import SIG_KEY, PrivatePushpin

API_KEY = "fanout-bench-key"
RULES = EventRules(max_seats_per_buyer=8, no_orphans=False, hold_ttl_s=900, max_hold_s=1800)
UNLIMITED = "100000000"


async def prepare(settings: Settings, events: int) -> tuple[list[int], list[str]]:
    """A 2,000-seat theatre with `events` events; their ids and the holdable seat ids."""
    venue = generate_venue("theater", 2000, seed=7)
    async with open_context(settings) as ctx:
        venue_id = await import_venue(ctx, venue, "bench")
        ids = [
            (await open_event(ctx, venue_id, f"Fan-out {n}", rules=RULES, render=False)).id
            for n in range(events)
        ]
    seats = venue.seats
    holdable = [
        seats.external_ids[i]
        for i in range(venue.seat_count)
        if seats.seat_type[i] == SeatType.STANDARD
    ]
    return ids, holdable


@contextlib.contextmanager
def bench_backends(name: str) -> Iterator[tuple[Settings, Path]]:
    """A throw-away database, Redis prefix and folder, and settings that use them."""
    with (
        scratch.database(name) as database_url,
        scratch.key_prefix(name.replace("_", "-")) as prefix,
        tempfile.TemporaryDirectory(prefix=f"seatmap-{name.replace('_', '-')}-") as tmp,
    ):
        folder = Path(tmp)
        yield Settings(
            database_url=database_url, redis_url=scratch.REDIS_URL, data_dir=folder / "data",
            api_key=API_KEY, session_secret="fanout-bench-secret", redis_prefix=prefix,
        ), folder  # fmt: skip


def app_command(port: int) -> list[str]:
    """uvicorn serving the whole app on one process."""
    return [
        sys.executable, "-m", "uvicorn", "seatmap_app.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        "--backlog", "4096", "--timeout-keep-alive", "30",
    ]  # fmt: skip


def app_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The app's environment: no limits that would meter the benchmark itself."""
    return scratch.server_environ(
        settings,
        SEATMAP_RATE_LIMIT_SESSIONS_PER_MIN=UNLIMITED,
        SEATMAP_RATE_LIMIT_HOLDS_PER_MIN=UNLIMITED,
        SEATMAP_MAX_SEATS_PER_ADDRESS=UNLIMITED,
        SEATMAP_LOG_JSON="0",
        **extra,
    )


def run_pushpin(settings: Settings, ids: list[int], seats: list[str], args: argparse.Namespace,
                folder: Path, drain_s: float = SETTLE_S) -> RunResult:
    """Clients through Pushpin instances; the app publishes."""
    port = scratch.free_port()
    pushpins = [
        PrivatePushpin(folder / f"pushpin-{n}", f"127.0.0.1:{port}", name=f"pp{n}")
        for n in range(args.pushpins)
    ]
    env = app_env(
        settings,
        SEATMAP_GRIP_PUBLISH_URLS=",".join(p.publish_url for p in pushpins),
        SEATMAP_GRIP_KEY=SIG_KEY,
    )
    app = scratch.ServerProcess(app_command(port), f"http://127.0.0.1:{port}/healthz", env=env,
                                log=folder / "app-pushpin.log")
    with app:
        try:
            for pushpin in pushpins:
                pushpin.folder.mkdir(parents=True, exist_ok=True)
                pushpin.start()

            def engine() -> list[psutil.Process]:
                procs: list[psutil.Process] = []
                for pushpin in pushpins:
                    assert pushpin.proc is not None
                    procs += scratch.process_tree(pushpin.proc.pid)
                return procs

            def servers() -> list[psutil.Process]:
                return scratch.process_tree(app.pid) + engine()

            targets = [("127.0.0.1", p.port) for p in pushpins]
            return measure(settings, f"http://127.0.0.1:{port}", servers, engine, targets, ids,
                           seats, args.clients, args.rate, args.seconds, args.generators,
                           drain_s)
        finally:
            for pushpin in pushpins:
                pushpin.stop()


def run_builtin(settings: Settings, ids: list[int], seats: list[str], args: argparse.Namespace,
                folder: Path) -> RunResult:
    """Clients straight to the app's own broadcaster."""
    port = scratch.free_port()
    app = scratch.ServerProcess(app_command(port), f"http://127.0.0.1:{port}/healthz",
                                env=app_env(settings), log=folder / "app-builtin.log")
    with app:
        def server() -> list[psutil.Process]:
            return scratch.process_tree(app.pid)

        return measure(settings, f"http://127.0.0.1:{port}", server, server,
                       [("127.0.0.1", port)], ids, seats[len(seats) // 2 :],
                       args.baseline_clients, args.rate, args.seconds,
                       max(1, args.generators // 2))


def line(name: str, r: RunResult) -> str:
    """One run's figures on one line."""
    lat = sorted(r.latencies_ms) or [float("nan")]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return (
        f"{name:<9} {r.connected:>6}/{r.clients} conns  {r.memory_per_connection_kb:5.2f} KB/conn  "
        f"{r.deliveries_per_s:>9,.0f} deliveries/s  {r.deliveries_per_cpu_s:>9,.0f} per server "
        f"CPU-s  latency p50 {statistics.median(lat):.0f} / p99 {p99:.0f} / max {lat[-1]:.0f} ms "
        f"({len(r.latencies_ms)} timed)  lost {r.lost} ({r.clients_short} clients short, "
        f"{r.streams_closed} streams closed)  duplicated {r.duplicated}  "
        f"holds {r.holds}  server CPU {r.server_cpu_s:.1f} s  "
        f"generators CPU {r.generator_cpu_s:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--baseline-clients", type=int, default=15_000)
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--rate", type=float, default=10.0, help="holds per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pushpins", type=int, default=3)
    parser.add_argument("--generators", type=int, default=4)
    args = parser.parse_args()
    with bench_backends("fanout") as (settings, folder):
        ids, seats = asyncio.run(prepare(settings, args.events))
        pushpin = run_pushpin(settings, ids, seats, args, folder)
        print(line("pushpin", pushpin), flush=True)
        baseline = run_builtin(settings, ids, seats, args, folder)
        print(line("built-in", baseline), flush=True)
        ratio = pushpin.deliveries_per_cpu_s / max(baseline.deliveries_per_cpu_s, 1e-9)
        print(f"deliveries per server CPU-second: Pushpin {ratio:.1f}x the built-in broadcaster")


if __name__ == "__main__":
    main()
