"""An app host whose clock is ten minutes fast moves no expiry.

Two app processes share the private Redis and PostgreSQL; one runs under
libfaketime ten minutes ahead. A hold made through the honest host must not be
expired by the fast host's sweeper, and a hold made or extended through the
fast host must expire when Redis's clock says, not ten minutes early or late.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import pytest

from seatmap.events import EventRules
from seatmap.settings import Settings
from tests.ops.api import open_api, seat_pairs
from tests.ops.load import fault_venue
from tests.ops.servers import AppFactory, PrivatePostgres, PrivateRedis, provision_event

pytestmark = pytest.mark.fault

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
SKEW_S = 600
HOLD_TTL_S = 300
RULES = EventRules(no_orphans=False, hold_ttl_s=HOLD_TTL_S, max_hold_s=2 * HOLD_TTL_S)


def unix_s(iso: str) -> float:
    """An ISO 8601 time of the API as Unix seconds."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@pytest.mark.timeout(180)
def test_a_host_with_a_fast_clock_moves_no_expiry(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
) -> None:
    if not LIBFAKETIME.exists():
        pytest.fail(f"{LIBFAKETIME} is missing: install the Debian package faketime")
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, RULES, "Skewed hosts")
    honest = start_app(SEATMAP_SWEEP_INTERVAL_S="0.1")
    fast = start_app(
        SEATMAP_SWEEP_INTERVAL_S="0.1",
        LD_PRELOAD=str(LIBFAKETIME),
        FAKETIME=f"+{SKEW_S}",
        FAKETIME_DONT_FAKE_MONOTONIC="1",
    )
    pairs = seat_pairs(venue)

    async def scenario() -> None:
        async with (
            open_api(honest.url, event_id) as on_honest,
            open_api(fast.url, event_id) as on_fast,
        ):
            token, _ = await on_honest.session()
            by_honest = await on_honest.held(token, pairs[0])
            fast_token, _ = await on_fast.session()
            asked = time.time()
            made = await on_fast.hold(fast_token, pairs[1])
            assert made.status_code == 201, made.text
            for field in ("created_at", "expires_at"):
                offset = unix_s(made.json()[field]) - asked
                expected = HOLD_TTL_S if field == "expires_at" else 0
                assert abs(offset - expected) < 2, f"{field} is {offset:.1f} s from now"
            url = f"/events/{event_id}/holds/{made.json()['hold_token']}/extend"
            extended = await on_fast.http.post(
                url, headers={"Authorization": f"Bearer {fast_token}"}
            )
            assert extended.status_code == 200, extended.text
            assert abs(unix_s(extended.json()["expires_at"]) - time.time() - HOLD_TTL_S) < 2
            await asyncio.sleep(1.5)  # many sweeps of the fast host
            for api in (on_honest, on_fast):
                reply = await api.http.get(
                    f"/events/{event_id}/holds/{by_honest}",
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert reply.status_code == 200, f"the fast host expired a live hold: {reply.text}"
                assert reply.json()["state"] == "held"

    asyncio.run(scenario())
    for app in (honest, fast):
        assert app.unhandled_errors() == [], app.error_summary()
