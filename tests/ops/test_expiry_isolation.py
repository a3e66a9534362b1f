"""PostgreSQL down past a sale's confirm grace in event A: holds in event B still expire on time.

A sale in event A froze its hold ("confirming") and died; its grace time is
over, so the sweeper must ask PostgreSQL what became of it, but PostgreSQL is
stopped. Meanwhile a hold in event B reaches its expiry: its seats must be
free within a second of the due time and another buyer must be able to hold
them. When PostgreSQL returns, A's abandoned sale is resolved (released).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest
import redis.asyncio as aioredis

from lockservice.adminscripts import register_scripts
from lockservice.holds import CONFIRM_GRACE_MS
from lockservice.keys import event_keys
from seatmap.events import EventRules
from seatmap.livekeys import STREAM_MAXLEN
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from tests.ops.api import open_api, seat_index, seat_pairs
from tests.ops.load import LONG_HOLDS, Observed, backend_stopped, fault_venue
from tests.ops.servers import (
    REDIS_PREFIX,
    AppFactory,
    PrivatePostgres,
    PrivateRedis,
    provision_event,
    wait_until,
)

pytestmark = pytest.mark.fault

SHORT_HOLDS = EventRules(no_orphans=False, hold_ttl_s=10, max_hold_s=60)


async def freeze_as_abandoned_sale(redis: PrivateRedis, event_id: int, hold_token: str) -> None:
    """Mark the hold confirming the way a confirm does, at a time whose grace is long over."""
    client = aioredis.Redis(host="127.0.0.1", port=redis.port)
    try:
        keys = event_keys(REDIS_PREFIX, event_id)
        scripts = register_scripts(client)
        long_ago_ms = int(time.time() * 1000) - CONFIRM_GRACE_MS - 5_000
        reply = await scripts.mark_confirming(
            keys=[keys.epoch, keys.status, keys.hold(hold_token), keys.expiry, keys.log],
            args=["", hold_token, long_ago_ms, CONFIRM_GRACE_MS, "abandoned", STREAM_MAXLEN],
        )
        assert reply[0] == b"ok", reply
    finally:
        await client.aclose()


def due_s(hold: dict[str, object]) -> float:
    """A hold's expiry as Unix seconds."""
    return datetime.fromisoformat(str(hold["expires_at"]).replace("Z", "+00:00")).timestamp()


@pytest.mark.timeout(180)
def test_postgres_outage_in_one_event_does_not_stall_expiry_in_another(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
    backends_restored: None,
) -> None:
    venue = fault_venue()
    event_a = provision_event(ops_settings, venue, LONG_HOLDS, "Event A")
    event_b = provision_event(ops_settings, venue, SHORT_HOLDS, "Event B")
    pair = seat_pairs(venue)[3]
    indices = [seat_index(venue, s) for s in pair]
    app = start_app(SEATMAP_SWEEP_INTERVAL_S="0.1")
    observed = Observed(phase="outage")

    async def scenario() -> tuple[float, list[float]]:
        async with open_api(app.url, event_a) as a, open_api(app.url, event_b) as b:
            token, _ = await a.session()
            stuck = await a.held(token, pair)
            token_b, _ = await b.session()
            expiring = await b.hold(token_b, pair)
            assert expiring.status_code == 201, expiring.text
            due = due_s(expiring.json())
            async with backend_stopped(private_postgres):
                await freeze_as_abandoned_sale(private_redis, event_a, stuck)
                freed_at: list[float] = []
                while time.time() < due + 3 and not freed_at:
                    status = private_redis.status_bytes(event_b)
                    if all(status[i] == SeatStatus.AVAILABLE for i in indices):
                        freed_at.append(time.time())
                    await asyncio.sleep(0.02)
                other, _ = await b.session()
                observed.record("hold", await b.hold(other, pair))
                observed.record("confirm", await a.confirm(stuck, "abandoned"))
            return due, freed_at

    due, freed_at = asyncio.run(scenario())
    assert freed_at, "event B's expired hold kept its seats while PostgreSQL was down"
    assert freed_at[0] - due < 1.0, f"freed {freed_at[0] - due:.2f} s after its due time"
    assert observed.statuses("outage", "hold") == [201], "another buyer could not take the seats"
    assert observed.server_errors() == [], app.error_summary()

    def a_released() -> bool:
        status = private_redis.status_bytes(event_a)
        return all(status[i] == SeatStatus.AVAILABLE for i in indices)

    wait_until(a_released, 20, "event A's abandoned sale to be released once PostgreSQL is back")
    assert app.unhandled_errors() == [], app.error_summary()
