"""Operator endpoints (block, unblock, holds list, stats) and best available, over HTTP."""

from __future__ import annotations

import itertools

import httpx

from seatmap.context import ServiceContext
from seatmap.events import EventRules
from seatmap.status import SeatStatus
from tests.lockservice.conftest import (
    API_KEY_HEADER,
    bearer,
    buyer_token,
    confirm_headers,
    hold_over_http,
    new_event,
    operator_action,
    request_hold,
)
from tests.lockservice.test_holds import holds_status


async def test_blocked_seats_cannot_be_held_until_unblocked(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    view = await new_event(ctx)
    token, _ = buyer_token(ctx.settings)
    blocked = await operator_action(api, view, "block", ["102-C-3", "102-C-4"])
    assert blocked.status_code == 200 and blocked.json()["changed"] == 2
    again = await operator_action(api, view, "block", ["102-C-3"])
    assert again.status_code == 200 and again.json()["changed"] == 0
    refused = await request_hold(api, view, token, ["102-C-3", "102-C-4"])
    assert refused.status_code == 409 and refused.json()["seats"] == ["102-C-3", "102-C-4"]
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT seat_index FROM blocked_seats WHERE event_id = $1", view.event.id
        )
    indices = sorted(r[0] for r in rows)
    assert await holds_status(ctx, view.event.id, indices) == [SeatStatus.BLOCKED] * 2
    # A held seat cannot be blocked, and a refused block leaves nothing in PostgreSQL.
    await hold_over_http(api, view, token, ["102-D-1", "102-D-2"])
    clash = await operator_action(api, view, "block", ["102-D-2", "102-D-3"])
    assert clash.status_code == 409 and clash.json()["seats"] == ["102-D-2"]
    async with ctx.pool.acquire() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM blocked_seats WHERE event_id = $1", view.event.id
        )
    assert count == 2
    unblocked = await operator_action(api, view, "unblock", ["102-C-3", "102-C-4"])
    assert unblocked.status_code == 200 and unblocked.json()["changed"] == 2
    await hold_over_http(api, view, token, ["102-C-3", "102-C-4"])


async def test_holds_list_and_stats_count_what_happened(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    view = await new_event(ctx)
    base = f"/events/{view.event.id}"
    token, buyer_id = buyer_token(ctx.settings)
    hold = await request_hold(api, view, token, ["101-B-1", "101-B-2"])
    second = await request_hold(api, view, token, ["101-C-1", "101-C-2"])
    sold = await api.post(
        f"{base}/holds/{second.json()['hold_token']}/confirm",
        headers=confirm_headers("stats-1"),
    )
    assert sold.status_code == 201
    await operator_action(api, view, "block", ["102-F-12"])
    listed = await api.get(f"{base}/holds", headers=API_KEY_HEADER)
    assert listed.status_code == 200
    holds = listed.json()["holds"]
    assert [(h["fencing"], h["buyer_id"], h["state"]) for h in holds] == [
        (hold.json()["fencing"], buyer_id, "held")
    ]
    assert "hold_token" not in holds[0] and hold.json()["hold_token"] not in listed.text
    stats = (await api.get(f"{base}/stats", headers=API_KEY_HEADER)).json()
    total = view.venue.seat_count
    assert stats["by_status"] == {
        "available": total - 5,
        "held": 2,
        "sold": 2,
        "blocked": 1,
        "confirming": 0,
    }
    assert stats["by_section"][0]["counts"]["sold"] == 2
    assert stats["by_section"][1]["counts"]["blocked"] == 1
    premium = next(c for c in stats["by_category"] if c["name"] == "Premium")
    assert premium["counts"]["held"] == 2 and premium["counts"]["sold"] == 0
    assert stats["active_holds"] == 1 and stats["orders"] == 1
    assert stats["revenue_cents"] == 2 * 5000


async def test_best_available_holds_the_best_block_and_respects_filters(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    view = await new_event(ctx, EventRules(max_seats_per_buyer=8))
    base = f"/events/{view.event.id}"
    token, _ = buyer_token(ctx.settings)
    best = await api.post(f"{base}/best-available", json={"count": 4}, headers=bearer(token))
    assert best.status_code == 201, best.text
    labels = [s["label"] for s in best.json()["seats"]]
    # The stage is centred over the aisle between the sections: front row, middle.
    rows = {label.rsplit("-", 1)[0] for label in labels}
    assert len(rows) == 1 and rows.pop().endswith("-A")
    indices = [s["index"] for s in best.json()["seats"]]
    assert all(view.venue.seats.right[a] == b for a, b in itertools.pairwise(indices))
    other, _ = buyer_token(ctx.settings)
    standard = await api.post(
        f"{base}/best-available",
        json={"count": 2, "category": "standard", "section": "102"},
        headers=bearer(other),
    )
    assert standard.status_code == 201
    for seat in standard.json()["seats"]:
        assert seat["label"].startswith("102-") and seat["label"].split("-")[1] >= "C"
    wheel = await api.post(
        f"{base}/best-available", json={"count": 2, "accessible": True}, headers=bearer(other)
    )
    assert wheel.status_code == 201
    assert "A-1" in " ".join(s["label"] for s in wheel.json()["seats"])


async def test_best_available_answers_409_when_no_block_fits(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    view = await new_event(ctx, sections=1, rows=1, seats_per_row=4, aisle_after=None)
    base = f"/events/{view.event.id}"
    token, _ = buyer_token(ctx.settings)
    # Row A: 1 wheelchair, 2 companion, 3-4 standard; 3 standard seats never fit.
    none = await api.post(f"{base}/best-available", json={"count": 3}, headers=bearer(token))
    assert none.status_code == 409 and none.json()["error"] == "no_seats_available"
