"""200 buyers race over real HTTP for the same 50 seats, then the change log is audited.

Each buyer holds 1-6 seats (some through best-available), releases some, gets some
confirmed (sometimes twice with one Idempotency-Key, concurrently) and lets some
expire. Afterwards the event's change log is replayed in order: it is the
serialisation every script went through, so it proves that no seat was ever held
twice, no multi-seat hold was partial, no buyer went over the maximum, and no
accepted hold left an orphan. Sales in PostgreSQL must equal the sold seats.
SEATMAP_RACE_SECONDS sets the duration (default 30).
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from lockservice.keys import event_keys
from seatmap.context import EventView, ServiceContext
from seatmap.events import EventRules
from tests.conftest import LiveServer
from tests.lockservice.conftest import API_KEY_HEADER, new_event

RACE_SECONDS = float(os.environ.get("SEATMAP_RACE_SECONDS", "30"))
BUYERS = 200
RULES = EventRules(max_seats_per_buyer=6, hold_ttl_s=10, max_hold_s=20)
FREE, HELD, SOLD, CONFIRMING = 0, 1, 2, 4


@dataclass
class Journal:
    """What the buyers were told."""

    holds: list[dict[str, Any]] = field(default_factory=list)  # 201 replies + buyer + asked
    orders: dict[str, int] = field(default_factory=dict)  # idempotency key -> order id
    replies: Counter[int] = field(default_factory=Counter)


async def sign_in(client: httpx.AsyncClient, n: int) -> dict[str, str]:
    """A session for buyer n, coming from an address of its own."""
    ip = {"X-Forwarded-For": f"10.{n // 250}.{n % 250}.7"}
    made = await client.post("/sessions", headers=ip)
    assert made.status_code == 201, made.text
    return {**ip, "Authorization": f"Bearer {made.json()['token']}"}


async def shop(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    view: EventView,
    n: int,
    deadline: float,
    journal: Journal,
) -> None:
    rng = random.Random(n)
    base = f"/events/{view.event.id}"
    rows = view.venue.rows
    mine: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(0.01, 0.1))
        action = rng.random()
        if action < 0.6 or not mine:
            count = rng.randint(1, 6)
            if rng.random() < 0.2:
                reply = await client.post(
                    f"{base}/best-available", json={"count": count}, headers=auth
                )
                asked = None
            else:
                row = rng.choice(rows).seat_indices
                start = rng.randrange(len(row))
                asked = list(row[start : start + count])
                if rng.random() < 0.2:
                    asked = rng.sample(range(view.venue.seat_count), count)
                labels = [view.venue.full_label(s) for s in asked]
                reply = await client.post(
                    f"{base}/holds",
                    json={"seats": labels, "accessible": rng.random() < 0.3},
                    headers=auth,
                )
            journal.replies[reply.status_code] += 1
            assert reply.status_code in (201, 409, 422, 429), reply.text
            if reply.status_code == 201:
                body = reply.json()
                got = [s["index"] for s in body["seats"]]
                assert asked is None or got == asked, "the hold differs from the request"
                journal.holds.append({**body, "buyer": n, "indices": got})
                mine.append(body)
            elif reply.status_code == 429:
                await asyncio.sleep(float(reply.headers["retry-after"]))
        elif action < 0.9:
            hold = mine.pop(rng.randrange(len(mine)))
            reply = await client.delete(f"{base}/holds/{hold['hold_token']}", headers=auth)
            assert reply.status_code in (204, 410), reply.text
        elif action < 0.93:
            hold = mine.pop(rng.randrange(len(mine)))
            key = f"race-{n}-{hold['fencing']}"
            headers = {**API_KEY_HEADER, "Idempotency-Key": key}
            url = f"{base}/holds/{hold['hold_token']}/confirm"
            tries = 2 if rng.random() < 0.3 else 1
            replies = await asyncio.gather(
                *(client.post(url, headers=headers) for _ in range(tries))
            )
            codes = sorted(r.status_code for r in replies)
            assert codes in ([201], [200, 201], [410], [410, 410]), [r.text for r in replies]
            if codes[-1] == 201:
                assert len({r.json()["order_id"] for r in replies}) == 1
                journal.orders[key] = replies[0].json()["order_id"]
        # else: forget the hold and let it expire


def replay(
    entries: list[tuple[bytes, dict[bytes, bytes]]],
    journal: Journal,
    seat_count: int,
    neighbours: tuple[list[int], list[int]],
) -> list[int]:
    """Walk the change log in order, checking every step; returns the final statuses."""
    left, right = neighbours
    status = [FREE] * seat_count
    owner: dict[int, int] = {}
    held_by: Counter[int] = Counter()
    by_fencing = sorted(journal.holds, key=lambda h: h["fencing"])
    # Consecutive within the event's fencing epoch (the first is epoch * 1e9 + 1).
    first = by_fencing[0]["fencing"] if by_fencing else 1
    assert [h["fencing"] for h in by_fencing] == list(range(first, first + len(by_fencing)))
    accepted = iter(by_fencing)

    def isolated() -> set[int]:
        def free(i: int) -> bool:
            return i >= 0 and status[i] == FREE

        return {
            s for s in range(seat_count) if free(s) and not free(left[s]) and not free(right[s])
        }

    for _, fields in entries:
        kind = fields[b"kind"].decode()
        seats = [int(s) for s in fields[b"seats"].split(b",") if s]
        if kind == "reset":
            continue
        if kind == "hold":
            hold = next(accepted)
            assert seats == hold["indices"], "a log entry differs from the hold's reply"
            assert all(status[s] == FREE for s in seats), "a seat was held twice"
            before = isolated()
            for s in seats:
                status[s] = HELD
                owner[s] = hold["buyer"]
            assert not isolated() - before, "an accepted hold left an orphan seat"
            held_by[hold["buyer"]] += len(seats)
            assert held_by[hold["buyer"]] <= RULES.max_seats_per_buyer
        elif kind in ("release", "expire"):
            for s in seats:
                assert status[s] in (HELD, CONFIRMING)
                status[s] = FREE
                held_by[owner.pop(s)] -= 1
        elif kind == "confirming":
            for s in seats:
                assert status[s] == HELD
                status[s] = CONFIRMING
        elif kind == "sold":
            for s in seats:
                assert status[s] == CONFIRMING
                status[s] = SOLD
        else:
            raise AssertionError(f"unexpected change {kind}")
    assert next(accepted, None) is None, "an accepted hold is missing from the log"
    return status


@pytest.mark.slow
async def test_two_hundred_buyers_never_share_a_seat(
    ctx: ServiceContext, live_server: LiveServer
) -> None:
    view = await new_event(ctx, RULES, sections=1, rows=5, seats_per_row=10, aisle_after=5)
    assert view.venue.seat_count == 50
    journal = Journal()
    # One client per buyer: httpx's connection pool slows down badly with hundreds of
    # connections in one pool, which would throttle the race from the client side.
    tls = ssl.create_default_context()
    clients = [
        httpx.AsyncClient(base_url=live_server.url, timeout=30, verify=tls) for _ in range(BUYERS)
    ]
    try:
        auths = await asyncio.gather(*(sign_in(c, n) for n, c in enumerate(clients)))
        deadline = time.monotonic() + RACE_SECONDS
        await asyncio.gather(
            *(shop(c, auths[n], view, n, deadline, journal) for n, c in enumerate(clients))
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    await asyncio.sleep(RULES.hold_ttl_s + 1.5)  # let every forgotten hold expire
    assert journal.replies[201] > 50 and journal.replies[409] > 100, journal.replies
    assert journal.orders, "no sale was made"
    print(f"race replies by status: {dict(journal.replies)}, orders: {len(journal.orders)}")

    keys = event_keys(ctx.settings.redis_prefix, view.event.id)
    entries = await ctx.redis.xrange(keys.log)
    seats = view.venue.seats
    final = replay(
        entries, journal, view.venue.seat_count, (seats.left.tolist(), seats.right.tolist())
    )
    live = list(await ctx.redis.get(keys.status) or b"")
    assert live == final
    assert HELD not in live and CONFIRMING not in live, "holds outlived their expiry"

    async with ctx.pool.acquire() as conn:
        sales = await conn.fetch(
            "SELECT s.seat_index, o.idempotency_key, o.fencing FROM sales s "
            "JOIN orders o ON o.id = s.order_id WHERE s.event_id = $1",
            view.event.id,
        )
        orders = await conn.fetch(
            "SELECT idempotency_key, id FROM orders WHERE event_id = $1", view.event.id
        )
    assert {r["idempotency_key"]: r["id"] for r in orders} == journal.orders
    sold = sorted(r["seat_index"] for r in sales)
    assert sold == [s for s, st in enumerate(live) if st == SOLD]
    assert len(sold) == len(set(sold))
    by_fencing = {h["fencing"]: sorted(h["indices"]) for h in journal.holds}
    for fencing in {r["fencing"] for r in sales}:
        assert (
            sorted(r["seat_index"] for r in sales if r["fencing"] == fencing) == by_fencing[fencing]
        )
