"""The viewer's HTTP routes: pages, static files with gzip and ETags, sections data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from httpkit.errors import exception_handlers
from seatmap.context import ServiceContext
from seatmap_app.viewerroutes import VIEWER_DIR, viewer_routes
from tests.venues import grid_venue, store_event


@pytest_asyncio.fixture(loop_scope="session")
async def client(ctx: ServiceContext) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of an app serving only the viewer routes."""
    app = Starlette(routes=viewer_routes(ctx), exception_handlers=exception_handlers())  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://viewer.test") as c:
        yield c


@pytest_asyncio.fixture(loop_scope="session")
async def event_id(ctx: ServiceContext) -> int:
    """A small event: two sections of six rows of twelve seats."""
    return await store_event(ctx, grid_venue(), title="Small <Hall>")


async def test_viewer_page_names_the_event_and_escapes_its_title(
    client: httpx.AsyncClient, event_id: int
) -> None:
    response = await client.get(f"/viewer/?event={event_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f'data-event="{event_id}"' in response.text
    assert "Small &lt;Hall&gt;" in response.text
    assert "app/boot.js" in response.text


async def test_embed_page_serves_a_known_event_and_404s_an_unknown_one(
    client: httpx.AsyncClient, event_id: int
) -> None:
    ok = await client.get(f"/embed/{event_id}")
    assert ok.status_code == 200
    assert f"/events/{event_id}/map.png" in ok.text  # the no-JavaScript image
    missing = await client.get("/embed/987654321")
    assert missing.status_code == 404


async def test_viewer_without_slash_redirects_keeping_the_query(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/viewer?event=3")
    assert response.status_code == 308
    assert response.headers["location"] == "/viewer/?event=3"


@pytest.mark.skipif(
    not (VIEWER_DIR / "node_modules" / "leaflet").is_dir(), reason="npm ci not run in viewer/"
)
async def test_leaflet_is_served_from_node_modules_gzipped_with_an_etag(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/viewer/vendor/leaflet/leaflet.css", headers={"Accept-Encoding": "gzip"}
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert ".leaflet-container" in response.text  # httpx decodes gzip
    etag = response.headers["etag"]
    again = await client.get("/viewer/vendor/leaflet/leaflet.css", headers={"If-None-Match": etag})
    assert again.status_code == 304


async def test_app_files_come_from_the_build_or_the_sources(client: httpx.AsyncClient) -> None:
    response = await client.get("/viewer/app/boot.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    raw = await client.get("/viewer/app/boot.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers


async def test_paths_outside_the_viewer_folders_are_404(client: httpx.AsyncClient) -> None:
    for path in (
        "/viewer/app/../../pyproject.toml",
        "/viewer/src/%2e%2e/package.json",
        "/viewer/nothing/here.js",
        "/viewer/vendor/leaflet/../package.json",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path


async def test_sections_give_names_bounds_and_seat_counts(
    client: httpx.AsyncClient, event_id: int
) -> None:
    response = await client.get(f"/viewer/api/events/{event_id}/sections.json")
    assert response.status_code == 200
    data = response.json()
    assert [s["name"] for s in data["sections"]] == ["101", "102"]
    assert all(s["seat_count"] == 72 for s in data["sections"])
    x0, y0, x1, y1 = data["sections"][0]["bounds"]
    assert x0 < x1 and y0 < y1
    assert data["width"] > 0 and data["height"] > 0


async def test_section_rows_list_seats_in_row_order_with_flags(
    client: httpx.AsyncClient, event_id: int
) -> None:
    response = await client.get(
        f"/viewer/api/events/{event_id}/sections/0.json", headers={"Accept-Encoding": "gzip"}
    )
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == "gzip"
    data = orjson.loads(response.content)
    rows = data["rows"]
    assert [r["label"] for r in rows] == list("ABCDEF")
    first = rows[0]["seats"]
    assert [s[1] for s in first] == [str(n) for n in range(1, 13)]
    xs = [s[2] for s in first]
    assert xs == sorted(xs)
    assert first[0][6] & 0b011 == 0b011  # accessible wheelchair place
    assert first[1][6] & 0b100  # companion seat
    assert (await client.get(f"/viewer/api/events/{event_id}/sections/9.json")).status_code == 404


async def test_places_say_where_seats_are_and_reject_bad_lists(
    client: httpx.AsyncClient, event_id: int
) -> None:
    ok = await client.get(f"/viewer/api/events/{event_id}/places.json?seats=0,13")
    assert ok.status_code == 200
    (i0, x0, y0, r0), (i1, _, y1, _) = ok.json()
    assert (i0, i1) == (0, 13)
    assert r0 > 0 and y1 > y0 and x0 > 0
    for bad in ("", "a,b", "1,-2", ",".join(["1"] * 101)):
        response = await client.get(f"/viewer/api/events/{event_id}/places.json?seats={bad}")
        assert response.status_code == 400, bad
    assert (
        await client.get(f"/viewer/api/events/{event_id}/places.json?seats=99999")
    ).status_code == 404


@pytest.mark.parametrize("path", ["index.html", "embed.html"])
def test_pages_have_a_no_javascript_fallback_and_a_language(path: str) -> None:
    text = (VIEWER_DIR / path).read_text()
    assert '<html lang="en">' in text
    assert "<noscript>" in text and "map.png" in text
