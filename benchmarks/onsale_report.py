"""The on-sale benchmark's report: locust's figures, the audit, and result.json."""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from onsale_sale import Run

MAX_ERROR_RATE = 0.001
RESENT = "(idle connection, resent)"
AUDIT_LINES = (
    ("seats_sold_twice_postgres", "seats sold twice (PostgreSQL)"),
    ("seats_sold_twice_receipts", "seats sold twice (buyers' receipts)"),
    ("sales_without_valid_hold_redis", "sales without a valid hold (Redis hold records)"),
    ("sales_without_valid_hold_receipts", "sales without a valid hold (holds buyers got)"),
    ("acknowledged_sales_missing", "acknowledged sales missing from PostgreSQL"),
    ("redis_postgres_disagree", "seats where Redis and PostgreSQL disagree on sold"),
    ("holds_present_after_expiry", "holds still present after expiry"),
)
SUMMARY_COLUMNS = ("Type", "Name", "Request Count", "Failure Count", "Requests/s",
                   "50%", "95%", "99%")  # fmt: skip


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


def print_cpu(cpu: dict[str, float]) -> None:
    """Where the CPU time went during the load, with the machine's load average."""
    print(
        f"CPU during the load: server {cpu['server_cores']:.2f} cores, locust "
        f"{cpu['locust_cores']:.2f} cores, 1-min load average {cpu['load_average']:.1f} "
        f"on {os.cpu_count()} cores (other work on the machine shows up here)"
    )


def print_holds_by_outcome(metrics: str) -> None:
    """The server's own count of holds by outcome, from its Prometheus text."""
    holds = Counter(
        {line.split("outcome=")[1].split('"')[1]: line.rsplit(" ", 1)[1]
         for line in metrics.splitlines() if line.startswith("seatmap_holds_total")}
    )  # fmt: skip
    if holds:
        print("server-side holds by outcome:", dict(holds))


def write_summary(
    path: Path, args: argparse.Namespace, result: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    """The options, the audit and the request table as one JSON file."""
    table = [{k: r[k] for k in SUMMARY_COLUMNS} for r in rows]
    summary = {"args": {k: str(v) for k, v in vars(args).items()}, "audit": result,
               "requests": table}  # fmt: skip
    path.write_text(json.dumps(summary, indent=1))
