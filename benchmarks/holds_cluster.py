"""Benchmark holds per second on a Redis Cluster of 1 master and of 3 masters.

    python benchmarks/holds_cluster.py [--seconds 10] [--clients 64] [--events 6]

It starts two private clusters from the system `redis-server` (each master with
one replica: the lock service waits for the replica on every batch, as in
production), opens `--events` events on a generated venue so that, on 3
masters, the events are spread over all of them, and drives the lock service
(`benchmarks/holds_server.py`, `--workers` uvicorn workers) with the same hold
requests as `benchmarks/holds.py`, taking the events in turn. Single Redis (the
shared server on 127.0.0.1, SEATMAP_BENCH_REDIS_URL) is measured too, for the
cost of the cluster itself. The figures are printed side by side with the
3-master / 1-master ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from holds import SECRET, run_async, scratch_settings
from holds_load import LoadResult, hold_request, hold_server, plan_blocks, result_line, run_load

from lockservice.reconcile import ensure_event_state
from lockservice.sessions import issue_token
from seatmap.events import EventRules, create_event
from seatmap.generator import generate_venue
from seatmap.livekeys import status_key
from seatmap.runtime import open_context
from seatmap.settings import Settings
from seatmap.venuestore import save_venue
from tests.ops.cluster import LocalRedisCluster

HOLDS_PER_S_CEILING = 6_000  # sizes the seat supply so a run never ends early


def plan(settings: Settings, args: argparse.Namespace) -> tuple[list[int], list[bytes]]:
    """Open events with their live state: their ids, and hold requests taking them in turn."""

    async def run() -> tuple[list[int], list[bytes]]:
        venue = generate_venue(args.kind, args.seats, 1)
        blocks = plan_blocks(venue)
        count = max(args.events, math.ceil(args.seconds * HOLDS_PER_S_CEILING / len(blocks)))
        async with open_context(settings) as ctx:
            async with ctx.pool.acquire() as conn:
                venue_id = await save_venue(conn, venue, "generated")
                rules = EventRules(max_seats_per_buyer=8)
                events = [
                    (await create_event(conn, venue_id, f"cluster {i}", rules=rules)).id
                    for i in range(count)
                ]
            for event_id in events:
                await ensure_event_state(ctx, event_id)
            now_ms = ctx.clock.now_ms()
        tokens = [issue_token(SECRET, now_ms, 3600)[0] for _ in range(len(blocks) // 2 + 1)]
        return events, [
            hold_request(f"/events/{event_id}/holds", venue, block, tokens[i // 2])
            for i, block in enumerate(blocks)
            for event_id in events
        ]

    return run_async(run())


def measure(
    name: str, settings: Settings, args: argparse.Namespace, cluster: LocalRedisCluster | None
) -> LoadResult:
    """Plan the holds on `settings`' Redis, serve them, warm up, then load for --seconds."""
    events, requests = plan(settings, args)
    if cluster is not None:
        masters = {cluster.master_of_key(status_key(settings.redis_prefix, e)) for e in events}
        name = f"{name} ({len(masters)} in use)"
    with hold_server(settings, args.workers) as (port, processes):
        warm = min(1000, len(requests) // 10)
        run_async(run_load(port, requests[:warm], 2.0, args.clients))
        result = run_async(run_load(port, requests[warm:], args.seconds, args.clients, processes))
    print(result_line(name, result), flush=True)
    return result


@contextlib.contextmanager
def cluster_of(masters: int) -> Iterator[LocalRedisCluster]:
    """A private cluster of `masters` masters, each with one replica, removed afterwards."""
    servers = LocalRedisCluster(Path(tempfile.mkdtemp(prefix="seatmap-bench-cluster-")), masters)
    try:
        yield servers.start()
    finally:
        servers.stop()


def main(args: argparse.Namespace) -> None:
    """Measure single Redis, then a 1-master and a 3-master cluster; print the ratio."""
    print(
        f"venue: {args.kind} {args.seats} seats, {args.events} events taken in turn, "
        f"{args.workers} server worker(s), {args.clients} client connections, "
        f"{args.seconds:.0f} s per run",
        flush=True,
    )
    results: dict[str, list[LoadResult]] = {}
    with scratch_settings("holds_cluster") as base, cluster_of(1) as one, cluster_of(3) as three:
        sides: list[tuple[str, Settings, LocalRedisCluster | None]] = [
            (f"cluster, {c.masters} master(s)", cluster_settings(base, c), c) for c in (one, three)
        ]
        if not args.no_single:
            sides.insert(0, ("single Redis", base, None))
        # Runs alternate between the sides, so drifting load on the machine hits all alike.
        for _ in range(args.rounds):
            for name, settings, cluster in sides:
                results.setdefault(name, []).append(measure(name, settings, args, cluster))
    best = {name: max(r.ok_per_s for r in runs) for name, runs in results.items()}
    print(f"best of {args.rounds}: " + ", ".join(f"{n} {v:.0f}/s" for n, v in best.items()))
    one_name, three_name = (name for name, _, c in sides if c is not None)
    print(f"ratio 3 masters / 1 master: {best[three_name] / best[one_name]:.2f}x", flush=True)


def cluster_settings(base: Settings, cluster: LocalRedisCluster) -> Settings:
    """The settings with Redis replaced by the cluster."""
    return base.with_overrides(redis_url=cluster.url, redis_cluster=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per run")
    parser.add_argument("--clients", type=int, default=64, help="concurrent HTTP connections")
    parser.add_argument("--events", type=int, default=6, help="events the holds go to, in turn")
    parser.add_argument("--kind", default="arena")
    parser.add_argument("--seats", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--no-single", action="store_true", help="skip the single-Redis runs")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side, alternating")
    main(parser.parse_args())
