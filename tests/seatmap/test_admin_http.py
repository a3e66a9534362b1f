"""Venues and events over HTTP: operator-only writes, whole-file validation, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import API_KEY_HEADER, LiveServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def venue_ids(http: httpx.Client) -> set[int]:
    response = http.get("/venues", headers=API_KEY_HEADER)
    assert response.status_code == 200, response.text
    return {venue["id"] for venue in response.json()}


def test_an_operator_imports_a_venue_and_opens_an_event_on_it(
    live_server: LiveServer,
) -> None:
    body = (FIXTURES / "native_small.json").read_bytes()
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        created = http.post(
            "/venues?name=Small%20Hall%20(HTTP)", content=body, headers=API_KEY_HEADER
        )
        assert created.status_code == 201, created.text
        venue = created.json()
        assert venue["name"] == "Small Hall (HTTP)" and venue["seat_count"] > 0
        assert venue["id"] in venue_ids(http)

        opened = http.post(
            "/events",
            json={
                "venue_id": venue["id"],
                "title": "Matinee",
                "starts_at": "2026-12-31T19:30:00+00:00",
                "settings": {"max_seats_per_buyer": 4},
            },
            headers=API_KEY_HEADER,
        )
        assert opened.status_code == 201, opened.text
        event = opened.json()
        assert (event["venue_id"], event["title"]) == (venue["id"], "Matinee")
        assert event["settings"]["max_seats_per_buyer"] == 4
        listed = http.get("/events").json()
        assert any(e["id"] == event["id"] and e["title"] == "Matinee" for e in listed)
        # The event is live at once: its map and status are there.
        assert http.get(f"/events/{event['id']}/tiles.json").status_code == 200
        status = http.get(f"/events/{event['id']}/status.bin")
        assert status.status_code == 200 and len(status.content) == venue["seat_count"]


def test_a_broken_venue_file_is_a_422_naming_the_place_and_stores_nothing(
    live_server: LiveServer,
) -> None:
    plan = json.loads((FIXTURES / "native_small.json").read_text())
    plan["sections"][0]["rows"][0]["seats"][1]["x"] = "left"
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        before = venue_ids(http)
        response = http.post("/venues", content=json.dumps(plan).encode(), headers=API_KEY_HEADER)
        assert response.status_code == 422, response.text
        error = response.json()
        assert error["error"] == "venue_format"
        assert error["path"] == "$.sections[0].rows[0].seats[1].x"
        assert venue_ids(http) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/venues", b"{}", 401, "unauthorized"),
        ("GET", "/venues", None, 401, "unauthorized"),
        ("POST", "/events", b'{"venue_id": 1, "title": "x"}', 401, "unauthorized"),
    ],
)
def test_venue_and_event_writes_need_the_operator_key(
    live_server: LiveServer, method: str, path: str, body: bytes | None, status: int, code: str
) -> None:
    response = httpx.request(method, live_server.url + path, content=body, timeout=10)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/events", b'{"title": "No venue"}', 400, "venue_id"),
        ("/events", b'{"venue_id": true, "title": "x"}', 400, "venue_id"),
        ("/events", b'{"venue_id": 1, "title": ""}', 400, "title"),
        ("/events", b'{"venue_id": 1, "title": "x", "starts_at": "soon"}', 400, "starts_at"),
        ("/events", b'{"venue_id": 1, "title": "x", "settings": []}', 400, "settings"),
        ("/events", b'{"venue_id": 1, "title": "x", "settings": {"hold_ttl_s": 1}}', 400, None),
        ("/events", b"[", 400, None),
        ("/venues?format=csv", b"{}", 400, "format"),
        ("/venues", b"not json", 422, None),
    ],
)
def test_bad_venue_and_event_requests_get_a_4xx_naming_the_problem(
    live_server: LiveServer,
    path: str,
    body: bytes,
    status: int,
    field: str | None,
) -> None:
    response = httpx.post(live_server.url + path, content=body, headers=API_KEY_HEADER, timeout=10)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["detail"]
    if field is not None:
        assert error.get("field") == field, error


def test_an_event_on_an_unknown_venue_is_a_404(
    live_server: LiveServer,
) -> None:
    response = httpx.post(
        live_server.url + "/events",
        json={"venue_id": 2_000_000_000, "title": "Nowhere"},
        headers=API_KEY_HEADER,
        timeout=10,
    )
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"
