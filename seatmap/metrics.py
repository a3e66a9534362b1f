"""Prometheus metrics of the whole process, created per app (no import-time globals).

With several uvicorn workers, set PROMETHEUS_MULTIPROC_DIR (`seatmap serve` does)
so /metrics aggregates every worker. The `process_*` metrics (memory, CPU, open
files) are those of the process answering the scrape.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from starlette.requests import Request
from starlette.responses import Response

FAST_BUCKETS_S = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)
REQUEST_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
RECONCILE_KINDS = ("rebuild", "sold", "blocked", "available")
SSE_DROP_REASONS = ("lagged", "write_error", "reader_ended")
# Who skipped an undecodable change-log entry: the in-process follower (live maps and
# streams), the SSE resume window read, the GRIP catch-up, the webhook outbox feed.
CHANGELOG_READERS = ("follower", "sse_resume", "grip", "webhooks")


@dataclass(frozen=True, eq=False)
class Metrics:
    """Every metric the services record."""

    registry: CollectorRegistry
    http_requests: Counter
    http_latency: Histogram
    tile_requests: Counter
    tile_compose_seconds: Histogram
    tile_encode_seconds: Histogram
    holds: Counter
    hold_seconds: Histogram
    confirm_seconds: Histogram
    sse_connections: Gauge
    sse_drops: Counter
    changelog_lag_seconds: Gauge
    changelog_bad_entries: Counter
    seats: Gauge
    reconcile_corrections: Counter
    sweeper_lag_seconds: Gauge


def create_metrics(registry: CollectorRegistry | None = None) -> Metrics:
    """Build the metric set on its own registry."""
    reg = registry or CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=reg)
    metrics = Metrics(
        registry=reg,
        http_requests=Counter(
            "seatmap_http_requests", "HTTP requests", ["route", "method", "status"], registry=reg
        ),
        http_latency=Histogram(
            "seatmap_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=REQUEST_BUCKETS_S,
            registry=reg,
        ),
        tile_requests=Counter(
            "seatmap_tile_requests",
            "Tile requests by LOD and result",
            ["lod", "result"],
            registry=reg,
        ),
        tile_compose_seconds=Histogram(
            "seatmap_tile_compose_seconds",
            "Tile composite time",
            buckets=FAST_BUCKETS_S,
            registry=reg,
        ),
        tile_encode_seconds=Histogram(
            "seatmap_tile_encode_seconds",
            "Tile encode time",
            buckets=FAST_BUCKETS_S,
            registry=reg,
        ),
        holds=Counter("seatmap_holds", "Hold attempts by outcome", ["outcome"], registry=reg),
        hold_seconds=Histogram(
            "seatmap_hold_seconds",
            "Hold script latency by outcome",
            ["outcome"],
            buckets=REQUEST_BUCKETS_S,
            registry=reg,
        ),
        confirm_seconds=Histogram(
            "seatmap_confirm_seconds",
            "Confirm (sale) latency",
            buckets=REQUEST_BUCKETS_S,
            registry=reg,
        ),
        sse_connections=Gauge(
            "seatmap_sse_connections",
            "Open SSE connections",
            registry=reg,
            multiprocess_mode="livesum",
        ),
        sse_drops=Counter(
            "seatmap_sse_drops",
            "SSE streams that lost messages (lagged: queue overflowed, a reset follows), "
            "were ended by a failed write (write_error) or because the event's reader "
            "ended (reader_ended; the client reconnects)",
            ["reason"],
            registry=reg,
        ),
        changelog_lag_seconds=Gauge(
            "seatmap_changelog_lag_seconds",
            "Age of the newest change-log entry applied, per event (0 when caught up)",
            ["event"],
            registry=reg,
            multiprocess_mode="livemax",
        ),
        changelog_bad_entries=Counter(
            "seatmap_changelog_bad_entries",
            "Change-log entries a reader could not decode and skipped",
            ["reader"],
            registry=reg,
        ),
        seats=Gauge(
            "seatmap_seats",
            "Seats by live status, per event this process follows",
            ["event", "status"],
            registry=reg,
            multiprocess_mode="livemostrecent",
        ),
        reconcile_corrections=Counter(
            "seatmap_reconcile_corrections",
            "Seats the reconciler corrected",
            ["kind"],
            registry=reg,
        ),
        sweeper_lag_seconds=Gauge(
            "seatmap_sweeper_lag_seconds",
            "How long the oldest due hold was past its expiry when the sweeper last looked",
            ["event"],
            registry=reg,
            multiprocess_mode="livemax",
        ),
    )
    # Counters alerted on with increase()/rate() start at 0, so their first count shows.
    for kind in RECONCILE_KINDS:
        metrics.reconcile_corrections.labels(kind)
    for reason in SSE_DROP_REASONS:
        metrics.sse_drops.labels(reason)
    for reader in CHANGELOG_READERS:
        metrics.changelog_bad_entries.labels(reader)
    return metrics


def metrics_endpoint(metrics: Metrics) -> object:
    """A Starlette endpoint serving the metrics in the Prometheus text format."""

    async def endpoint(request: Request) -> Response:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            prom_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            ProcessCollector(registry=registry)
            body = generate_latest(registry)
        else:
            body = generate_latest(metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return endpoint
