"""Fencing numbers only grow, across Redis killed (-9) and restarted empty, and FLUSHALL.

Buyers keep holding and buying pairs while the private Redis is killed and
started empty, and later flushed twice. Every hold answer is timed: a hold
asked for after another one was answered must carry a larger fencing number,
whatever happened to Redis in between; no number is ever handed out twice, and
PostgreSQL never records two orders with one fencing number. An event Redis
lost while PostgreSQL is away accepts no hold at all (503 + Retry-After) until
it can be rebuilt from the sales record.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import pytest

from seatmap.settings import Settings
from tests.conftest import pg_connection
from tests.ops.api import Api, open_api, seat_pairs
from tests.ops.load import LONG_HOLDS, Observed, backend_stopped, fault_venue
from tests.ops.servers import AppFactory, PrivatePostgres, PrivateRedis, provision_event

pytestmark = pytest.mark.fault

BUYERS = 6
# Each buyer starts a pair at most every PACE_S: the hall's 360 pairs outlast the run.
PACE_S = 0.2


@dataclass(frozen=True, slots=True)
class Issued:
    """One accepted hold: when it was asked for and answered (monotonic s), its fencing."""

    asked_s: float
    answered_s: float
    fencing: int


@dataclass
class FencingLog:
    """Every fencing number the app handed out, and what the clients were answered."""

    issued: list[Issued] = field(default_factory=list)
    observed: Observed = field(default_factory=Observed)
    confirmed: int = 0


def kill_and_restart_empty(redis: PrivateRedis) -> None:
    """kill -9 the Redis server and start an empty one on the same port."""
    assert redis.proc is not None
    redis.proc.kill()
    redis.proc.wait(timeout=10)
    redis.proc = None
    redis.start()


def flush_all(redis: PrivateRedis) -> None:
    """FLUSHALL on the private server (never on the shared one)."""
    with redis.client() as client:
        client.flushall()


async def buyer(api: Api, pairs: list[list[str]], log: FencingLog, stop: asyncio.Event) -> None:
    """Hold a pair, confirm it (one key, retried on 503), next pair; until told to stop."""
    for pair in pairs:
        if stop.is_set():
            return
        await asyncio.sleep(PACE_S)
        session = await api.http.post("/sessions", json={})
        log.observed.record("session", session)
        if session.status_code != 201:
            await asyncio.sleep(0.1)
            continue
        asked = time.monotonic()
        hold = await api.hold(session.json()["token"], pair)
        log.observed.record("hold", hold)
        if hold.status_code != 201:
            await asyncio.sleep(0.1)
            continue
        log.issued.append(Issued(asked, time.monotonic(), int(hold.json()["fencing"])))
        key = str(uuid.uuid4())
        for _ in range(40):
            confirm = await api.confirm(hold.json()["hold_token"], key)
            log.observed.record("confirm", confirm)
            if confirm.status_code != 503:
                log.confirmed += confirm.status_code in (200, 201)
                break
            await asyncio.sleep(0.1)


async def on_sale_through_redis_losses(
    url: str, event_id: int, pairs: list[list[str]], redis: PrivateRedis
) -> FencingLog:
    """Sell for 2 s, kill -9 Redis and restart it empty, sell 3 s, FLUSHALL twice 1.5 s apart."""
    log = FencingLog()
    stop = asyncio.Event()
    async with open_api(url, event_id, timeout_s=15) as api:
        shares = [pairs[i::BUYERS] for i in range(BUYERS)]
        tasks = [asyncio.create_task(buyer(api, share, log, stop)) for share in shares]
        await asyncio.sleep(2)
        log.observed.phase = "killed"
        await asyncio.to_thread(kill_and_restart_empty, redis)
        await asyncio.sleep(3)
        for _ in range(2):
            log.observed.phase = "flushed"
            await asyncio.to_thread(flush_all, redis)
            await asyncio.sleep(1.5)
        assert not all(task.done() for task in tasks), "the buyers ran out of seats"
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    return log


@pytest.mark.timeout(180)
def test_fencing_strictly_increases_across_redis_kill_and_flushall(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
    backends_restored: None,
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Fencing night")
    app = start_app()
    log = asyncio.run(
        on_sale_through_redis_losses(app.url, event_id, seat_pairs(venue), private_redis)
    )

    assert log.observed.server_errors() == [], f"not 503 + Retry-After:\n{app.error_summary()}"
    for phase in ("before", "killed", "flushed"):
        assert 201 in log.observed.statuses(phase, "hold"), f"no hold went through {phase}"
    fencings = [i.fencing for i in log.issued]
    assert len(set(fencings)) == len(fencings), "a fencing number was handed out twice"
    by_answer = sorted(log.issued, key=lambda i: i.answered_s)
    for earlier in by_answer:
        later = [i for i in log.issued if i.asked_s > earlier.answered_s]
        assert all(i.fencing > earlier.fencing for i in later), (
            f"fencing {earlier.fencing} was followed by a smaller or equal number"
        )

    async def order_fencings() -> list[int]:
        async with pg_connection(private_postgres.dsn) as conn:
            rows = await conn.fetch("SELECT fencing FROM orders WHERE event_id = $1", event_id)
        return [int(r[0]) for r in rows]

    in_postgres = asyncio.run(order_fencings())
    assert log.confirmed > 0 and len(in_postgres) >= log.confirmed
    assert len(set(in_postgres)) == len(in_postgres), "two orders carry one fencing number"
    assert set(in_postgres) <= set(fencings)
    assert app.unhandled_errors() == [], app.error_summary()


@pytest.mark.timeout(180)
def test_an_event_lost_while_postgres_is_down_accepts_nothing_until_rebuilt(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
    backends_restored: None,
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Rebuild night")
    app = start_app()
    pairs = seat_pairs(venue)
    observed = Observed(phase="lost")

    async def scenario() -> tuple[int, int]:
        async with open_api(app.url, event_id) as api:
            token, _ = await api.session()
            before = await api.hold(token, pairs[0])
            assert before.status_code == 201, before.text
            async with backend_stopped(private_postgres):
                await asyncio.to_thread(flush_all, private_redis)
                for pair in pairs[1:4]:
                    observed.record("hold", await api.hold(token, pair))
            observed.phase = "rebuilt"
            for _ in range(50):
                after = await api.hold(token, pairs[4])
                observed.record("hold", after)
                if after.status_code != 503:
                    break
                await asyncio.sleep(0.2)
            assert after.status_code == 201, after.text
            return int(before.json()["fencing"]), int(after.json()["fencing"])

    before, after = asyncio.run(scenario())
    assert observed.statuses("lost", "hold") == [503] * 3
    assert all(retry for _, _, status, retry in observed.answers if status == 503)
    assert after > before
    assert app.unhandled_errors() == [], app.error_summary()
