"""HTTP behaviour of tiles and TileJSON: errors as JSON, empty tiles, formats, headers."""

from __future__ import annotations

import httpx
import pytest

from seatmap.grid import Lod
from tests.tileserver.conftest import EventFactory, Hall, decode, tile_url


@pytest.mark.parametrize("path, status", [
    ("/events/abc/tiles/0/0/0.png", 404),
    ("/events/99999999/tiles/0/0/0.png", 404),
    ("/events/{e}/tiles/99/0/0.png", 404),
    ("/events/{e}/tiles/0/0/0.jpg", 400),
    ("/events/{e}/tiles/0/0/0@3x.png", 400),
    ("/events/{e}/tiles/0/-1/0.png", 400),
    ("/events/{e}/tiles/x/0/0.png", 400),
    ("/events/{e}/tiles/0/0/abc.png", 400),
    ("/events/{e}/tiles.jsonx", 404),
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
    assert doc["bounds"][2] == pytest.approx(hall.venue.width * grid.scale0, rel=1e-3)
    names = [c["name"] for c in doc["categories"]]
    assert names == [c.name for c in hall.venue.categories]
    assert all(c["color"].startswith("#") and c["price_cents"] > 0 for c in doc["categories"])
    labels = {entry["label"] for entry in doc["legend"]}
    assert {"held", "sold", "blocked", "accessible"} <= labels
    assert doc["statuses"]["sold"] == 2
    again = await client.get(f"/events/{event_id}/tiles.json",
                             headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304


async def test_tile_path_of_a_zoom_beyond_the_venue_names_the_zoom_range(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    resp = await client.get(tile_url(event_id, hall.grid.max_zoom + 1, 0, 0))
    assert resp.status_code == 404
    assert resp.json()["max_zoom"] == hall.grid.max_zoom
