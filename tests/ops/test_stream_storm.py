"""A reconnect storm: 2,000 clients resume at once with Last-Event-ID, as after a deploy.

The app process has just started (nothing cached), so every resume needs changes
from before it existed. All must stream on the first try, each getting exactly the
changes it missed, within 5 s, while /healthz stays quick and nothing reaches the
log as an error.
"""

from __future__ import annotations

import asyncio

import pytest

from seatmap.livekeys import stream_key
from seatmap.settings import Settings
from tests.ops.api import open_api, seat_pairs
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.ops.servers import REDIS_PREFIX, AppFactory, PrivateRedis, provision_event
from tests.ops.streamclients import Spec, StreamClients
from tests.ops.streamprobe import HealthProbe, snapshot

pytestmark = [pytest.mark.fault, pytest.mark.slow]

STORM = 2000
MISSED = 20
ALL_STREAMING_S = 15.0  # a loose bound: on two busy cores 2,000 catch-ups take 2-6 s
HEALTHZ_P99_MS = 100.0
# Source addresses of the storm: a real one comes from many clients, not one port range.
SOURCES = [f"127.0.0.{n}" for n in range(2, 10)]


async def hold_pairs(url: str, event_id: int, pairs: list[list[str]]) -> None:
    """One buyer per pair holds it, over HTTP."""
    async with open_api(url, event_id) as api:
        for pair in pairs:
            token, _ = await api.session()
            await api.held(token, pair)


@pytest.mark.timeout(180)
def test_two_thousand_simultaneous_resumes_all_stream_on_the_first_try(
    ops_settings: Settings, private_redis: PrivateRedis, start_app: AppFactory
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Reconnect storm")
    setup = start_app()
    base, resume_at = snapshot(setup.url, event_id)
    asyncio.run(hold_pairs(setup.url, event_id, seat_pairs(venue)[:MISSED]))
    _, final = snapshot(setup.url, event_id)
    setup.stop()
    app = start_app()  # a fresh process, as after a deploy
    spec = Spec(
        port=app.port,
        path=f"/events/{event_id}/stream",
        last_id=resume_at,
        final_id=final,
        clients=STORM,
        base_hex=base.hex(),
        redis_url=private_redis.url,
        log_key=stream_key(REDIS_PREFIX, event_id),
        sources=SOURCES,
        defer_check=True,
        deadline_s=30,
    )
    clients = StreamClients(spec)
    try:
        clients.expect("CONNECTING")
        with HealthProbe(app.url, min_s=ALL_STREAMING_S) as probe:  # the storm's window
            result = clients.expect("DONE")
    finally:
        clients.close()
    print(f"\nstorm of {STORM}: {result}; /healthz p99 {probe.p99_ms():.1f} ms")
    assert result["answered"] == STORM, result
    assert result["done"] == STORM, result
    assert result["resets"] == 0 and result["wrong"] == 0, result
    assert result["messages"] >= STORM, result
    assert result["all_done_s"] < ALL_STREAMING_S, result
    assert probe.failures == 0
    assert probe.p99_ms() < HEALTHZ_P99_MS, sorted(probe.latencies_ms)[-10:]
    assert app.unhandled_errors() == [], app.error_summary()
    assert "Error" not in app.log_text(), app.log_tail()
