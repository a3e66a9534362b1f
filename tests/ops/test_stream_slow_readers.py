"""Clients that stop reading, and clients that resume from far back.

300 clients stop reading their streams while the event changes fast; the server's
memory must stay flat (each connection's queue is bounded in bytes), and when
they read again each one must get every change or `reset` first, never a silent
gap: its map ends equal to the truth. And 40 clients resuming from the start of a
50,000-entry log get `reset` at once instead of a replay, without slowing /healthz.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from seatmap.livekeys import stream_key
from seatmap.model import Venue
from seatmap.settings import Settings
from tests.ops.conftest import app_env
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.ops.servers import REDIS_PREFIX, AppFactory, AppProcess, PrivateRedis, provision_event
from tests.ops.streamclients import Spec, StreamClients
from tests.ops.streamprobe import HealthProbe, append_changes, paced_changes, snapshot

pytestmark = [pytest.mark.fault, pytest.mark.slow]

STALLED = 300
CHANGES_PER_S = 1000
CHANGING_S = 12.0
# The server's kernel send buffer per connection, fixed as a production host would (Linux
# autotunes it up to 4 MiB on loopback, which would hide every client's backlog there).
SERVER_SNDBUF = 32 * 1024
# Per connection at most 64 KiB queued here plus about 64 KiB in the socket's user-space
# buffer (docs/operations.md): 300 stalled clients may cost up to ~40 MiB, then no more.
RSS_BOUND_MB = 48.0
RSS_FLAT_MB = 8.0
LONG_LOG = 50_000
FROM_THE_START = 40
HEALTHZ_P99_MS = 100.0


@pytest.mark.timeout(180)
def test_clients_that_stop_reading_keep_memory_flat_and_miss_nothing_silently(
    ops_settings: Settings, private_redis: PrivateRedis, ops_root: Path
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Slow readers")
    log = ops_root / "logs" / "slow-readers.log"
    log.parent.mkdir(exist_ok=True)
    app = AppProcess(app_env(ops_settings), log, sndbuf=SERVER_SNDBUF).start()
    try:
        stalled_clients_checked(app, event_id, venue, private_redis)
    finally:
        app.stop()


def stalled_clients_checked(
    app: AppProcess, event_id: int, venue: Venue, private_redis: PrivateRedis
) -> None:
    """Stall the clients, change the event fast, let them read, check maps and memory."""
    base, resume_at = snapshot(app.url, event_id)
    spec = Spec(
        port=app.port,
        path=f"/events/{event_id}/stream",
        last_id=resume_at,
        clients=STALLED,
        base_hex=base.hex(),
        redis_url=private_redis.url,
        log_key=stream_key(REDIS_PREFIX, event_id),
        wait_go=True,
        rcvbuf=4096,
        deadline_s=60,
    )
    clients = StreamClients(spec)
    try:
        clients.expect("CONNECTING")
        assert clients.expect("READY")["ok"] == STALLED
        baseline_mb = app.rss_mb()
        samples: list[float] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                samples.append(app.rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        last = paced_changes(private_redis, event_id, venue.seat_count, CHANGES_PER_S, CHANGING_S)
        stop.set()
        sampler.join()
        clients.go(last)
        result = clients.expect("DONE")
    finally:
        clients.close()
    third = len(samples) // 3
    growth_late = max(samples[third:]) - samples[third]
    print(f"\n{STALLED} stalled clients: RSS {baseline_mb:.0f} -> max {max(samples):.0f} MiB "
          f"(+{growth_late:.1f} MiB after the first third); {result}")  # fmt: skip
    assert result["answered"] == STALLED and result["done"] == STALLED, result
    assert result["wrong"] == 0, result
    assert result["clients_reset"] > 0, "no client overflowed: the test did not test the bound"
    assert max(samples) - baseline_mb < RSS_BOUND_MB, samples
    assert growth_late < RSS_FLAT_MB, samples
    assert app.unhandled_errors() == [], app.error_summary()


@pytest.mark.timeout(180)
def test_resuming_from_the_start_of_a_long_log_is_a_reset_not_a_replay(
    ops_settings: Settings, private_redis: PrivateRedis, start_app: AppFactory
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Long log")
    app = start_app()
    base, resume_at = snapshot(app.url, event_id)
    generation = resume_at.split(".")[1]
    first = append_changes(private_redis, event_id, venue.seat_count, 1)
    last = append_changes(private_redis, event_id, venue.seat_count, LONG_LOG - 1)
    _, final = snapshot(app.url, event_id)
    assert final.startswith(last)
    spec = Spec(
        port=app.port,
        path=f"/events/{event_id}/stream",
        last_id=resume_at,
        resume_ids=["0-0", resume_at, f"{first}.{generation}"],
        final_id=final,
        clients=FROM_THE_START,
        base_hex=base.hex(),
        redis_url=private_redis.url,
        log_key=stream_key(REDIS_PREFIX, event_id),
        defer_check=True,
        deadline_s=30,
    )
    clients = StreamClients(spec)
    try:
        clients.expect("CONNECTING")
        with HealthProbe(app.url) as probe:
            result = clients.expect("DONE")
    finally:
        clients.close()
    print(f"\n{FROM_THE_START} resumes from the start of {LONG_LOG:,} entries: {result}; "
          f"/healthz p99 {probe.p99_ms():.1f} ms")  # fmt: skip
    assert result["done"] == FROM_THE_START and result["wrong"] == 0, result
    assert result["clients_reset"] == FROM_THE_START and result["messages"] == 0, result
    assert probe.p99_ms() < HEALTHZ_P99_MS, sorted(probe.latencies_ms)[-5:]
    assert app.unhandled_errors() == [], app.error_summary()
