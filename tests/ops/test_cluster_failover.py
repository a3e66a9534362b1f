"""A Redis Cluster master killed (kill -9) in the middle of an on-sale.

The app runs as a process on a private 3-master, 3-replica cluster. Buyers hold
and buy pairs of seats in three events, one on each master; one master is
killed. Requests for its event must get 503 + Retry-After (never a 500) until
its replica has taken over, the other events keep selling, every acknowledged
sale survives, no fencing number is handed out twice, the same process serves
the event again without a restart, and the statuses it follows for its
viewers end up as Redis has them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest

from seatmap.events import EventRules
from seatmap.livekeys import status_key
from seatmap.model import Venue
from seatmap.redisclient import redis_client
from seatmap.runtime import open_context
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from seatmap_app.operations import import_venue, open_event
from tests.conftest import pg_connection
from tests.ops.api import API_KEY, Api, open_api, seat_index, seat_pairs
from tests.ops.cluster import LocalRedisCluster
from tests.ops.conftest import SESSION_SECRET, app_env
from tests.ops.load import Observed, confirm_until_answered, fault_venue
from tests.ops.servers import AppProcess, PrivatePostgres, wait_until
from tileserver.seatsapi import SEAT_RECORD, public_statuses

pytestmark = [pytest.mark.fault, pytest.mark.slow, pytest.mark.cluster]

PREFIX = "opscluster:"
RULES = EventRules(max_seats_per_buyer=100, no_orphans=False, hold_ttl_s=900, max_hold_s=1800)
SOLD = SeatStatus.SOLD.value
BUYERS_PER_EVENT = 3
PAIRS_PER_BUYER = 40  # 80 seats: under the per-buyer maximum, and more than a run buys
PACE_S = 0.2
FAILOVER_S = 30  # from the kill until a hold in the victim's event works again


@pytest.fixture
def cluster(ops_root: Path) -> Iterator[LocalRedisCluster]:
    """A cluster of this test only: it loses a master."""
    servers = LocalRedisCluster(ops_root / f"cluster-{uuid.uuid4().hex[:6]}")
    try:
        yield servers.start()
    finally:
        servers.stop()


@pytest.fixture
def cluster_settings(
    cluster: LocalRedisCluster, private_postgres: PrivatePostgres, ops_root: Path
) -> Settings:
    """Settings on the private cluster and PostgreSQL."""
    return Settings(
        database_url=private_postgres.dsn,
        redis_url=cluster.url,
        redis_cluster=True,
        data_dir=ops_root / "data",
        api_key=API_KEY,
        session_secret=SESSION_SECRET,
        redis_prefix=PREFIX,
        reconcile_interval_s=1.0,
        log_json=False,
    )


def events_on_every_master(
    settings: Settings, cluster: LocalRedisCluster, venue: Venue, rules: EventRules = RULES
) -> dict[int, int]:
    """Open events on one venue until each master serves one; master port -> event id."""

    async def run() -> dict[int, int]:
        chosen: dict[int, int] = {}
        async with open_context(settings) as ctx:
            venue_id = await import_venue(ctx, venue, "test")
            for n in range(40):
                event = await open_event(ctx, venue_id, f"Failover {n}", rules=rules)
                master = cluster.master_of_key(status_key(settings.redis_prefix, event.id))
                chosen.setdefault(master, event.id)
                if len(chosen) == cluster.masters:
                    return chosen
        raise AssertionError("40 events did not cover the three masters")

    return asyncio.run(run())


@dataclass
class Sale:
    """One acknowledged sale."""

    event_id: int
    seats: list[str]
    fencing: int


@dataclass
class Failover:
    """Buyers in three events while the master of one of them is killed."""

    app: AppProcess
    cluster: LocalRedisCluster
    events: dict[int, int]  # master port -> event id
    venue: Venue
    victim: int  # the master port to kill
    seen: dict[int, Observed] = field(default_factory=dict)  # per event
    fencings: dict[int, list[int]] = field(default_factory=dict)  # per event, from 201 holds
    sold: list[Sale] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def buyer(self, api: Api, token: str, pairs: list[list[str]]) -> None:
        """Hold and buy pair after pair; a pair answered 503 is tried again."""
        observed = self.seen[api.event_id]
        for pair in pairs:
            while not self.stop.is_set():
                response = await api.hold(token, pair)
                observed.record("hold", response)
                if response.status_code == 201:
                    body = response.json()
                    self.fencings[api.event_id].append(int(body["fencing"]))
                    await self.confirm(api, body["hold_token"], pair, int(body["fencing"]))
                if response.status_code != 503:
                    break
                await asyncio.sleep(0.2)
            if self.stop.is_set():
                return
            await asyncio.sleep(PACE_S)

    async def confirm(self, api: Api, hold_token: str, pair: list[str], fencing: int) -> None:
        """Confirm with one Idempotency-Key, retried on 503 as a box office would."""
        response = await confirm_until_answered(
            api, hold_token, str(uuid.uuid4()), self.seen[api.event_id], 30, 0.3
        )
        if response is not None and response.status_code in (200, 201):
            self.sold.append(Sale(api.event_id, pair, fencing))

    def phase(self, name: str) -> None:
        """Record the answers from now on under `name`."""
        for observed in self.seen.values():
            observed.phase = name

    async def run(self) -> float:
        """Load 3 s, kill the victim, wait for its event to sell again, load 2 s more.
        Returns the seconds from the kill to the victim event's first hold after it."""
        pairs = seat_pairs(self.venue)
        share = [pairs[i::BUYERS_PER_EVENT][:PAIRS_PER_BUYER] for i in range(BUYERS_PER_EVENT)]
        limits = httpx.Limits(max_connections=60)
        async with contextlib.AsyncExitStack() as stack:
            tasks = []
            for event_id in self.events.values():
                api = await stack.enter_async_context(
                    open_api(self.app.url, event_id, timeout_s=30, limits=limits)
                )
                self.seen[event_id] = Observed()
                self.fencings[event_id] = []
                for buyer_pairs in share:
                    token, _ = await api.session()
                    tasks.append(asyncio.create_task(self.buyer(api, token, buyer_pairs)))
            await asyncio.sleep(3)
            assert len(self.sold) >= 3, "sales did not go through before the fault"
            self.phase("fault")
            killed_at = time.monotonic()
            await asyncio.to_thread(self.cluster.kill, self.victim)
            victim_event = self.events[self.victim]
            while 201 not in self.seen[victim_event].statuses("fault", "hold"):
                assert time.monotonic() - killed_at < FAILOVER_S, "the event never sold again"
                await asyncio.sleep(0.05)
            recovered_s = time.monotonic() - killed_at
            self.phase("after")
            await asyncio.sleep(2)
            self.stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
        return recovered_s


async def statuses_in_redis(cluster: LocalRedisCluster, event_ids: list[int]) -> dict[int, bytes]:
    """Each event's status bytes, read through a cluster client (on a node still running)."""
    redis = redis_client(cluster.live_url(), cluster=True)
    try:
        found = {e: await redis.get(status_key(PREFIX, e)) for e in event_ids}
        return {e: raw if isinstance(raw, bytes) else b"" for e, raw in found.items()}
    finally:
        await redis.aclose()


async def orders_sharing_a_fencing(dsn: str, event_ids: list[int]) -> list[tuple[int, int]]:
    """(event, fencing) pairs that more than one order carries."""
    async with pg_connection(dsn) as conn:
        rows = await conn.fetch(
            "SELECT event_id, fencing FROM orders WHERE event_id = ANY($1::bigint[])"
            " GROUP BY event_id, fencing HAVING count(*) > 1",
            event_ids,
        )
    return [(int(r[0]), int(r[1])) for r in rows]


async def sold_in_postgres(dsn: str, event_ids: list[int]) -> set[tuple[int, int]]:
    """(event, seat index) of every sale PostgreSQL has for these events."""
    async with pg_connection(dsn) as conn:
        rows = await conn.fetch(
            "SELECT event_id, seat_index FROM sales WHERE event_id = ANY($1::bigint[])",
            event_ids,
        )
    return {(int(r[0]), int(r[1])) for r in rows}


def app_sees(app: AppProcess, event_id: int, truth: bytes) -> bool:
    """Whether the app's followed statuses of the event (seats.bin) are the truth in Redis."""
    reply = httpx.get(f"{app.url}/events/{event_id}/seats.bin", timeout=5)
    assert reply.status_code == 200, reply.text
    records = np.frombuffer(reply.content, dtype=SEAT_RECORD, offset=12)
    expected = public_statuses(np.frombuffer(truth, dtype=np.uint8))
    return bool(np.array_equal(records["status"], expected[records["index"]]))


@pytest.mark.timeout(240)
def test_killed_master_gives_503_until_its_replica_takes_over_and_loses_no_sale(
    cluster: LocalRedisCluster,
    cluster_settings: Settings,
    private_postgres: PrivatePostgres,
    ops_root: Path,
) -> None:
    venue = fault_venue()
    events = events_on_every_master(cluster_settings, cluster, venue)
    victim = sorted(events)[0]
    log = ops_root / "logs" / "cluster-failover.log"
    log.parent.mkdir(exist_ok=True)
    app = AppProcess(app_env(cluster_settings), log).start()
    try:
        scenario = Failover(app, cluster, events, venue, victim)
        recovered_s = asyncio.run(scenario.run())
        victim_event = events[victim]
        others = [e for m, e in events.items() if m != victim]

        # Never a 500: every 5xx is a 503 with Retry-After, and no unhandled error was logged.
        for event_id, observed in scenario.seen.items():
            assert observed.server_errors() == [], (event_id, app.error_summary())
        assert app.unhandled_errors() == [], app.error_summary()
        # The victim's event saw the fault, and sold again after the failover; the others
        # kept selling while it was down.
        fault = scenario.seen[victim_event].statuses("fault", "hold")
        assert 503 in fault, f"the fault was not observed: {fault}"
        assert recovered_s < FAILOVER_S
        for event_id in others:
            assert 201 in scenario.seen[event_id].statuses("fault", "hold"), event_id
        # The same process serves again: no restart.
        assert app.proc is not None and app.proc.poll() is None
        assert 201 in scenario.seen[victim_event].statuses("after", "hold")

        # Fencing numbers a buyer was given never repeat, in Redis's answers or in orders.
        for event_id, fencings in scenario.fencings.items():
            assert len(fencings) == len(set(fencings)), f"fencing repeated in {event_id}"
        ids = list(events.values())
        assert asyncio.run(orders_sharing_a_fencing(private_postgres.dsn, ids)) == []

        # Nothing sold is lost: PostgreSQL has every acknowledged sale, and Redis shows it sold.
        acknowledged = {(s.event_id, seat_index(venue, x)) for s in scenario.sold for x in s.seats}
        assert acknowledged <= asyncio.run(sold_in_postgres(private_postgres.dsn, ids))

        def not_sold_in_redis() -> list[tuple[int, int, int]]:
            status = asyncio.run(statuses_in_redis(cluster, ids))
            return [(e, i, status[e][i]) for e, i in acknowledged if status[e][i] != SOLD]

        with contextlib.suppress(AssertionError):
            wait_until(lambda: not not_sold_in_redis(), 15, "acknowledged sales sold in Redis")
        assert not_sold_in_redis() == [], "acknowledged sales unsold in Redis (event, seat, status)"
        # The app's change feed followed the failover: what it serves is Redis's truth.
        truth = asyncio.run(statuses_in_redis(cluster, ids))
        for event_id in ids:
            sees = functools.partial(app_sees, app, event_id, truth[event_id])
            wait_until(sees, 15, f"the app to serve event {event_id} as Redis has it")
        print(
            f"\nfailover: event {victim_event} sold again {recovered_s:.1f} s after its master "
            f"was killed; {len(scenario.sold)} sales acknowledged"
        )
    finally:
        app.stop()
