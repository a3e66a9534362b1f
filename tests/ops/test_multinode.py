"""Three app nodes behind nginx, as in docs/operations.md's deployment section.

A hold made through one node reaches SSE clients of the others; killing a node
in the middle of an on-sale loses no sale and no message: its clients reconnect
through the balancer with Last-Event-ID and end with exactly the truth.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from seatmap.settings import Settings
from tests.ops.api import API_KEY, seat_pairs
from tests.ops.balancer import Balancer
from tests.ops.livemap import LiveMap
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.ops.servers import AppFactory, AppProcess, provision_event

pytestmark = [pytest.mark.fault, pytest.mark.slow]

NODES = 3
SALES = 30
KILL_AFTER_SALES = 10
FOLLOWERS_VIA_BALANCER = 6
RETRYABLE = {502, 503, 504}


async def truth(url: str, event_id: int) -> bytes:
    """The event's public statuses as one node serves them now."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        response = await http.get(f"/events/{event_id}/status.bin")
        response.raise_for_status()
        return response.content


async def converged(maps: list[LiveMap], url: str, event_id: int, timeout_s: float) -> None:
    """Wait until every map shows exactly what the server holds as true."""
    deadline = time.monotonic() + timeout_s
    while True:
        expected = await truth(url, event_id)
        wrong = [m for m in maps if bytes(m.statuses) != expected]
        if not wrong:
            return
        if time.monotonic() > deadline:
            diffs = [sum(a != b for a, b in zip(m.statuses, expected, strict=False)) for m in wrong]
            raise AssertionError(f"{len(wrong)} maps differ from the truth by {diffs} seats")
        await asyncio.sleep(0.2)


async def sell(url: str, event_id: int, seats: list[str]) -> int | None:
    """Session, hold and confirm one pair through `url`, retrying what a dead node cut
    off; the order's fencing number, or None when the pair could not be held."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        for _ in range(20):
            try:
                session = await http.post("/sessions", json={})
                if session.status_code in RETRYABLE:
                    continue
                token = session.json()["token"]
                auth = {"Authorization": f"Bearer {token}"}
                hold = await http.post(
                    f"/events/{event_id}/holds", json={"seats": seats}, headers=auth
                )
            except httpx.TransportError:
                await asyncio.sleep(0.1)
                continue
            if hold.status_code in RETRYABLE:
                await asyncio.sleep(0.1)
                continue
            if hold.status_code != 201:
                return None  # a cut-off attempt may have held them: not this buyer's now
            hold_token = hold.json()["hold_token"]
            key = str(uuid.uuid4())
            headers = {"X-API-Key": API_KEY, "Idempotency-Key": key}
            for _ in range(40):
                try:
                    confirm = await http.post(
                        f"/events/{event_id}/holds/{hold_token}/confirm", json={}, headers=headers
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
                    continue
                if confirm.status_code in RETRYABLE:
                    await asyncio.sleep(0.1)
                    continue
                assert confirm.status_code in (200, 201), confirm.text
                return int(confirm.json()["fencing"])
            raise AssertionError("a confirm never got an answer")
    return None


async def on_sale(
    nodes: list[AppProcess], balancer: Balancer, event_id: int, pairs: list[list[str]]
) -> tuple[list[LiveMap], list[int]]:
    direct = [LiveMap(node.url, event_id).start() for node in nodes[1:]]
    via_balancer = [LiveMap(balancer.url, event_id).start() for _ in range(FOLLOWERS_VIA_BALANCER)]
    maps = direct + via_balancer
    await asyncio.wait_for(asyncio.gather(*(m.connected.wait() for m in maps)), 20)

    # A hold through node A shows on the maps of clients connected to B and C.
    first = await sell(nodes[0].url, event_id, pairs[0])
    assert first is not None
    await converged(direct, nodes[0].url, event_id, timeout_s=5)

    fencings = [first]
    for number in range(1, SALES):
        if number == KILL_AFTER_SALES:
            assert nodes[1].proc is not None
            nodes[1].proc.kill()  # node B dies mid-on-sale: no graceful anything
        fencing = await sell(balancer.url, event_id, pairs[number])
        if fencing is not None:
            fencings.append(fencing)
    await converged(direct[1:] + via_balancer, balancer.url, event_id, timeout_s=15)
    moved = [m for m in via_balancer if m.connects > 1]
    assert moved, "no client was connected through node B, so none had to move"
    return maps, fencings


@pytest.mark.timeout(300)
def test_three_nodes_share_every_change_and_a_node_loss_loses_nothing(
    ops_settings: Settings, start_app: AppFactory, ops_root: Path
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Three nodes")
    nodes = [
        start_app(
            SEATMAP_DATA_DIR=str(ops_root / f"node-{n}"),
            SEATMAP_TILES_DIR=str(ops_settings.tiles_dir),
        )
        for n in range(NODES)
    ]
    balancer = Balancer(ops_root / "nginx", [node.url for node in nodes]).start()
    pairs = seat_pairs(venue)[:SALES]

    async def scenario() -> tuple[list[int], list[int], set[int]]:
        maps, fencings = await on_sale(nodes, balancer, event_id, pairs)
        for live in maps:
            await live.stop()
        assert ops_settings.database_url is not None
        conn = await asyncpg.connect(ops_settings.database_url)
        try:
            orders = await conn.fetch("SELECT fencing FROM orders WHERE event_id = $1", event_id)
            sold = await conn.fetch("SELECT seat_index FROM sales WHERE event_id = $1", event_id)
        finally:
            await conn.close()
        return fencings, [r["fencing"] for r in orders], {r["seat_index"] for r in sold}

    try:
        fencings, order_fencings, sold = asyncio.run(scenario())
    finally:
        balancer.stop()
    # Every confirmed sale is in PostgreSQL once, with both its seats.
    assert sorted(fencings) == sorted(order_fencings)
    assert len(sold) == 2 * len(fencings)
    assert len(fencings) >= SALES - 2, f"only {len(fencings)} of {SALES} sales went through"
    for node in (nodes[0], nodes[2]):
        assert node.unhandled_errors() == [], node.error_summary()
