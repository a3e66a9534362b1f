"""Redis stopped in the middle of an on-sale (losing every key) and started again.

Buyers keep holding and buying and a page of map viewers keeps loading tiles
while it is away; the test checks what they were answered, that the same
process recovers, and that no acknowledged sale was lost.
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
from tests.conftest import pg_connection
from tests.ops.api import Api, open_api, seat_index, seat_pairs
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

# Each buyer buys a pair at most every PACE_S: the 360 pairs of the hall outlast the run.
PACE_S = 0.3
RECOVERY_S = 30


def sold_in_postgres(dsn: str, event_id: int) -> set[int]:
    """Seat indices PostgreSQL has sold for the event."""

    async def read() -> set[int]:
        async with pg_connection(dsn) as conn:
            rows = await conn.fetch("SELECT seat_index FROM sales WHERE event_id = $1", event_id)
        return {int(r[0]) for r in rows}

    return asyncio.run(read())


class RedisOutage:
    """Buyers who hold and buy, and a map that keeps loading, while Redis dies and returns."""

    def __init__(self, app: AppProcess, event_id: int, venue: Venue, redis: PrivateRedis) -> None:
        self.app = app
        self.event_id = event_id
        self.venue = venue
        self.redis = redis
        self.observed = Observed()
        self.sold: dict[str, list[str]] = {}  # idempotency key -> seat ids, acknowledged
        self.pairs = seat_pairs(venue)
        self.stop = asyncio.Event()

    async def buyer(self, api: Api, pairs: list[list[str]]) -> None:
        """Buy pair after pair at a steady pace until told to stop; retry a pair on 503."""
        for pair in pairs:
            while not self.stop.is_set() and not await self.buy(api, pair):
                await asyncio.sleep(0.2)
            if self.stop.is_set():
                return
            await asyncio.sleep(PACE_S)

    async def buy(self, api: Api, pair: list[str]) -> bool:
        """Session, hold, confirm. False if a backend was away (try again), else True."""
        response = await api.http.post("/sessions", json={})
        self.observed.record("session", response)
        if response.status_code != 201:
            return response.status_code != 503
        token = response.json()["token"]
        response = await api.hold(token, pair)
        self.observed.record("hold", response)
        if response.status_code != 201:
            return response.status_code != 503
        await self.confirm(api, response.json()["hold_token"], pair)
        return True

    async def confirm(self, api: Api, hold_token: str, pair: list[str]) -> None:
        """Confirm with one key, retried on 503 for up to 20 s like a box office would.

        A hold that Redis lost meanwhile answers 404/410: no sale, and nothing to retry.
        """
        key = str(uuid.uuid4())
        response = await confirm_until_answered(
            api, hold_token, key, self.observed, give_up_after_s=20, retry_after_s=0.3
        )
        if response is not None and response.status_code in (200, 201):
            self.sold[key] = pair

    async def map_viewer(self, http: httpx.AsyncClient, paths: list[str]) -> None:
        """Keep loading the same tiles, as a page full of map viewers would."""
        while not self.stop.is_set():
            for path in paths:
                self.observed.record("tile", await http.get(path))
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        """Load for 3 s, stop Redis for 4 s, start it, wait for a hold to work, load 2 s more."""
        limits = httpx.Limits(max_connections=50)
        async with open_api(self.app.url, self.event_id, timeout_s=15, limits=limits) as api:
            http = api.http
            tiles = [p for p in await api.tile_paths() if (await http.get(p)).status_code == 200]
            assert tiles, "the event serves no tiles"
            workers = 8
            shares = [self.pairs[i::workers] for i in range(workers)]
            tasks = [asyncio.create_task(self.buyer(api, share)) for share in shares]
            tasks.append(asyncio.create_task(self.map_viewer(http, tiles)))
            await asyncio.sleep(3)
            assert self.sold, "no sale went through before the outage"
            self.observed.phase = "outage"
            async with backend_stopped(self.redis):
                await asyncio.sleep(1)
                self.observed.record("healthz", await http.get("/healthz"))
                self.observed.record("readyz", await http.get("/readyz"))
                await asyncio.sleep(3)
            self.observed.phase = "recovery"
            deadline = time.monotonic() + RECOVERY_S
            while 201 not in self.observed.statuses("recovery", "hold"):
                assert time.monotonic() < deadline, f"no hold {RECOVERY_S} s after Redis returned"
                await asyncio.sleep(0.1)
            await asyncio.sleep(2)
            self.stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)


@pytest.mark.timeout(240)
def test_redis_outage_answers_503_serves_tiles_and_loses_no_sale(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
    backends_restored: None,
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Redis outage")
    app = start_app()
    scenario = RedisOutage(app, event_id, venue, private_redis)
    asyncio.run(scenario.run())
    seen = scenario.observed

    assert seen.server_errors() == [], f"not 503 + Retry-After:\n{app.error_summary()}"
    outage_writes = [
        s for kind in ("session", "hold", "confirm") for s in seen.statuses("outage", kind)
    ]
    assert 503 in outage_writes, f"the outage was not observed: {outage_writes}"
    tiles_in_outage = seen.statuses("outage", "tile")
    assert tiles_in_outage and set(tiles_in_outage) <= {200, 304}, tiles_in_outage
    assert seen.statuses("outage", "healthz") == [200]
    assert seen.statuses("outage", "readyz") == [503]

    # Recovered without a restart: same process, and sales work again.
    assert app.proc is not None and app.proc.poll() is None
    assert 201 in seen.statuses("recovery", "hold"), seen.statuses("recovery", "hold")

    # Nothing acknowledged is lost: PostgreSQL has it, and the reconciler put it back in Redis.
    acknowledged = {seat_index(venue, s) for pair in scenario.sold.values() for s in pair}
    assert acknowledged <= sold_in_postgres(private_postgres.dsn, event_id)

    def restored() -> bool:
        status = private_redis.status_bytes(event_id)
        return bool(status) and all(status[i] == SeatStatus.SOLD for i in acknowledged)

    wait_until(restored, 15, "the reconciler to mark every sold seat sold in Redis again")

    async def resell() -> list[int]:
        async with open_api(app.url, event_id) as api:
            token, _ = await api.session()
            pairs = list(scenario.sold.values())[:5]
            return [(await api.hold(token, pair)).status_code for pair in pairs]

    assert set(asyncio.run(resell())) == {409}, "a sold seat could be held again"
    assert app.unhandled_errors() == [], app.error_summary()
