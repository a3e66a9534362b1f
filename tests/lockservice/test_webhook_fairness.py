"""Fair webhook delivery: an endpoint that accepts connections and never answers does not
hold up deliveries to another endpoint (real PostgreSQL, Redis and HTTP on loopback)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from lockservice.webhooks_worker import PER_ENDPOINT_IN_FLIGHT
from seatmap.context import ServiceContext
from seatmap.events import EventRules
from tests.conftest import API_KEY_HEADER
from tests.lockservice.conftest import in_process_client, new_event
from tests.lockservice.test_webhooks import FAST, eventually, register, sell, with_settings
from tests.lockservice.webhook_receiver import HangingEndpoint, Receiver

TIMEOUT_S = 3.0  # one attempt's time limit
BACKLOG = 64  # messages already due to the hanging endpoint: two claims' worth and more
# Well under one attempt's time limit: a healthy delivery never waits for a hanging one.
PROMPT_S = 2.0


async def queue_backlog(ctx: ServiceContext, endpoint_id: int, event_id: int) -> None:
    """Queue BACKLOG due messages for one endpoint, as sales made while it was down would."""
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO webhook_deliveries (endpoint_id, message_id, kind, event_id, body) "
            "SELECT $1, 'msg_backlog_' || n, 'sale', $2, '{}' FROM generate_series(1, $3) n",
            endpoint_id, event_id, BACKLOG,
        )  # fmt: skip


def arrived(receiver: Receiver, message_id: str) -> Callable[[], bool]:
    """Whether the receiver got this message (a check for `eventually`)."""
    return lambda: message_id in {r.message_id for r in receiver.on("/hook")}


async def states_of(ctx: ServiceContext, endpoint_id: int) -> dict[str, str]:
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT message_id, state FROM webhook_deliveries WHERE endpoint_id = $1",
            endpoint_id,
        )
    return {r["message_id"]: r["state"] for r in rows}


async def attempt_errors(ctx: ServiceContext, endpoint_id: int) -> list[str | None]:
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT a.error FROM webhook_attempts a "
            "JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = $1",
            endpoint_id,
        )
    return [r["error"] for r in rows]


async def test_a_hanging_endpoint_does_not_hold_up_deliveries_to_a_healthy_one(
    ctx: ServiceContext,
) -> None:
    view = await new_event(ctx, EventRules(max_seats_per_buyer=8, no_orphans=False))
    fast = with_settings(ctx, **{**FAST, "webhook_timeout_s": TIMEOUT_S})
    async with in_process_client(fast) as api:
        with HangingEndpoint() as hanging, Receiver() as receiver:
            stuck = await register(api, f"{hanging.url}/hook", ["sale"], view.event.id)
            healthy = await register(api, f"{receiver.url}/hook", ["sale"], view.event.id)
            made: list[dict[str, Any]] = [stuck, healthy]
            try:
                await queue_backlog(ctx, stuck["id"], view.event.id)
                await eventually(
                    lambda: hanging.open >= PER_ENDPOINT_IN_FLIGHT,
                    5,
                    "the hanging endpoint's attempts under way",
                )
                for i in range(3):
                    order = await sell(api, ctx, view, [f"101-C-{i + 1}"], f"fair-{i}")
                    wanted = f"msg_sale_{order['order_id']}"
                    await eventually(
                        arrived(receiver, wanted),
                        PROMPT_S,
                        f"{wanted} delivered to the healthy endpoint",
                    )
                # The hanging endpoint got no more than its share of requests at once, its
                # attempts end at the time limit and its next messages take their place.
                await eventually(
                    lambda: hanging.accepted > PER_ENDPOINT_IN_FLIGHT,
                    TIMEOUT_S + 3,
                    "more attempts after the first time out",
                )
                errors = await attempt_errors(ctx, stuck["id"])
                assert errors and all(e == f"no reply within {TIMEOUT_S:g} s" for e in errors)
                assert hanging.peak <= PER_ENDPOINT_IN_FLIGHT
                assert set((await states_of(ctx, stuck["id"])).values()) == {"pending"}
                deadline = time.monotonic() + 5
                while set((await states_of(ctx, healthy["id"])).values()) != {"delivered"}:
                    assert time.monotonic() < deadline, "healthy deliveries not recorded"
                    await asyncio.sleep(0.05)
            finally:
                for endpoint in made:
                    await api.delete(f"/webhooks/{endpoint['id']}", headers=API_KEY_HEADER)
    got = receiver.on("/hook")
    assert len({r.message_id for r in got}) == 3
    assert all(r.verifies(healthy["secret"]) for r in got)
