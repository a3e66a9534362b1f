"""PostgreSQL restarted (fast shutdown) while the box office confirms holds.

Each hold is confirmed with one Idempotency-Key, retried through the restart;
the test checks that every answer is a success or 503 + Retry-After (never a
500: a connection cut mid-query, or left in a broken state, is a backend
fault), that every key ends in exactly one order, that a replay returns that
order, and that Redis ends up agreeing with PostgreSQL. Two schedules: confirms
spread over the restart, and a burst of concurrent confirms that PostgreSQL is
stopped in the middle of.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from seatmap.model import Venue
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from tests.conftest import pg_connection
from tests.ops.api import open_api, seat_index, seat_pairs
from tests.ops.load import (
    LONG_HOLDS,
    Observed,
    backend_stopped,
    confirm_until_answered,
    fault_venue,
)
from tests.ops.servers import (
    AppFactory,
    AppProcess,
    PrivatePostgres,
    PrivateRedis,
    provision_event,
    wait_until,
)

pytestmark = pytest.mark.fault

# An impatient box office: retries land while PostgreSQL shuts down and starts up.
CONFIRM_RETRY_S = 0.05

# idempotency key -> (hold token, seat ids, the answer that ended its retries)
Outcomes = dict[str, tuple[str, list[str], httpx.Response | None]]


@dataclass(frozen=True, slots=True)
class Schedule:
    """When the confirms go out and when PostgreSQL stops, from the first confirm."""

    count: int
    spread_s: float
    stop_after_s: float


SCHEDULES = {
    "spread": Schedule(count=40, spread_s=4.0, stop_after_s=1.0),
    "burst": Schedule(count=80, spread_s=0.0, stop_after_s=0.05),
}


async def confirms_across_restart(
    app: AppProcess,
    event_id: int,
    venue: Venue,
    postgres: PrivatePostgres,
    count: int,
    schedule: Schedule,
) -> tuple[Observed, Outcomes]:
    """Hold `count` pairs, then confirm them spread over `schedule.spread_s` while PostgreSQL
    is stopped `schedule.stop_after_s` in and started again 3 s later."""
    observed = Observed(phase="restart")
    async with open_api(app.url, event_id, timeout_s=30) as api:
        holds: dict[str, tuple[str, list[str]]] = {}
        for pair in seat_pairs(venue)[:count]:
            token, _ = await api.session()
            holds[str(uuid.uuid4())] = (await api.held(token, pair), pair)

        async def restart() -> None:
            await asyncio.sleep(schedule.stop_after_s)
            async with backend_stopped(postgres):
                await asyncio.sleep(3.0)

        async def confirm(hold_token: str, key: str, start_after_s: float) -> httpx.Response | None:
            await asyncio.sleep(start_after_s)
            return await confirm_until_answered(
                api,
                hold_token,
                key,
                observed,
                give_up_after_s=45,
                retry_after_s=CONFIRM_RETRY_S,
                ride_out_transport_errors=True,
            )

        step = schedule.spread_s / count
        confirms = [
            confirm(hold_token, key, i * step)
            for i, (key, (hold_token, _)) in enumerate(holds.items())
        ]
        results = await asyncio.gather(restart(), *confirms)
        return observed, {
            key: (hold_token, pair, result)
            for (key, (hold_token, pair)), result in zip(holds.items(), results[1:], strict=True)
        }


def order_id(body: dict[str, Any]) -> Any:
    """The order id in a confirm reply, whatever the field is called."""
    return body.get("order_id", body.get("id"))


@pytest.mark.timeout(240)
@pytest.mark.parametrize("schedule", SCHEDULES.values(), ids=SCHEDULES.keys())
def test_postgres_restart_during_confirms_gives_one_order_per_key(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
    backends_restored: None,
    schedule: Schedule,
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "PostgreSQL restart")
    app = start_app()
    count = schedule.count
    observed, outcomes = asyncio.run(
        confirms_across_restart(app, event_id, venue, private_postgres, count, schedule)
    )

    assert observed.server_errors() == [], f"not 503 + Retry-After:\n{app.error_summary()}"
    assert 503 in observed.statuses("restart", "confirm"), "no confirm met the restart"
    unfinished = {k: r.status_code if r else None for k, (_, _, r) in outcomes.items()
                  if r is None or r.status_code not in (200, 201)}  # fmt: skip
    assert unfinished == {}, "confirms that never succeeded"

    async def replay_and_read() -> tuple[dict[str, Any], list[asyncpg.Record]]:
        async with open_api(app.url, event_id) as api:
            again = {key: (await api.confirm(hold, key)) for key, (hold, _, _) in outcomes.items()}
        async with pg_connection(private_postgres.dsn) as conn:
            rows = await conn.fetch(
                "SELECT o.idempotency_key, o.id, array_agg(s.seat_index ORDER BY s.seat_index) "
                "AS seats FROM orders o JOIN sales s ON s.order_id = o.id "
                "WHERE o.event_id = $1 GROUP BY o.id",
                event_id,
            )
        return {k: (r.status_code, r.json()) for k, r in again.items()}, rows

    replays, orders = asyncio.run(replay_and_read())
    by_key = {r["idempotency_key"]: r for r in orders}
    assert len(orders) == count == len(by_key), "exactly one order per Idempotency-Key"
    for key, (_, pair, first) in outcomes.items():
        expected_seats = sorted(seat_index(venue, s) for s in pair)
        assert list(by_key[key]["seats"]) == expected_seats
        assert first is not None
        status, body = replays[key]
        assert status in (200, 201), body
        assert order_id(body) == order_id(first.json()) == by_key[key]["id"]
    all_seats = [s for r in orders for s in r["seats"]]
    assert len(all_seats) == len(set(all_seats)) == 2 * count

    def all_sold_in_redis() -> bool:
        status = private_redis.status_bytes(event_id)
        return all(status[s] == SeatStatus.SOLD for s in all_seats)

    wait_until(all_sold_in_redis, 15, "every sold seat to be sold in Redis")
    assert app.unhandled_errors() == [], app.error_summary()
