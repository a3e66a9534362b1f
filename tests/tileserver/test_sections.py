"""Venue outline data for the viewer, served by the tile service: sections, rows, places."""

from __future__ import annotations

import httpx
import orjson

from tests.tileserver.conftest import EventFactory, Hall


async def test_sections_give_names_bounds_and_seat_counts_with_an_etag(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory
) -> None:
    event_id = await new_event()
    response = await client.get(f"/events/{event_id}/sections.json")
    assert response.status_code == 200
    data = response.json()
    assert [s["name"] for s in data["sections"]] == [f"10{n}" for n in range(1, 7)]
    assert all(s["seat_count"] == 200 for s in data["sections"])
    x0, y0, x1, y1 = data["sections"][0]["bounds"]
    seats = hall.venue.seats
    first = seats.section == 0
    assert x0 < float(seats.x[first].min()) and float(seats.x[first].max()) < x1
    assert y0 < float(seats.y[first].min()) and float(seats.y[first].max()) < y1
    outline = data["sections"][0]["outline"]
    assert outline == [[round(x, 2), round(y, 2)] for x, y in hall.venue.sections[0].outline]
    assert (data["width"], data["height"]) == (hall.venue.width, hall.venue.height)
    again = await client.get(
        f"/events/{event_id}/sections.json", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_section_rows_list_seats_in_row_order_with_flags_gzipped(
    client: httpx.AsyncClient, new_event: EventFactory
) -> None:
    event_id = await new_event()
    response = await client.get(
        f"/events/{event_id}/sections/0.json", headers={"Accept-Encoding": "gzip"}
    )
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == "gzip"
    rows = orjson.loads(response.content)["rows"]
    assert [r["label"] for r in rows] == list("ABCDEFGHIJ")
    first = rows[0]["seats"]
    assert [s[1] for s in first] == [str(n) for n in range(1, 21)]
    xs = [s[2] for s in first]
    assert xs == sorted(xs)
    assert first[0][6] & 0b011 == 0b011  # accessible wheelchair place
    assert first[1][6] & 0b100  # companion seat
    assert first[2][6] == 0
    for bad, status in (("9", 404), ("x", 400), ("²", 400)):
        missing = await client.get(f"/events/{event_id}/sections/{bad}.json")
        assert missing.status_code == status, bad
        assert missing.json()["error"]


async def test_places_say_where_seats_are_and_reject_bad_lists(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory
) -> None:
    event_id = await new_event()
    ok = await client.get(f"/events/{event_id}/places.json?seats=0,13")
    assert ok.status_code == 200
    (i0, x0, y0, r0), (i1, x1, _, _) = ok.json()
    assert (i0, i1) == (0, 13)
    assert (x0, y0, r0) == (
        round(float(hall.venue.seats.x[0]), 2),
        round(float(hall.venue.seats.y[0]), 2),
        round(float(hall.venue.seats.radius[0]), 2),
    )
    assert x1 > x0
    for bad in ("", "a,b", "1,-2", "¹", ",".join(["1"] * 101)):
        response = await client.get(f"/events/{event_id}/places.json", params={"seats": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"] == "bad_request"
    missing = await client.get(f"/events/{event_id}/places.json?seats=99999")
    assert missing.status_code == 404
    unknown = await client.get("/events/987654321/sections.json")
    assert unknown.status_code == 404
