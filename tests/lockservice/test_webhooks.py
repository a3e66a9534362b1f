"""Signed webhooks: registering endpoints, the outbox written with each change, and delivery
through a receiver that fails, times out and recovers (real HTTP, PostgreSQL and Redis)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import httpx

from lockservice.webhooks_feed import OutboxFeed
from lockservice.webhooks_signing import signature, verify
from seatmap.context import ServiceContext
from seatmap.events import EventRules
from tests.conftest import API_KEY_HEADER
from tests.lockservice.conftest import (
    bearer,
    buyer_token,
    clocked,
    confirm_headers,
    hold_over_http,
    in_process_client,
    new_event,
    operator_action,
)
from tests.lockservice.webhook_receiver import Receiver

# Fast delivery (off in the session's settings); an instant reply must not time out when busy.
FAST = {
    "webhook_enabled": True,
    "webhook_timeout_s": 1.0,
    "webhook_backoff_s": 0.05,
    "webhook_backoff_cap_s": 0.2,
    "webhook_poll_s": 0.05,
    "webhook_max_attempts": 100,
}


def with_settings(ctx: ServiceContext, **changes: Any) -> ServiceContext:
    """The same connections with some settings changed."""
    return dataclasses.replace(ctx, settings=ctx.settings.with_overrides(**changes))


async def register(api: httpx.AsyncClient, url: str, kinds: list[str],
                   event_id: int | None = None) -> dict[str, Any]:
    """Register an endpoint; its reply (with the secret). Fails the test unless 201."""
    body: dict[str, Any] = {"url": url, "events": kinds}
    if event_id is not None:
        body["event_id"] = event_id
    reply = await api.post("/webhooks", json=body, headers=API_KEY_HEADER)
    assert reply.status_code == 201, reply.text
    made: dict[str, Any] = reply.json()
    return made


async def sell(api: httpx.AsyncClient, ctx: ServiceContext, view: Any, labels: list[str],
               key: str) -> dict[str, Any]:
    """Hold and confirm these seats; the order."""
    token, _ = buyer_token(ctx.settings)
    hold = await hold_over_http(api, view, token, labels)
    reply = await api.post(
        f"/events/{view.event.id}/holds/{hold['hold_token']}/confirm", headers=confirm_headers(key)
    )
    assert reply.status_code == 201, reply.text
    order: dict[str, Any] = reply.json()
    order["hold_token"] = hold["hold_token"]
    return order


async def outbox(ctx: ServiceContext, endpoint_id: int) -> list[Any]:
    async with ctx.pool.acquire() as conn:
        return list(await conn.fetch(
            "SELECT message_id, kind, body, state FROM webhook_deliveries "
            "WHERE endpoint_id = $1 ORDER BY id", endpoint_id,
        ))


async def eventually(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.05)


def test_signature_is_hmac_sha256_of_id_timestamp_and_body() -> None:
    # The Standard Webhooks reference vector.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
               "webhook-signature": expected}
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body.replace("2", "3"))
    assert not verify("whsec_" + "A" * 32, headers, body)


async def test_operators_register_list_and_remove_endpoints(ctx: ServiceContext) -> None:
    view = await new_event(ctx)
    async with in_process_client(with_settings(ctx, webhook_enabled=False)) as api:
        made = await register(api, "https://hooks.example/a", ["sale", "expiry"], view.event.id)
        assert made["secret"].startswith("whsec_") and len(made["secret"]) > 30
        assert made["events"] == ["expiry", "sale"] and made["event_id"] == view.event.id
        listed = (await api.get("/webhooks", headers=API_KEY_HEADER)).json()["webhooks"]
        mine = [w for w in listed if w["id"] == made["id"]]
        assert mine and "secret" not in mine[0] and mine[0]["url"] == "https://hooks.example/a"
        assert (await api.get("/webhooks")).status_code == 401
        bad = [
            ({"url": "https://hooks.example/a", "events": ["refund"]}, 400, "events"),
            ({"url": "ftp://hooks.example/a", "events": ["sale"]}, 400, "url"),
            ({"url": "https://hooks.example/a", "events": []}, 400, "events"),
            ({"url": "https://hooks.example/a", "events": ["sale"], "eventid": 1}, 400, "eventid"),
            ({"url": "https://hooks.example/a", "events": ["sale"], "event_id": 2**40}, 422,
             "event_id"),
        ]
        for body, status, field in bad:
            reply = await api.post("/webhooks", json=body, headers=API_KEY_HEADER)
            assert reply.status_code == status, (body, reply.text)
            assert reply.json().get("field") == field, reply.text
        deliveries = await api.get(f"/webhooks/{made['id']}/deliveries", headers=API_KEY_HEADER)
        assert deliveries.status_code == 200 and deliveries.json() == {"deliveries": []}
        gone = await api.delete(f"/webhooks/{made['id']}", headers=API_KEY_HEADER)
        assert gone.status_code == 204
        again = await api.delete(f"/webhooks/{made['id']}", headers=API_KEY_HEADER)
        assert again.status_code == 404
        missing = await api.get(f"/webhooks/{made['id']}/deliveries", headers=API_KEY_HEADER)
        assert missing.status_code == 404
        assert (await api.get("/webhooks/x/deliveries", headers=API_KEY_HEADER)).status_code == 400


async def test_a_sale_queues_one_message_per_endpoint_in_its_own_transaction(
    ctx: ServiceContext,
) -> None:
    view = await new_event(ctx)
    other = await new_event(ctx)
    async with in_process_client(with_settings(ctx, webhook_enabled=False)) as api:
        mine = await register(api, "http://127.0.0.1:9/mine", ["sale"], view.event.id)
        everyone = await register(api, "http://127.0.0.1:9/all", ["sale", "release"])
        elsewhere = await register(api, "http://127.0.0.1:9/other", ["sale"], other.event.id)
        releases = await register(api, "http://127.0.0.1:9/rel", ["release"], view.event.id)
        try:
            order = await sell(api, ctx, view, ["101-C-1", "101-C-2"], "wh-order-1")
            # The same key again: the same order, and no second message.
            replay = await api.post(
                f"/events/{view.event.id}/holds/{order['hold_token']}/confirm",
                headers=confirm_headers("wh-order-1"),
            )
            assert replay.status_code == 200, replay.text
            assert replay.json()["order_id"] == order["order_id"]
            rows = await outbox(ctx, mine["id"])
            assert [(r["message_id"], r["kind"], r["state"]) for r in rows] == [
                (f"msg_sale_{order['order_id']}", "sale", "pending")
            ]
            sent = httpx.Response(200, content=rows[0]["body"]).json()
            assert sent["type"] == "sale"
            assert sent["data"]["order_id"] == order["order_id"]
            assert sent["data"]["seats"] == order["seats"]
            assert sent["data"]["total_cents"] == order["total_cents"]
            assert [r["message_id"] for r in await outbox(ctx, everyone["id"])] == [
                f"msg_sale_{order['order_id']}"
            ]
            assert await outbox(ctx, elsewhere["id"]) == []
            assert await outbox(ctx, releases["id"]) == []
        finally:
            for made in (mine, everyone, elsewhere, releases):
                await api.delete(f"/webhooks/{made['id']}", headers=API_KEY_HEADER)


async def test_every_sale_is_delivered_signed_through_failures_timeouts_and_recovery(
    ctx: ServiceContext,
) -> None:
    view = await new_event(ctx, EventRules(max_seats_per_buyer=8, no_orphans=False))
    fast = with_settings(ctx, **FAST)
    with Receiver(slow_s=2.5) as receiver:
        async with in_process_client(fast) as api:
            made = await register(api, f"{receiver.url}/sales", ["sale"], view.event.id)
            orders = []
            receiver.mode = "fail"
            for i in range(4):
                orders.append(await sell(api, ctx, view, [f"101-B-{i + 1}"], f"wh-fail-{i}"))
            fails = {f"msg_sale_{o['order_id']}" for o in orders}
            await eventually(lambda: min(receiver.answered("/sales", "fail", fails).values()) >= 2,
                             10, "two failed attempts of each sale while failing")
            receiver.mode = "slow"
            for i in range(2):
                orders.append(await sell(api, ctx, view, [f"101-C-{i + 1}"], f"wh-slow-{i}"))
            slow = {f"msg_sale_{o['order_id']}" for o in orders[4:]}
            await eventually(lambda: min(receiver.answered("/sales", "slow", slow).values()) >= 1,
                             10, "an attempt of each sale made meanwhile timing out")
            receiver.mode = "ok"
            for i in range(2):
                orders.append(await sell(api, ctx, view, [f"101-D-{i + 1}"], f"wh-ok-{i}"))
            wanted = {f"msg_sale_{o['order_id']}" for o in orders}
            await eventually(
                lambda: wanted <= {r.message_id for r in receiver.on("/sales") if r.mode == "ok"},
                20, "every sale delivered",
            )
            # The receiver answered before the worker recorded it: wait for the record.
            deadline = time.monotonic() + 10
            while True:
                listing = await api.get(
                    f"/webhooks/{made['id']}/deliveries", headers=API_KEY_HEADER
                )
                states = {d["state"] for d in listing.json()["deliveries"]}
                if states == {"delivered"} or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            await api.delete(f"/webhooks/{made['id']}", headers=API_KEY_HEADER)
    got = receiver.on("/sales")
    assert all(r.verifies(made["secret"]) for r in got)
    assert not any(r.verifies("whsec_" + "A" * 32) for r in got)
    # Exactly once per webhook-id as far as the receiver answered 2xx, unless a timed-out
    # attempt came before (then the receiver may have processed it already).
    accepted: dict[str, list[Any]] = {}
    for r in got:
        if r.mode != "fail":
            accepted.setdefault(r.message_id, []).append(r)
    assert set(accepted) == wanted
    for message_id, arrivals in accepted.items():
        assert sum(r.mode == "ok" for r in arrivals) == 1, message_id
        assert len({r.body for r in arrivals}) == 1
    by_order = {r.payload["data"]["order_id"]: r.payload for r in got}
    assert sorted(by_order) == sorted(o["order_id"] for o in orders)
    deliveries = {d["message_id"]: d for d in listing.json()["deliveries"]}
    assert set(deliveries) == wanted
    assert all(d["state"] == "delivered" and d["delivered_at"] for d in deliveries.values())
    assert all(d["last_status"] == 204 and d["next_attempt_at"] is None
               for d in deliveries.values())
    first = deliveries[f"msg_sale_{orders[0]['order_id']}"]
    assert first["attempts"] >= 3 and len(first["attempt_log"]) == first["attempts"]
    assert first["attempt_log"][0]["status_code"] == 500
    assert first["attempt_log"][0]["error"] == "HTTP 500"
    timed = deliveries[f"msg_sale_{orders[4]['order_id']}"]
    assert any(a["status_code"] is None and "no reply within" in a["error"]
               for a in timed["attempt_log"])


async def test_release_expiry_block_and_unblock_are_delivered(ctx: ServiceContext) -> None:
    clock, fctx = clocked(with_settings(ctx, **FAST))
    view = await new_event(fctx, EventRules(hold_ttl_s=30, no_orphans=False))
    token, _ = buyer_token(ctx.settings, clock.ms)
    kinds = ["release", "expiry", "block", "unblock"]
    with Receiver() as receiver:
        async with in_process_client(fctx) as api:
            made = await register(api, f"{receiver.url}/changes", kinds, view.event.id)
            released = await hold_over_http(api, view, token, ["101-E-1", "101-E-2"])
            reply = await api.delete(
                f"/events/{view.event.id}/holds/{released['hold_token']}", headers=bearer(token)
            )
            assert reply.status_code == 204, reply.text
            await hold_over_http(api, view, token, ["101-F-1"])
            clock.advance(30_001)
            assert (await operator_action(api, view, "block", ["102-B-1"])).status_code == 200
            assert (await operator_action(api, view, "unblock", ["102-B-1"])).status_code == 200
            await eventually(lambda: len(receiver.on("/changes")) >= 4, 10, "four changes")
            await asyncio.sleep(0.3)  # nothing more comes
            await api.delete(f"/webhooks/{made['id']}", headers=API_KEY_HEADER)
    got = receiver.on("/changes")
    assert all(r.verifies(made["secret"]) for r in got)
    seen = sorted((r.payload["type"], tuple(s["label"] for s in r.payload["data"]["seats"]))
                  for r in got)
    assert seen == sorted([
        ("release", ("101-E-1", "101-E-2")), ("expiry", ("101-F-1",)),
        ("block", ("102-B-1",)), ("unblock", ("102-B-1",)),
    ])
    assert len({r.message_id for r in got}) == 4
    assert all(r.payload["data"]["event_id"] == view.event.id for r in got)


async def test_the_feed_cursor_neither_loses_nor_repeats_changes_across_restarts(
    ctx: ServiceContext,
) -> None:
    view = await new_event(ctx, EventRules(no_orphans=False))
    quiet = with_settings(ctx, webhook_enabled=False)
    async with in_process_client(quiet) as api:
        made = await register(api, "http://127.0.0.1:9/feed", ["block", "unblock"],
                              view.event.id)
        try:
            for n in range(1, 6):
                seat = [f"102-C-{n}"]
                assert (await operator_action(api, view, "block", seat)).status_code == 200
                assert (await operator_action(api, view, "unblock", seat)).status_code == 200
            # Two nodes at once: each entry is turned into a message once.
            first, second = OutboxFeed(quiet), OutboxFeed(quiet)
            await asyncio.gather(first.run_once(), second.run_once())
            assert len(await outbox(ctx, made["id"])) == 10
            # A restarted node (a new feed) starts from the stored cursor.
            assert await OutboxFeed(quiet).run_once() == 0
            assert (await operator_action(api, view, "block", ["102-D-1"])).status_code == 200
            assert await OutboxFeed(quiet).run_once() == 1
            rows = await outbox(ctx, made["id"])
            assert len(rows) == 11 and len({r["message_id"] for r in rows}) == 11
            assert [r["kind"] for r in rows][-3:] == ["block", "unblock", "block"]
        finally:
            await api.delete(f"/webhooks/{made['id']}", headers=API_KEY_HEADER)
