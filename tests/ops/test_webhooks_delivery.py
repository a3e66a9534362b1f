"""Webhooks across app restarts: two app processes deliver one outbox while the receiver
fails, both are stopped mid-outage and started again, the receiver times out, then
recovers. Every sale and release arrives, signed, once per webhook-id (more than once
only after an attempt that timed out), and none is missing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from seatmap.settings import Settings
from tests.conftest import pg_connection
from tests.lockservice.webhook_receiver import Received, Receiver
from tests.ops.api import API_KEY, open_api, seat_pairs
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.ops.servers import AppFactory, AppProcess, provision_event

pytestmark = [pytest.mark.fault, pytest.mark.slow]

FAST_WEBHOOKS = {
    "SEATMAP_WEBHOOK_TIMEOUT_S": "0.5",
    "SEATMAP_WEBHOOK_BACKOFF_S": "0.1",
    "SEATMAP_WEBHOOK_BACKOFF_CAP_S": "0.4",
    "SEATMAP_WEBHOOK_POLL_S": "0.1",
    "SEATMAP_WEBHOOK_MAX_ATTEMPTS": "1000",
}
SALES = 12
RELEASES = 4


async def eventually(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.1)


async def outbox_states(dsn: str, endpoint_id: int) -> dict[str, str]:
    async with pg_connection(dsn) as conn:
        rows = await conn.fetch(
            "SELECT message_id, state FROM webhook_deliveries WHERE endpoint_id = $1",
            endpoint_id,
        )
    return {r["message_id"]: r["state"] for r in rows}


async def sell_and_release(
    apps: list[AppProcess], event_id: int, pairs: list[list[str]]
) -> tuple[set[int], int]:
    """Confirm SALES holds and release RELEASES more, spread over the apps; the order ids
    and the count of releases."""
    orders: set[int] = set()
    for i, pair in enumerate(pairs[: SALES + RELEASES]):
        async with open_api(apps[i % len(apps)].url, event_id) as api:
            token, _ = await api.session()
            hold_token = await api.held(token, pair)
            if i < SALES:
                reply = await api.confirm(hold_token, f"webhook-sale-{i}")
                assert reply.status_code == 201, reply.text
                orders.add(reply.json()["order_id"])
            else:
                reply = await api.http.delete(
                    f"/events/{event_id}/holds/{hold_token}",
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert reply.status_code == 204, reply.text
    return orders, RELEASES


@pytest.mark.timeout(240)
def test_two_nodes_deliver_every_message_through_outage_restart_and_timeouts(
    ops_settings: Settings, start_app: AppFactory
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Webhooks")
    asyncio.run(scenario(ops_settings, start_app, event_id, seat_pairs(venue)))


async def scenario(
    ops_settings: Settings, start_app: AppFactory, event_id: int, pairs: list[list[str]]
) -> None:
    """The test's steps (app processes are started and stopped from here)."""
    assert ops_settings.database_url
    dsn = ops_settings.database_url
    # Endpoints other tests registered on this shared database (the API fuzzing makes
    # global ones with unreachable URLs) would queue their own deliveries beside ours.
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DELETE FROM webhook_endpoints")
    finally:
        await conn.close()
    with Receiver(slow_s=1.2) as receiver:
        receiver.mode = "fail"
        apps = [start_app(**FAST_WEBHOOKS), start_app(**FAST_WEBHOOKS)]
        async with httpx.AsyncClient(base_url=apps[0].url, timeout=10) as http:
            reply = await http.post(
                "/webhooks",
                json={"url": f"{receiver.url}/hook", "events": ["sale", "release"],
                      "event_id": event_id},
                headers={"X-API-Key": API_KEY},
            )
        assert reply.status_code == 201, reply.text
        endpoint = reply.json()
        orders, releases = await sell_and_release(apps, event_id, pairs)
        wanted_sales = {f"msg_sale_{o}" for o in orders}
        # Mid-outage: every message is in the outbox, retried, none delivered.
        await eventually(
            lambda: len({r.message_id for r in receiver.on("/hook")}) == SALES + releases,
            30, "every message attempted while the receiver fails",
        )
        states = await outbox_states(dsn, endpoint["id"])
        assert len(states) == SALES + releases and set(states.values()) == {"pending"}
        for app in apps:
            app.stop()
        stopped_at = len(receiver.on("/hook"))
        await asyncio.sleep(0.5)
        assert len(receiver.on("/hook")) == stopped_at  # nobody is delivering
        # Back up: the receiver first times out, then answers.
        receiver.mode = "slow"
        apps = [start_app(**FAST_WEBHOOKS), start_app(**FAST_WEBHOOKS)]
        await eventually(
            lambda: sum(r.mode == "slow" for r in receiver.on("/hook")) >= 6, 30,
            "attempts that time out after the restart",
        )
        receiver.mode = "ok"
        deadline = time.monotonic() + 60
        while True:
            states = await outbox_states(dsn, endpoint["id"])
            if len(states) == SALES + releases and set(states.values()) == {"delivered"}:
                break
            assert time.monotonic() < deadline, f"not all delivered: {states}"
            await asyncio.sleep(0.2)
    got = receiver.on("/hook")
    assert all(r.verifies(endpoint["secret"]) for r in got)
    check_exactly_once(got, wanted_sales, releases)
    for app in apps:
        assert not app.unhandled_errors(), app.error_summary()


def check_exactly_once(got: list[Received], wanted_sales: set[str], releases: int) -> None:
    """Every message arrived; a message reached the receiver's handler (a 2xx, or an
    attempt that timed out, which it may have processed) more than once only when an
    earlier such arrival had timed out; bodies are the same on every attempt."""
    arrivals: dict[str, list[Received]] = {}
    for r in got:
        arrivals.setdefault(r.message_id, []).append(r)
    handled = {m: [r for r in rs if r.mode != "fail"] for m, rs in arrivals.items()}
    kinds: dict[str, Any] = {m: rs[0].payload["type"] for m, rs in arrivals.items()}
    assert {m for m, k in kinds.items() if k == "sale"} == wanted_sales
    assert sum(k == "release" for k in kinds.values()) == releases
    for message_id, rs in handled.items():
        assert rs, f"{message_id} never handled"
        modes = [r.mode for r in rs]
        assert modes[-1] == "ok" and set(modes[:-1]) <= {"slow"}, (message_id, modes)
        assert len({r.body for r in arrivals[message_id]}) == 1
    sale_orders = {r.payload["data"]["order_id"] for r in got if r.payload["type"] == "sale"}
    assert {f"msg_sale_{o}" for o in sale_orders} == wanted_sales
