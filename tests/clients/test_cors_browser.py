"""Partner pages on other origins: live changes for anyone, holds only for listed origins.

The app runs on 127.0.0.1 and allows `http://localhost:<partner port>` to use
the buyer API; a second site on another localhost port may not. Both follow
the event's stream with EventSource cross-origin; the allowed partner holds a
seat with fetch (preflighted: JSON body and a bearer token) and sees the hold
arrive on its stream; the other site's hold is refused at the preflight and
the seat stays available.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from seatmap.status import SeatStatus
from tests.clients.conftest import ClientEvent, Sites, plain_seats

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(120)]

FOLLOW_STREAM = """async (url) => {
    window.changes = [];
    const source = new EventSource(url);
    source.onmessage = (e) => window.changes.push(JSON.parse(e.data));
    await new Promise((resolve, reject) => {
        source.onopen = resolve;
        setTimeout(() => reject(new Error('stream did not open')), 10000);
    });
    return source.readyState;
}"""

HOLD = """async ([app, eventId, seat, token]) => {
    try {
        const resp = await fetch(`${app}/events/${eventId}/holds`, {
            method: 'POST',
            headers: {'Content-Type': 'application/json', 'Authorization': `Bearer ${token}`},
            body: JSON.stringify({seats: [seat]})
        });
        return {status: resp.status, body: await resp.json()};
    } catch (error) {
        return {refused: String(error)};
    }
}"""

SESSION = """async (app) => {
    const resp = await fetch(`${app}/sessions`, {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: '{}'});
    return (await resp.json()).token;
}"""


async def open_site(page: Any, site_url: str, sites: Sites, event_id: int) -> None:
    """Open a partner page and follow the event's stream from it."""
    await page.goto(f"{site_url}/partner.html")
    state = await page.evaluate(FOLLOW_STREAM, f"{sites.app_url}/events/{event_id}/stream")
    assert state == 1  # EventSource.OPEN


async def seat_status(sites: Sites, event_id: int, seat: int) -> str:
    """A seat's public status name as the tile service reports it."""
    async with httpx.AsyncClient() as http:
        resp = await http.get(f"{sites.app_url}/events/{event_id}/seats/{seat}")
    assert resp.status_code == 200
    return str(resp.json()["status"])


async def test_allowed_partner_follows_the_stream_and_holds_a_seat(
    page: Any, sites: Sites, client_event: ClientEvent,
) -> None:
    event_id = client_event.event_id
    seat = plain_seats(client_event.venue)[5]
    await open_site(page, sites.partner_url, sites, event_id)
    token = await page.evaluate(SESSION, sites.app_url)
    held = await page.evaluate(HOLD, [sites.app_url, event_id, seat, token])
    assert held.get("status") == 201, held
    await page.wait_for_function(
        "(seat) => window.changes.some((c) => c.seats.some(([i, s]) => i === seat && s === 1))",
        arg=seat, timeout=10_000)
    assert await seat_status(sites, event_id, seat) == SeatStatus.HELD.name.lower()


async def test_other_origin_follows_the_stream_but_cannot_hold(
    page: Any, sites: Sites, client_event: ClientEvent,
) -> None:
    event_id = client_event.event_id
    seat = plain_seats(client_event.venue)[7]
    await open_site(page, sites.stranger_url, sites, event_id)
    async with httpx.AsyncClient() as http:
        token = (await http.post(f"{sites.app_url}/sessions", json={})).json()["token"]
        status_bin = await http.get(f"{sites.app_url}/events/{event_id}/status.bin",
                                    headers={"Origin": sites.stranger_url})
    assert status_bin.headers["access-control-allow-origin"] == "*"
    refused = await page.evaluate(HOLD, [sites.app_url, event_id, seat, token])
    assert "refused" in refused, refused
    assert await seat_status(sites, event_id, seat) == SeatStatus.AVAILABLE.name.lower()
    # The stream still works for this page: a change made elsewhere arrives.
    async with httpx.AsyncClient() as http:
        resp = await http.post(f"{sites.app_url}/events/{event_id}/holds", json={"seats": [seat]},
                               headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.text
    await page.wait_for_function(
        "(seat) => window.changes.some((c) => c.seats.some(([i, s]) => i === seat && s === 1))",
        arg=seat, timeout=10_000)
