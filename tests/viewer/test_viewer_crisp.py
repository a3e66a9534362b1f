"""Crisp at every zoom the viewer allows, on the 1,500-seat theatre.

The map never enlarges a tile: its deepest zoom is the pyramid's, and there a
tile is drawn pixel for pixel. It zooms by whole zooms only, so no tile is
scaled to a fraction and no seam line shows between tiles. Seat numbers are
at least 9 px high (measured in the tile images) at the zoom where a click
holds a seat on a desktop, and at the zoom where a finger holds one on a phone.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest
import pytest_asyncio
import skia

from lockservice.reconcile import ensure_event_state
from seatmap.context import ServiceContext
from seatmap.events import EventRules
from seatmap.generator import generate_venue
from seatmap.grid import TILE_PX, grid_for
from seatmap.settings import Settings
from tests.conftest import LiveServer
from tests.venues import store_event
from tests.viewer.conftest import (
    CHROMIUM,
    ViewerEvent,
    open_viewer,
    playwright_sync,
    screenshot,
    seat_page_point,
    tap_seat,
    viewer_state,
    wait_for_seat_drawn,
)
from tileserver.render import style

pytestmark = [pytest.mark.browser, pytest.mark.slow]

THEATRE_SEATS = 1_500
MIN_NUMBER_PX = 9
RGB = npt.NDArray[np.uint8]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def theatre_event(ctx: ServiceContext, settings: Settings) -> ViewerEvent:
    """The generated 1,500-seat theatre with an event, its pyramid rendered."""
    from tileserver.render.prerender import ensure_pyramid

    venue = generate_venue("theater", THEATRE_SEATS, seed=1)
    event_id = await store_event(ctx, venue, EventRules(no_orphans=False), title="Theatre Night")
    await ensure_event_state(ctx, event_id)
    await asyncio.to_thread(ensure_pyramid, venue, settings.tiles_dir, 2, False)
    return ViewerEvent(event_id, venue)


# The conftest's `browser`, `desktop_page` and `phone_page` launch Chromium on this driver.
@pytest.fixture(scope="module")
def playwright(theatre_event: ViewerEvent) -> Iterator[Any]:
    """This module's Playwright driver: it needs only the theatre (made first), not the
    stadium the conftest's driver waits for."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright_sync.sync_playwright() as p:
        yield p


def decode(png: bytes) -> RGB:
    """An encoded image as an (H, W, 3) RGB array (transparent pixels over white)."""
    image = skia.Image.MakeFromEncoded(png)
    pixels = image.toarray(colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kUnpremul_AlphaType)
    rgba = np.asarray(pixels)
    alpha = rgba[..., 3:4].astype(np.float64) / 255.0
    over_white = rgba[..., :3].astype(np.float64) * alpha + 255.0 * (1.0 - alpha)
    return np.round(over_white).astype(np.uint8)


def wait_for_tiles(page: Any) -> None:
    """Wait until the map's tile layer has loaded every tile of the view."""
    page.wait_for_function(
        """() => {
            const t = window.seatmapViewer.tiles;
            return !t._loading && Object.values(t._tiles).every((x) => x.loaded);
        }""",
        timeout=15_000,
    )
    page.wait_for_timeout(300)  # the fade-in of the last tiles


def seam_lines(rgb: RGB, threshold: int = 24, share: float = 0.5) -> list[tuple[str, int]]:
    """Columns and rows of the image where most pixels differ from both neighbours.

    A seam between tiles is such a line across the map (the background shows
    through, or two images meet with a step); drawn content is not, over a
    whole map's height or width.
    """
    a = rgb.astype(np.int32)
    found: list[tuple[str, int]] = []
    for axis, name in ((1, "column"), (0, "row")):
        mid = a[:, 1:-1] if axis == 1 else a[1:-1]
        before = a[:, :-2] if axis == 1 else a[:-2]
        after = a[:, 2:] if axis == 1 else a[2:]
        odd = (np.abs(mid - before).sum(axis=2) > threshold) & (
            np.abs(mid - after).sum(axis=2) > threshold
        )
        ratio = odd.mean(axis=0 if axis == 1 else 1)
        found += [(name, int(k) + 1) for k in np.flatnonzero(ratio >= share)]
    return found


def map_inner_clip(page: Any, margin: int = 70) -> dict[str, float]:
    """The map's box less a margin (clear of the controls and the message bar)."""
    box = page.locator(".seatmap-map").bounding_box()
    return {
        "x": box["x"] + margin,
        "y": box["y"] + margin,
        "width": box["width"] - 2 * margin,
        "height": box["height"] - 2 * margin,
    }


def test_the_deepest_zoom_is_the_pyramids_and_draws_tiles_pixel_for_pixel(
    desktop_page: Any, live_server: LiveServer, theatre_event: ViewerEvent
) -> None:
    page = desktop_page
    tile_json = httpx.get(f"{live_server.url}/events/{theatre_event.event_id}/tiles.json").json()
    open_viewer(page, live_server.url, theatre_event.event_id, "&lite=1")
    assert viewer_state(page, "v.map.getMaxZoom()") == tile_json["maxzoom"]
    seat = theatre_event.free_seats(1, skip=3)[0]
    x, y = theatre_event.place(seat)
    # Ask for more than there is (a wheel or pinch would): the map stops at the pyramid.
    page.evaluate(
        "([x, y, z]) => window.seatmapViewer.map.setView([y, x], z, {animate: false})",
        [x, y, tile_json["maxzoom"] + 2],
    )
    assert viewer_state(page, "v.map.getZoom()") == tile_json["maxzoom"]
    wait_for_tiles(page)
    # A tile wholly on the map, as the page shows it and as the server sent it.
    tile = page.evaluate(
        """() => {
            const box = window.seatmapViewer.map.getContainer().getBoundingClientRect();
            for (const img of document.querySelectorAll('.seatmap-tiles img.leaflet-tile-loaded')) {
                const r = img.getBoundingClientRect();
                if (r.left >= box.left + 40 && r.right <= box.right - 40 && r.top >= box.top + 40
                        && r.bottom <= box.bottom - 40) {
                    return {src: img.src, natural: img.naturalWidth, left: r.left, top: r.top,
                            width: r.width, height: r.height,
                            cx: r.left + r.width / 2, cy: r.top + r.height / 2};
                }
            }
            return null;
        }"""
    )
    assert tile is not None, "no tile wholly on the map"
    assert tile["natural"] == TILE_PX  # a 1x screen gets 1x tiles
    assert abs(tile["width"] - tile["natural"]) < 0.01
    assert abs(tile["height"] - tile["natural"]) < 0.01
    clip = {"x": round(tile["cx"]) - 48, "y": round(tile["cy"]) - 48, "width": 96, "height": 96}
    shown = decode(page.screenshot(clip=clip))
    sent = decode(httpx.get(tile["src"]).content)
    u0, v0 = round(clip["x"] - tile["left"]), round(clip["y"] - tile["top"])
    native = sent[v0 : v0 + 96, u0 : u0 + 96]
    gap = np.abs(shown.astype(np.int32) - native.astype(np.int32))
    assert gap.mean() < 2.0 and np.percentile(gap, 99) <= 16, (gap.mean(), np.percentile(gap, 99))
    screenshot(page, "theatre-deepest-zoom")


@pytest.mark.parametrize("asked", [1.5, 2.5, 3.5])
def test_a_fractional_zoom_is_snapped_to_a_whole_one_with_no_seam_between_tiles(
    desktop_page: Any, live_server: LiveServer, theatre_event: ViewerEvent, asked: float
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, theatre_event.event_id, "&lite=1")
    w, h = theatre_event.venue.width, theatre_event.venue.height
    page.evaluate(
        "([x, y, z]) => window.seatmapViewer.map.setView([y, x], z, {animate: false})",
        [w / 2, h / 2, asked],
    )
    zoom = viewer_state(page, "v.map.getZoom()")
    assert zoom == round(zoom), zoom
    wait_for_tiles(page)
    shown = decode(page.screenshot(clip=map_inner_clip(page)))
    assert seam_lines(shown) == []
    screenshot(page, f"theatre-zoom-{asked}")


def test_the_seam_finder_sees_the_seams_of_a_scaled_tile_layer(
    desktop_page: Any, live_server: LiveServer, theatre_event: ViewerEvent
) -> None:
    """The check above can fail: with fractional zooms allowed, Chromium leaves seams."""
    page = desktop_page
    open_viewer(page, live_server.url, theatre_event.event_id, "&lite=1")
    w, h = theatre_event.venue.width, theatre_event.venue.height
    found = []
    for asked in (1.5, 2.5, 3.5):
        page.evaluate(
            """([x, y, z]) => {
                const m = window.seatmapViewer.map;
                m.options.zoomSnap = 0;
                m.setView([y, x], z, {animate: false});
            }""",
            [w / 2, h / 2, asked],
        )
        assert viewer_state(page, "v.map.getZoom()") == asked
        wait_for_tiles(page)
        found += seam_lines(decode(page.screenshot(clip=map_inner_clip(page))))
    screenshot(page, "theatre-fractional-zoom-seams")
    assert found, "a layer scaled by a fraction shows seams between its tiles"


def number_height_px(
    tile: RGB,
    cx: float,
    cy: float,
    radius: float,
    text: tuple[int, int, int],
    fill: tuple[int, int, int],
) -> int:
    """Height of the bounding box of a seat number's pixels inside the seat's disc.

    Number pixels are those nearer the number's colour than the disc's fill.
    """
    ys, xs = np.mgrid[0 : tile.shape[0], 0 : tile.shape[1]]
    inside = (xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2 <= (radius * 0.8) ** 2
    pixels = tile.astype(np.int32)
    to_text = np.abs(pixels - np.array(text)).sum(axis=2)
    to_fill = np.abs(pixels - np.array(fill)).sum(axis=2)
    ink = inside & (to_text < to_fill)
    rows = np.flatnonzero(ink.any(axis=1))
    return int(rows.max() - rows.min() + 1) if rows.size else 0


def seat_number_heights(
    base_url: str, event: ViewerEvent, seats: list[int], zoom: int, density: int
) -> list[float]:
    """Each seat's number height in CSS pixels, read from its tile at a zoom and density."""
    venue = event.venue
    grid = grid_for(venue)
    scale = grid.scale(zoom) * density
    size = TILE_PX * density
    suffix = "@2x" if density == 2 else ""
    heights = []
    for seat in seats:
        px, py = float(venue.seats.x[seat]) * scale, float(venue.seats.y[seat]) * scale
        tx, ty = int(px // size), int(py // size)
        reply = httpx.get(f"{base_url}/events/{event.event_id}/tiles/{zoom}/{tx}/{ty}{suffix}.png")
        assert reply.status_code == 200
        tile = decode(reply.content)
        category = venue.categories[int(venue.seats.category[seat])]
        fill = style.rgb(category.color)
        radius = float(venue.seats.radius[seat]) * scale
        ink = style.text_on(fill)
        height = number_height_px(tile, px - tx * size, py - ty * size, radius, ink, fill)
        heights.append(height / density)
    return heights


def test_seat_numbers_are_9px_high_where_a_click_holds_a_seat(
    desktop_page: Any, live_server: LiveServer, theatre_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, theatre_event.event_id)
    seats = theatre_event.free_seats(6, skip=2)
    zoom = viewer_state(page, "v.grid.detailZoom")
    # Below that zoom a click only zooms in; at it, a click holds.
    x, y = theatre_event.place(seats[0])
    page.evaluate(
        "([x, y, z]) => window.seatmapViewer.map.setView([y, x], z, {animate: false})", [x, y, zoom]
    )
    wait_for_seat_drawn(page, seats[0])
    page.mouse.click(*seat_page_point(page, theatre_event, seats[0]))
    page.wait_for_function(f"() => window.seatmapViewer.cart.has({seats[0]})", timeout=5000)
    heights = seat_number_heights(live_server.url, theatre_event, seats[1:], zoom, 1)
    assert min(heights) >= MIN_NUMBER_PX, heights


def test_seat_numbers_are_9px_high_where_a_finger_holds_a_seat(
    phone_page: Any, live_server: LiveServer, theatre_event: ViewerEvent
) -> None:
    page = phone_page
    open_viewer(page, live_server.url, theatre_event.event_id)
    seats = theatre_event.free_seats(6, skip=4)
    seat = seats[0]
    x, y = theatre_event.place(seat)
    page.evaluate(
        "([x, y]) => { const v = window.seatmapViewer;"
        " v.map.setView([y, x], v.grid.detailZoom, {animate: false}); }",
        [x, y],
    )
    wait_for_seat_drawn(page, seat)
    zoom = viewer_state(page, "v.map.getZoom()")
    tap_seat(page, theatre_event, seat)
    # Seats closer than a finger: the map zooms in until they are 44 px apart, then holds.
    page.wait_for_function(f"() => window.seatmapViewer.map.getZoom() > {zoom}", timeout=5000)
    page.wait_for_timeout(400)
    wait_for_seat_drawn(page, seat)
    tap_seat(page, theatre_event, seat)
    page.wait_for_function(f"() => window.seatmapViewer.cart.has({seat})", timeout=5000)
    holding = viewer_state(page, "v.map.getZoom()")
    assert holding <= viewer_state(page, "v.map.getMaxZoom()")
    heights = seat_number_heights(live_server.url, theatre_event, seats[1:], holding, 2)
    assert min(heights) >= MIN_NUMBER_PX, heights
    screenshot(page, "theatre-phone-holding-zoom")
