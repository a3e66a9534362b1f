"""The viewer in headless Chromium on a 100,000-seat stadium, over real HTTP.

Overview tiles, WebGL seats at detail zoom, tap to hold ("mine"), a second
buyer seeing the hold live, keyboard-only holding, lite mode without WebGL, a
360x640 touch screen, dirty-tile reloads and stream reconnects.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn

from seatmap.grid import dirty_tiles, grid_for
from seatmap.settings import Settings
from tests.conftest import LiveServer, free_port
from tests.viewer.conftest import (
    BASE_ARGS,
    CHROMIUM,
    NO_WEBGL_ARGS,
    ViewerEvent,
    go_to_seat,
    near,
    open_viewer,
    pixel_rgb,
    screenshot,
    seat_page_point,
    wait_for_seat_drawn,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MINE = "#d4007f"
HELD = "#bc4c00"
TILE_RE = re.compile(r"/tiles/(\d+)/(\d+)/(\d+)(@2x)?\.(png|webp)(\?v=.*)?$")


def viewer_state(page: Any, expression: str) -> Any:
    """Evaluate an expression with `v` bound to the page's viewer."""
    return page.evaluate(f"() => {{ const v = window.seatmapViewer; return {expression}; }}")


def hold_over_api(base_url: str, event_id: int, seat_index: int) -> dict[str, Any]:
    """Hold a seat as another buyer, straight through the API."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        token = client.post("/sessions", json={}).json()["token"]
        reply = client.post(
            f"/events/{event_id}/holds",
            json={"seats": [seat_index]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert reply.status_code == 201, reply.text
        return dict(reply.json())


def test_overview_fits_the_venue_and_paints_tiles(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    loaded = page.evaluate(
        """() => Array.from(document.querySelectorAll('.seatmap-tiles img'))
            .filter((img) => img.complete && img.naturalWidth > 0).length"""
    )
    assert loaded >= 4
    venue = viewer_event.venue
    fits = viewer_state(
        page,
        f"v.map.getBounds().pad(0.01).contains([[0, 0], [{venue.height}, {venue.width}]])",
    )
    assert fits, "the whole venue is in view on open"
    assert viewer_state(page, "!v.options.lite && !!v.seatLayer")
    screenshot(page, "overview")


def test_detail_zoom_draws_the_seats_with_webgl(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    seat = viewer_event.free_seats(1, skip=7)[0]
    go_to_seat(page, viewer_event, seat)
    wait_for_seat_drawn(page, seat)
    drawn = viewer_state(page, "v.seatLayer.drawnSeats")
    assert drawn > 100
    assert viewer_state(
        page, "!!v.seatLayer._gl && v.seatLayer._gl instanceof WebGLRenderingContext"
    )
    # An available seat shows its category colour (below its seat number) ...
    x, y = seat_page_point(page, viewer_event, seat)
    radius_px = viewer_state(page, "v.grid.scale0 * Math.pow(2, v.map.getZoom())") * float(
        viewer_event.venue.seats.radius[seat]
    )
    category = int(viewer_event.venue.seats.category[seat])
    colour = viewer_event.venue.categories[category].color
    below_number = (x, y + radius_px * 0.7)
    # Tiles fade in; wait for the final colour rather than read it mid-fade.
    wait_until(lambda: near(pixel_rgb(page, *below_number), colour, 48), timeout_s=3.0)
    assert near(pixel_rgb(page, *below_number), colour, 48), (
        pixel_rgb(page, *below_number),
        colour,
    )
    screenshot(page, "detail")
    # ... and the WebGL layer alone draws its dark rim where the tiles are hidden.
    page.evaluate("() => { document.querySelector('.leaflet-tile-pane').style.opacity = 0; }")
    rim = [pixel_rgb(page, x + radius_px - dx, y) for dx in (0.0, 1.0, 2.0)]
    assert min(sum(c) for c in rim) < 3 * 140, rim
    assert near(pixel_rgb(page, x, y), "#f6f8fa", 12)  # hollow: the tile shows through


def test_tapping_a_seat_holds_it_and_another_buyer_sees_it_held_within_a_second(
    browser: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    seat = viewer_event.free_seats(1, skip=2)[0]
    buyer_a = browser.new_context(viewport={"width": 1280, "height": 800})
    buyer_b = browser.new_context(viewport={"width": 1280, "height": 800})
    page_a, page_b = buyer_a.new_page(), buyer_b.new_page()
    for page in (page_a, page_b):
        open_viewer(page, live_server.url, viewer_event.event_id)
        go_to_seat(page, viewer_event, seat)
        wait_for_seat_drawn(page, seat)
    page_b.evaluate(
        """(i) => window.seatmapViewer.store.on('statuschange', () => {
            if (window.seatmapViewer.store.statusOf(i) === 1 && !window.heldSeenAt) {
                window.heldSeenAt = Date.now();
            }
        })""",
        seat,
    )
    page_a.evaluate("() => window.seatmapViewer.on('seatheld', (e) => { window.heldAt = e.at; })")
    x, y = seat_page_point(page_a, viewer_event, seat)
    page_a.mouse.click(x, y)
    page_a.wait_for_function("() => window.heldAt", timeout=5000)
    assert viewer_state(page_a, f"v.cart.has({seat}) && v.store.isMine({seat})")
    page_b.wait_for_function("() => window.heldSeenAt", timeout=3000)
    held_at = page_a.evaluate("() => window.heldAt")
    seen_at = page_b.evaluate("() => window.heldSeenAt")
    assert seen_at - held_at < 1000, f"buyer B saw the hold {seen_at - held_at} ms later"
    assert page_b.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    # A draws the seat as "mine" (magenta diamond), B as held by someone else (ring).
    assert wait_until(lambda: near(pixel_rgb(page_a, x + 0, y - 6), MINE, 60), 3)
    bx, by = seat_page_point(page_b, viewer_event, seat)
    assert wait_until(lambda: near(pixel_rgb(page_b, bx, by - 8), HELD, 60), 3)
    assert page_a.locator(".seatmap-cart-item").count() == 1
    buyer_a.close()
    buyer_b.close()


def test_keyboard_alone_can_hold_a_seat(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    for _ in range(30):  # Tab through the page to the map
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "seatmap-map":
            break
    assert page.evaluate("() => document.activeElement.id") == "seatmap-map"
    page.keyboard.press("ArrowRight")  # lands on the seat nearest the middle
    page.wait_for_function("() => window.seatmapViewer.keyboard.current() >= 0", timeout=10_000)
    # Walk along rows until the cursor is on a plain free seat (the test reads state only).
    for step in range(40):
        index = viewer_state(page, "v.keyboard.current()")
        plain = viewer_event.venue.seats.seat_type[index] == 0 and not bool(
            viewer_event.venue.seats.accessible[index]
        )
        status = page.evaluate("(i) => window.seatmapViewer.statusOf(i)", index)
        if plain and status == 0:
            break
        page.keyboard.press("ArrowDown" if step % 8 == 7 else "ArrowRight")
        page.wait_for_timeout(50)
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => window.seatmapViewer.cart.has({index})", timeout=5000)
    page.wait_for_function(
        "() => document.querySelector('#seatmap-live').textContent.includes('Held for you')",
        timeout=3000,
    )
    assert viewer_state(page, "v.map.getZoom()") >= viewer_state(page, "v.grid.detailZoom")


def test_lite_mode_holds_a_seat_without_webgl(
    playwright: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    no_gl = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=BASE_ARGS + NO_WEBGL_ARGS
    )
    try:
        page = no_gl.new_page(viewport={"width": 1024, "height": 700})
        assert not page.evaluate("() => !!document.createElement('canvas').getContext('webgl')")
        open_viewer(page, live_server.url, viewer_event.event_id)  # no ?lite=1: chosen itself
        assert page.evaluate("() => document.body.classList.contains('seatmap-lite')")
        assert viewer_state(page, "v.options.lite && !v.seatLayer && !v.store")
        assert page.evaluate("() => document.querySelectorAll('canvas').length") == 0
        seat = viewer_event.free_seats(1, skip=4)[0]
        go_to_seat(page, viewer_event, seat)
        page.wait_for_load_state("networkidle")
        x, y = seat_page_point(page, viewer_event, seat)
        with page.expect_response(lambda r: "/seats/at?" in r.url):
            page.mouse.click(x, y)
        page.wait_for_function(f"() => window.seatmapViewer.cart.has({seat})", timeout=5000)
        page.wait_for_selector(".seatmap-mine-marker", timeout=5000)
        assert wait_until(lambda: near(pixel_rgb(page, x, y - 5), MINE, 60), 3)
        screenshot(page, "lite")
        page.close()
    finally:
        no_gl.close()


def test_lite_query_parameter_forces_lite_mode(
    browser: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 600})
    open_viewer(page, live_server.url, viewer_event.event_id, "&lite=1")
    assert viewer_state(page, "v.options.lite && !v.seatLayer")
    page.close()


def test_a_360x640_touch_screen_gets_2x_tiles_and_can_hold_a_seat(
    browser: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    phone = browser.new_context(
        viewport={"width": 360, "height": 640},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = phone.new_page()
    open_viewer(page, live_server.url, viewer_event.event_id)
    sources = page.evaluate(
        "() => Array.from(document.querySelectorAll('.seatmap-tiles img')).map((i) => i.src)"
    )
    assert sources and all("@2x" in s for s in sources)
    # Controls are at least 44 px tall, and nothing overflows the narrow screen.
    small = page.evaluate(
        """() => Array.from(document.querySelectorAll('button, select, .leaflet-bar a'))
            .filter((el) => el.offsetParent !== null)
            .filter((el) => el.getBoundingClientRect().height < 44).length"""
    )
    assert small == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    # A tap below the detail zoom zooms in where it landed.
    seat = viewer_event.free_seats(1, skip=5)[0]
    go_to_seat(page, viewer_event, seat, zoom_offset=-2)
    start_zoom = viewer_state(page, "v.map.getZoom()")
    x, y = seat_page_point(page, viewer_event, seat)
    page.touchscreen.tap(x, y)
    page.wait_for_function(
        "() => { const v = window.seatmapViewer;"
        " return v.map.getZoom() === v.grid.detailZoom && !v.map._animatingZoom; }",
        timeout=5000,
    )
    assert viewer_state(page, "v.map.getZoom()") > start_zoom
    go_to_seat(page, viewer_event, seat, zoom_offset=1)  # seats a finger's width apart
    wait_for_seat_drawn(page, seat)
    x, y = seat_page_point(page, viewer_event, seat)
    page.touchscreen.tap(x, y)
    page.wait_for_function(f"() => window.seatmapViewer.cart.has({seat})", timeout=5000)
    page.click(".seatmap-cart-bar")
    assert page.is_visible(".seatmap-cart-item")
    screenshot(page, "mobile")
    phone.close()


def test_a_change_reloads_only_the_dirty_tiles(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    seat = viewer_event.free_seats(1, skip=9)[0]
    go_to_seat(page, viewer_event, seat, zoom_offset=-2)
    page.wait_for_load_state("networkidle")
    zoom = viewer_state(page, "v.map.getZoom()")
    reloaded: list[tuple[int, int, int]] = []

    def on_request(request: Any) -> None:
        m = TILE_RE.search(request.url)
        if m and m.group(6):
            reloaded.append((int(m.group(1)), int(m.group(2)), int(m.group(3))))

    page.on("request", on_request)
    hold_over_api(live_server.url, viewer_event.event_id, seat)
    for _ in range(30):  # the sync driver delivers request events while it waits
        if reloaded:
            break
        page.wait_for_timeout(100)
    assert reloaded, "no tile was reloaded"
    page.wait_for_timeout(300)
    venue = viewer_event.venue
    dirty = dirty_tiles(venue, grid_for(venue), [seat])[int(zoom)]
    allowed = {
        (int(zoom), x, y)
        for x0, y0, x1, y1 in dirty
        for x in range(x0, x1 + 1)
        for y in range(y0, y1 + 1)
    }
    assert set(reloaded) <= allowed, (reloaded, allowed)


def test_a_dropped_stream_shows_reconnecting_and_resumes_with_what_was_missed(
    browser: Any, settings: Settings, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    # A server of its own, stopped and started again on the same port: a real drop.
    port = free_port()
    server = serve_on(settings, port)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        open_viewer(page, f"http://127.0.0.1:{port}", viewer_event.event_id)
        seat, neighbour = viewer_event.free_seats(2, skip=11)
        go_to_seat(page, viewer_event, seat)
        wait_for_seat_drawn(page, seat)
        page.wait_for_function("() => window.seatmapViewer.live.connected", timeout=5000)
        page.evaluate(
            "() => { window.resyncs = 0; "
            "window.seatmapViewer.live.on('resync', () => { window.resyncs++; }); }"
        )
        # One change seen live first, so the page has a stream id to resume from.
        hold_over_api(live_server.url, viewer_event.event_id, neighbour)
        page.wait_for_function("() => window.seatmapViewer.live.lastEventId !== ''", timeout=5000)
        stop(server)
        page.wait_for_selector("#seatmap-banner:not([hidden])", timeout=10_000)
        assert "Reconnecting" in page.inner_text("#seatmap-banner")
        hold_over_api(live_server.url, viewer_event.event_id, seat)  # while we are away
        page.wait_for_timeout(300)
        assert viewer_state(page, f"v.store.statusOf({seat})") == 0
        server = serve_on(settings, port)
        page.wait_for_function(
            f"() => window.seatmapViewer.store.statusOf({seat}) === 1", timeout=20_000
        )
        page.wait_for_selector("#seatmap-banner", state="hidden", timeout=10_000)
        # Resumed from Last-Event-ID: the missed change came from the stream, no reload.
        assert page.evaluate("() => window.resyncs") == 0
    finally:
        context.close()
        stop(server)


def serve_on(settings: Settings, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """The whole app on a given port, in a thread; returns when it has started."""
    from seatmap_app.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server failed to start")
        time.sleep(0.05)
    return server, thread


def stop(running: tuple[uvicorn.Server, threading.Thread]) -> None:
    """Stop a server from serve_on and wait for it."""
    server, thread = running
    server.should_exit = True
    thread.join(timeout=15)
