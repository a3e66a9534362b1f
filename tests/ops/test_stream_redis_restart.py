"""A viewer follows the live stream while Redis is killed (-9) and comes back empty.

Buyers keep holding, releasing and buying throughout. Redis's change log starts a
new life after the restart, so the viewer's position means nothing any more: it
must be told `reset`, reload, and end with exactly what the server holds to be
true, with every seat PostgreSQL has sold shown sold.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from seatmap.model import Venue
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from tests.ops.api import Api, open_api, seat_pairs
from tests.ops.livemap import LiveMap
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.ops.servers import (
    AppFactory,
    AppProcess,
    PrivatePostgres,
    PrivateRedis,
    provision_event,
)
from tests.ops.test_redis_outage import sold_in_postgres

pytestmark = pytest.mark.fault

BUYERS = 6
RECOVERY_S = 30
CONVERGE_S = 15


class Churn:
    """Buyers who hold pairs and then release or buy them, riding out the outage."""

    def __init__(self, api: Api, venue: Venue) -> None:
        self.api = api
        self.pairs = seat_pairs(venue)
        self.stop = asyncio.Event()
        self.holds_after_restart = 0
        self.restarted = False
        self.server_errors: list[int] = []

    async def buyer(self, n: int) -> None:
        """Hold pair after pair; every other one is bought, the rest released."""
        mine = self.pairs[n::BUYERS]
        turn = 0
        while not self.stop.is_set():
            pair = mine[turn % len(mine)]
            turn += 1
            try:
                await self.one(pair, buy=turn % 2 == 0)
            except httpx.TransportError:
                await asyncio.sleep(0.1)

    async def one(self, pair: list[str], buy: bool) -> None:
        response = await self.api.http.post("/sessions", json={})
        self.check(response)
        if response.status_code != 201:
            await asyncio.sleep(0.1)
            return
        token = response.json()["token"]
        response = await self.api.hold(token, pair)
        self.check(response)
        if response.status_code != 201:
            await asyncio.sleep(0.05)
            return
        self.holds_after_restart += self.restarted
        hold_token = response.json()["hold_token"]
        await asyncio.sleep(0.05)
        if buy:
            response = await self.api.confirm(hold_token, str(uuid.uuid4()))
        else:
            response = await self.api.http.delete(
                f"/events/{self.api.event_id}/holds/{hold_token}",
                headers={"Authorization": f"Bearer {token}"},
            )
        self.check(response)

    def check(self, response: httpx.Response) -> None:
        """Remember 5xx answers other than 503 with Retry-After."""
        if response.status_code >= 500 and not (
            response.status_code == 503 and response.headers.get("retry-after")
        ):
            self.server_errors.append(response.status_code)


async def follow_across_restart(app: AppProcess, event_id: int, venue: Venue,
                                redis: PrivateRedis) -> tuple[LiveMap, Churn]:  # fmt: skip
    """Churn for 2 s, kill Redis, restart it empty, churn until holds work again and 2 s more."""
    live = LiveMap(app.url, event_id).start()
    await asyncio.wait_for(live.connected.wait(), 10)
    async with open_api(app.url, event_id, timeout_s=15) as api:
        churn = Churn(api, venue)
        buyers = [asyncio.create_task(churn.buyer(n)) for n in range(BUYERS)]
        await asyncio.sleep(2)
        await asyncio.to_thread(redis.kill)
        await asyncio.sleep(1)
        await asyncio.to_thread(redis.start)
        churn.restarted = True
        deadline = time.monotonic() + RECOVERY_S
        while churn.holds_after_restart < BUYERS:
            assert time.monotonic() < deadline, f"no holds {RECOVERY_S} s after Redis returned"
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        churn.stop.set()
        await asyncio.wait_for(asyncio.gather(*buyers), 30)
    return live, churn


async def converge(live: LiveMap, url: str, event_id: int) -> tuple[bytes, int]:
    """Wait until the viewer's map equals the server's snapshot; (truth, seats differing)."""
    deadline = time.monotonic() + CONVERGE_S
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        while True:
            truth = (await http.get(f"/events/{event_id}/status.bin")).content
            differing = sum(a != b for a, b in zip(live.statuses, truth, strict=True))
            if differing == 0 or time.monotonic() > deadline:
                return truth, differing
            await asyncio.sleep(0.2)


@pytest.mark.timeout(180)
def test_a_viewer_following_across_a_redis_kill_and_empty_restart_ends_with_the_truth(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
    backends_restored: None,
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Redis restart")
    app = start_app()

    async def run() -> tuple[LiveMap, Churn, bytes, int]:
        live, churn = await follow_across_restart(app, event_id, venue, private_redis)
        try:
            truth, differing = await converge(live, app.url, event_id)
        finally:
            await live.stop()
        return live, churn, truth, differing

    live, churn, truth, differing = asyncio.run(run())
    assert live.resets >= 1, "the viewer was never told its position had become meaningless"
    assert differing == 0, f"{differing} seats differ from the truth after the restart"
    sold = sold_in_postgres(private_postgres.dsn, event_id)
    assert sold, "nothing was sold"
    assert all(truth[s] == SeatStatus.SOLD for s in sold), "a sold seat is not shown sold"
    assert churn.server_errors == [], churn.server_errors
    assert app.unhandled_errors() == [], app.error_summary()
