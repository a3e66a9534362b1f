"""HTTP behaviour of tiles and TileJSON: errors as JSON, empty tiles, formats, headers."""

from __future__ import annotations

import dataclasses
import ipaddress
import math

import httpx
import jsonschema
import pytest

from seatmap.context import ServiceContext
from seatmap.grid import Lod
from tests.tileserver.conftest import EventFactory, Hall, decode, tile_url
from tests.tileserver.tilejson_schema import TILEJSON_3_SCHEMA
from tileserver.app import create_app


@pytest.mark.parametrize("path, status", [
    ("/events/abc/tiles/0/0/0.png", 400),
    ("/events/%C2%B2/tiles/0/0/0.png", 400),
    ("/events/{e}/tiles/%C2%B2/0/0.png", 400),
    ("/events/{e}/tiles/0/0/%C2%B2.png", 400),
    ("/events/99999999/tiles/0/0/0.png", 404),
    ("/events/{e}/tiles/99/0/0.png", 404),
    ("/events/{e}/tiles/0/0/0.jpg", 400),
    ("/events/{e}/tiles/0/0/0@3x.png", 400),
    ("/events/{e}/tiles/0/x²/0.png", 400),
    ("/events/{e}/tiles/x/0/0.png", 400),
    ("/events/{e}/tiles/0/0/abc.png", 400),
    ("/events/{e}/tiles.jsonx", 404),
    # Outside the grid (what map clients ask for at its edges): 404, never 400.
    ("/events/{e}/tiles/0/-1/0.png", 404),
    ("/events/{e}/tiles/1/0/-1.png", 404),
    ("/events/{e}/tiles/1/0/-1@2x.webp", 404),
    ("/events/{e}/tiles/-1/0/0.png", 404),
    ("/events/{e}/tiles/2/4/0.png", 404),
    ("/events/{e}/tiles/2/0/4.png", 404),
    ("/events/{e}/map.gif", 404),
])
async def test_bad_tile_requests_get_json_errors(
    client: httpx.AsyncClient, new_event: EventFactory, path: str, status: int,
) -> None:
    event_id = await new_event()
    resp = await client.get(path.format(e=event_id))
    assert resp.status_code == status
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["error"] in ("not_found", "bad_request")
    assert body["detail"]


async def test_tiles_outside_the_venue_share_one_empty_tile(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    z = hall.grid.max_zoom
    nx, ny = hall.grid.tile_count(z)
    side = 1 << z
    assert ny < side, "the hall is wider than tall, so rows below it exist in the square"
    a = await client.get(tile_url(event_id, z, 0, ny))
    b = await client.get(tile_url(event_id, z, nx - 1, side - 1))
    assert a.status_code == b.status_code == 200
    assert a.headers["etag"] == b.headers["etag"]
    assert a.content == b.content
    assert len(a.content) < 300
    rgba = decode(a.content)
    assert rgba.shape == (256, 256, 4)
    assert int(rgba[..., 3].max()) == 0  # fully transparent
    beyond = await client.get(tile_url(event_id, z, side, 0))
    assert beyond.status_code == 404 and beyond.json()["error"] == "not_found"


async def test_tile_formats_and_headers(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    z = hall.grid.max_zoom
    png = await client.get(tile_url(event_id, z, 1, 0))
    assert png.headers["content-type"] == "image/png"
    assert "s-maxage" in png.headers["cache-control"]
    assert png.headers["access-control-allow-origin"] == "*"
    webp = await client.get(tile_url(event_id, z, 1, 0, fmt="webp"))
    assert webp.headers["content-type"] == "image/webp"
    assert webp.content[:4] == b"RIFF" and webp.content[8:12] == b"WEBP"
    assert webp.headers["etag"] != png.headers["etag"]
    a, b = decode(png.content), decode(webp.content)
    assert a.shape == b.shape == (256, 256, 4)
    assert (a == b).all()  # lossless
    two = await client.get(tile_url(event_id, z, 1, 0, density=2, fmt="webp"))
    assert decode(two.content).shape == (512, 512, 4)
    head = await client.head(tile_url(event_id, z, 1, 0))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == png.headers["etag"]


async def test_tilejson_describes_the_pyramid_and_legend(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    resp = await client.get(f"/events/{event_id}/tiles.json")
    assert resp.status_code == 200
    doc = resp.json()
    grid = hall.grid
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == [f"http://tiles.test/events/{event_id}/tiles/{{z}}/{{x}}/{{y}}.png"]
    assert (doc["minzoom"], doc["maxzoom"]) == (0, grid.max_zoom)
    assert doc["tile_size"] == 256
    assert doc["lod_zooms"] == {Lod.SECTION: 0, Lod.SEAT: grid.seat_lod_zoom,
                                Lod.DETAIL: grid.detail_lod_zoom}
    assert doc["world_size_px"][str(grid.max_zoom)] == list(grid.world_px(grid.max_zoom))
    assert doc["pixel_bounds"][2] == pytest.approx(hall.venue.width * grid.scale0, rel=1e-3)
    names = [c["name"] for c in doc["categories"]]
    assert names == [c.name for c in hall.venue.categories]
    assert all(c["color"].startswith("#") and c["price_cents"] > 0 for c in doc["categories"])
    assert isinstance(doc["legend"], str)
    assert all(c.name in doc["legend"] for c in hall.venue.categories)
    labels = {entry["label"] for entry in doc["legend_entries"]}
    assert {"held", "sold", "blocked", "accessible"} <= labels
    assert doc["statuses"]["sold"] == 2
    again = await client.get(f"/events/{event_id}/tiles.json",
                             headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304


async def test_tilejson_bounds_are_the_web_mercator_patch_the_venue_is_drawn_on(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    """Zoom-0 pixel (x, y) of the XYZ grid is lon x/256*360-180, lat = inverse Mercator of y."""
    event_id = await new_event()
    doc = (await client.get(f"/events/{event_id}/tiles.json")).json()
    w0 = hall.venue.width * hall.grid.scale0
    h0 = hall.venue.height * hall.grid.scale0
    assert w0 == pytest.approx(256) and h0 < 256, "the hall is wider than tall"
    west, south, east, north = doc["bounds"]
    assert (west, east) == (pytest.approx(-180), pytest.approx(180))
    assert north == pytest.approx(85.0511287798, abs=1e-8)

    def mercator_y_px(lat: float) -> float:
        return (1 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / math.pi) * 128

    assert mercator_y_px(south) == pytest.approx(h0, abs=1e-6)
    lon, lat, zoom = doc["center"]
    fx, fy = hall.venue.focal_point
    assert (lon + 180) / 360 * 256 == pytest.approx(fx * hall.grid.scale0, abs=1e-6)
    assert mercator_y_px(lat) == pytest.approx(fy * hall.grid.scale0, abs=1e-6)
    assert doc["minzoom"] <= zoom <= doc["maxzoom"]
    assert west <= lon <= east and south <= lat <= north


async def test_tilejson_is_valid_tilejson_3(
    client: httpx.AsyncClient, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    doc = (await client.get(f"/events/{event_id}/tiles.json")).json()
    jsonschema.validate(doc, TILEJSON_3_SCHEMA)
    broken = {**doc, "legend": [{"label": "held"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, TILEJSON_3_SCHEMA)


async def test_tile_path_of_a_zoom_beyond_the_venue_names_the_zoom_range(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    resp = await client.get(tile_url(event_id, hall.grid.max_zoom + 1, 0, 0))
    assert resp.status_code == 404
    assert resp.json()["max_zoom"] == hall.grid.max_zoom


FORWARDED = {"X-Forwarded-Host": "seats.example.org", "X-Forwarded-Proto": "https"}


async def test_tilejson_ignores_forwarded_headers_from_untrusted_peers(
    client: httpx.AsyncClient, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    resp = await client.get(f"/events/{event_id}/tiles.json", headers=FORWARDED)
    assert resp.json()["tiles"][0].startswith(f"http://tiles.test/events/{event_id}/")
    assert "x-forwarded-host" not in resp.headers.get("vary", "").lower()


async def test_tilejson_urls_follow_a_trusted_proxy_and_vary_on_its_headers(
    ctx: ServiceContext, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    trusting = dataclasses.replace(ctx, settings=ctx.settings.with_overrides(
        trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),)))
    app = create_app(ctx=trusting)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://tiles.test") as c:
            url = f"/events/{event_id}/tiles.json"
            behind = await c.get(url, headers=FORWARDED)
            direct = await c.get(url)
    doc = behind.json()
    root = f"https://seats.example.org/events/{event_id}"
    assert doc["tiles"] == [f"{root}/tiles/{{z}}/{{x}}/{{y}}.png"]
    assert doc["tile_templates"]["webp@2x"] == f"{root}/tiles/{{z}}/{{x}}/{{y}}@2x.webp"
    assert doc["endpoints"]["static_map"] == f"{root}/map.png"
    vary = {v.strip().lower() for v in behind.headers["vary"].split(",")}
    assert {"x-forwarded-host", "x-forwarded-proto"} <= vary
    assert direct.json()["tiles"][0].startswith("http://tiles.test/")
    assert direct.headers["etag"] != behind.headers["etag"]


async def test_every_public_read_of_the_tile_service_allows_any_origin(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    base = f"/events/{event_id}"
    paths = [f"{base}/tiles.json", tile_url(event_id, 0, 0, 0), f"{base}/seats.bin",
             f"{base}/seats/0", f"{base}/seats/at?x=100&y=150&r=50", f"{base}/map.png?width=64",
             f"{base}/sections.json", f"{base}/sections/0.json", f"{base}/places.json?seats=0",
             f"{base}/tiles/0/-1/0.png", "/openapi.json"]
    for path in paths:
        for headers in ({}, {"Origin": "https://partner.example"}):
            resp = await client.get(path, headers=headers)
            assert resp.status_code < 500, (path, resp.status_code)
            assert resp.headers.get("access-control-allow-origin") == "*", (path, headers)
    hot = await client.get(tile_url(event_id, 0, 0, 0))  # answered by the hot path
    assert hot.headers["access-control-allow-origin"] == "*"
    assert "ETag" in hot.headers["access-control-expose-headers"]
    preflight = await client.options(f"{base}/tiles.json", headers={
        "Origin": "https://partner.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    health = await client.get("/healthz", headers={"Origin": "https://partner.example"})
    assert "access-control-allow-origin" not in health.headers
