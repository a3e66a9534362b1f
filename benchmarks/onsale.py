"""An on-sale under load, then an audit of what was sold.

    python benchmarks/onsale.py                 # 500 buyers for 60 s on a 20,000-seat arena
    python benchmarks/onsale.py --quick         # smoke run: 50 buyers, 10 s, a 2,000-seat theater
    python benchmarks/onsale.py --users 200 --duration 30
    python benchmarks/onsale.py --quick --backup  # also back up mid-load, restore, compare

It creates its own database on the local PostgreSQL (dropped afterwards) unless
SEATMAP_DATABASE_URL is set, uses its own Redis key prefix (deleted afterwards),
generates and imports a venue, opens an event with a short hold time, starts
`seatmap serve --workers N` as a subprocess, and runs locust headless against it
(benchmarks/locustfile.py). It then prints requests/s and p50/p95/p99 per
request type, the error rate (409/422/429 are expected answers and excluded),
and an audit from PostgreSQL and Redis: seats sold twice, sales without a valid
hold, acknowledged sales missing, and holds still present after their expiry.
Exit status 0 only if every audit count is 0 and the error rate is under 0.1%.

With --backup, halfway through the load (later if no sale was made yet, by 80%
of it) it also backs the event up with the product's code (as `seatmap backup`
does) while the buyers go on, and after the load restores the file into an
empty deployment (a new scratch database and key prefix) and compares every
seat's status, order and open hold with the file (onsale_backup); it prints
capture and restore seconds, the file size, the counts compared and the
differences, and the exit status is 1 unless there are none.

Environment: SEATMAP_DATABASE_URL (use this database and keep it),
SEATMAP_BENCH_PG_ADMIN_URL (where to create the throwaway database; default
postgresql://postgres@127.0.0.1:5432/test), SEATMAP_REDIS_URL (default
SEATMAP_BENCH_REDIS_URL, else redis://127.0.0.1:6379/0).

Modules: onsale_sale (venue, event, buyers' plan), onsale_load (server and
locust), onsale_audit (PostgreSQL and Redis against the buyers' log),
onsale_report (tables and result.json), onsale_backup (--backup); locust runs
locustfile (the buyers), which uses onsale_plan, onsale_stream (live stream) and
onsale_log (buyers' log).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path

import scratch
from onsale_audit import audit
from onsale_backup import BackupDuringLoad
from onsale_load import app_server, run_locust
from onsale_report import print_cpu, print_holds_by_outcome, print_report, read_stats, write_summary
from onsale_sale import Run, build_venue, open_sale, settings_for, write_plan


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
    parser.add_argument("--out", type=Path, default=scratch.ROOT / "artifacts" / "onsale")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 buyers, 10 s")
    parser.add_argument("--backup", action="store_true", help="back up mid-load, restore, compare")
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


def sale_database() -> contextlib.AbstractContextManager[str]:
    """The database named by SEATMAP_DATABASE_URL, kept; else a scratch one, dropped."""
    given = os.environ.get("SEATMAP_DATABASE_URL")
    return contextlib.nullcontext(given) if given else scratch.database("onsale")


def main(argv: list[str] | None = None) -> int:
    """Set up, load, audit, report, tear down."""
    args = parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "buyers.jsonl"
    log.unlink(missing_ok=True)
    redis_url = os.environ.get("SEATMAP_REDIS_URL") or scratch.REDIS_URL
    with sale_database() as database_url, scratch.key_prefix("onsale", redis_url) as prefix:
        run = Run(args, out, database_url, redis_url, prefix)
        return sell(run, log)


def sell(run: Run, log: Path) -> int:
    """Open the sale, let the buyers in, audit and report; the exit status."""
    args = run.args
    run.venue = build_venue(args.kind, args.seats, args.seed)
    settings = settings_for(run)
    print(f"opening the sale: {run.venue.seat_count} seats (tiles are cached in {run.out})")
    run.event_id = asyncio.run(open_sale(run, settings))
    plan = run.out / "plan.json"
    write_plan(run, plan)
    port = scratch.free_port()
    url = f"http://127.0.0.1:{port}"
    backup = BackupDuringLoad(run, settings) if args.backup else None
    with app_server(run, settings, port) as server:
        print(f"{args.users} buyers for {args.duration} s against {url}", flush=True)
        if backup:
            backup.start(args.duration, log)
        cpu = run_locust(run, url, plan, log, server.pid)
        if backup:
            backup.load_ended()
        result = asyncio.run(audit(run, log))
        metrics = scratch.http_get(f"{url}/metrics")[1].decode(errors="replace")
    print(f"server stopped in {server.stopped_in_s:.1f} s (exit {server.returncode})")
    statuses_path = Path(f"{log}.statuses.json")
    result["statuses"] = json.loads(statuses_path.read_text()) if statuses_path.exists() else {}
    rows = read_stats(run.out / "locust")
    passed = print_report(run, rows, result)
    print_cpu(cpu)
    result["cpu"] = cpu
    (run.out / "metrics.txt").write_text(metrics)
    print_holds_by_outcome(metrics)
    if backup:
        passed = backup.finish(log) and passed
        result["backup"] = backup.figures
    write_summary(run.out / "result.json", args, result, rows)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
