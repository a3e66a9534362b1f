"""The viewer's HTTP routes: pages from templates, built static files with gzip and ETags."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from httpkit.errors import exception_handlers
from seatmap.context import ServiceContext
from seatmap_app.viewerroutes import VIEWER_DIST, viewer_routes
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


requires_build = pytest.mark.skipif(
    not (VIEWER_DIST / "app" / "boot.js").is_file(), reason="viewer not built (npm run build)"
)


@requires_build
async def test_leaflet_stylesheet_is_served_gzipped_with_an_etag_and_304(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/viewer/vendor/leaflet/leaflet.css", headers={"Accept-Encoding": "gzip"}
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert ".leaflet-container" in response.text  # httpx decodes gzip
    assert response.headers["cache-control"] == "no-cache"
    etag = response.headers["etag"]
    again = await client.get("/viewer/vendor/leaflet/leaflet.css", headers={"If-None-Match": etag})
    assert again.status_code == 304


@requires_build
async def test_leaflet_images_named_by_its_stylesheet_are_served(
    client: httpx.AsyncClient,
) -> None:
    css = (await client.get("/viewer/vendor/leaflet/leaflet.css")).text
    urls = [u for u in re.findall(r"url\([\"']?([^\"')]+)", css) if not u.startswith("#")]
    assert urls
    for url in urls:
        response = await client.get("/viewer/vendor/leaflet/" + url.removeprefix("./"))
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "image/png"
        assert "content-encoding" not in response.headers


@requires_build
async def test_bundle_is_javascript_and_chunks_are_cached_for_good(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/viewer/app/boot.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )
    assert "content-encoding" not in response.headers
    chunks = re.findall(r"chunk-[A-Z0-9]+\.js", response.text)
    assert chunks
    chunk = await client.get(f"/viewer/app/{chunks[0]}")
    assert chunk.status_code == 200
    assert "immutable" in chunk.headers["cache-control"]


async def test_pages_answer_304_to_their_own_etag(client: httpx.AsyncClient, event_id: int) -> None:
    first = await client.get(f"/embed/{event_id}")
    again = await client.get(f"/embed/{event_id}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    other = await client.get(
        f"/viewer/?event={event_id}", headers={"If-None-Match": first.headers["etag"]}
    )
    assert other.status_code == 200


async def test_paths_outside_the_viewer_folders_are_404(client: httpx.AsyncClient) -> None:
    for path in (
        "/viewer/app/../../pyproject.toml",
        "/viewer/app/%2e%2e/%2e%2e/viewerroutes.py",
        "/viewer/nothing/here.js",
        "/viewer/vendor/leaflet/../../templates/base.html",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path


@pytest.mark.parametrize("path", ["/viewer/?event={}", "/embed/{}"])
async def test_pages_have_a_no_javascript_fallback_and_a_language(
    client: httpx.AsyncClient, event_id: int, path: str
) -> None:
    text = (await client.get(path.format(event_id))).text
    assert '<html lang="en">' in text
    assert "<noscript>" in text and f"/events/{event_id}/map.png" in text
    if (VIEWER_DIST / "app" / "style.css").is_file():  # built: the stylesheets come inline
        assert ".leaflet-container" in text and ".seatmap-map" in text
        assert 'url("vendor/leaflet/images/layers.png")' in text  # Leaflet's images still resolve
    else:
        assert 'href="app/style.css"' in text and 'href="vendor/leaflet/leaflet.css"' in text


@pytest.mark.parametrize("path", ["/viewer/?event={}", "/embed/{}"])
async def test_pages_carry_what_the_first_view_needs(
    client: httpx.AsyncClient, event_id: int, path: str
) -> None:
    """No round trip before the first tiles: TileJSON and the first-view script are inline."""
    text = (await client.get(path.format(event_id))).text
    found = re.search(r'<script type="application/json" id="seatmap-tilejson">(.*?)</script>', text)
    assert found
    tilejson = json.loads(found.group(1))
    assert tilejson["event_id"] == event_id and tilejson["venue_size"]
    assert tilejson["tile_templates"]["png"] == (
        f"http://viewer.test/events/{event_id}/tiles/{{z}}/{{x}}/{{y}}.png"
    )
    assert "<title>Small &lt;Hall&gt; · seat map</title>" in text  # the title escaped
    assert "</script>" not in found.group(1)
    assert "app/boot.js" in text  # loaded by the first-view script, or directly when not built
    if (VIEWER_DIST / "app" / "first-view.js").is_file():
        assert '<link rel="stylesheet"' not in text and '<script type="module"' not in text


async def test_a_title_cannot_close_the_pages_inline_tilejson(
    ctx: ServiceContext, client: httpx.AsyncClient
) -> None:
    event_id = await store_event(ctx, grid_venue(), title="</script><script>alert(1)</script>")
    text = (await client.get(f"/viewer/?event={event_id}")).text
    found = re.search(r'id="seatmap-tilejson">(.*?)</script>', text)
    assert found and json.loads(found.group(1))["name"].startswith("</script>")
    assert "<script>alert(1)" not in text
