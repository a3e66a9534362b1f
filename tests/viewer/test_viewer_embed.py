"""The embed in a partner's page on another origin, driven by its postMessage API.

The partner page is docs/embed-example.html, served from 127.0.0.1:A; the seat
map comes from localhost:B, so the frame is cross-origin (and cross-site). The
frame gets no storage of its own, as in browsers that block third-party storage
(an init script makes `sessionStorage` and `localStorage` throw there, the way
those browsers do): the buyer's holds survive a reload only because the partner
page hands the session back.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, free_port
from tests.viewer.conftest import RuleEvents, ViewerEvent, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = Path(__file__).resolve().parents[2] / "docs"
# What browsers that block third-party storage do to a cross-site frame.
BLOCK_FRAME_STORAGE = """
if (window.top !== window && window.location.origin === %r) {
    for (const name of ['sessionStorage', 'localStorage']) {
        Object.defineProperty(window, name, {configurable: true, get() {
            throw new DOMException('Access is denied for this document.', 'SecurityError');
        }});
    }
}
"""


@pytest.fixture(scope="module")
def partner_site() -> Iterator[str]:
    """docs/ served over HTTP on 127.0.0.1, a different origin from the seat map's."""
    handler = functools.partial(QuietHandler, directory=str(DOCS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that does not log every request."""

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


@contextlib.contextmanager
def partner_page(browser: Any, live_server: LiveServer) -> Iterator[tuple[Any, Any, str]]:
    """A 900x900 page whose frames of the seat map's origin get no storage: (context,
    page, the seat map's origin, localhost, so another site than the partner's)."""
    viewer_origin = f"http://localhost:{live_server.port}"
    context = browser.new_context(viewport={"width": 900, "height": 900})
    context.add_init_script(BLOCK_FRAME_STORAGE % viewer_origin)
    try:
        yield context, context.new_page(), viewer_origin
    finally:
        context.close()


def open_partner_page(page: Any, partner_site: str, viewer_origin: str, event_id: int) -> Any:
    """docs/embed-example.html embedding the event; the seat map's frame once it paints."""
    page.goto(f"{partner_site}/embed-example.html?viewer={viewer_origin}&event={event_id}")
    return seat_frame(page)


def seat_frame(page: Any) -> Any:
    """The seat map's frame once its viewer has painted tiles."""
    page.wait_for_function(
        "() => document.getElementById('log').textContent.includes('ready')", timeout=20_000
    )
    frame = page.frame(url=re.compile(r"/embed/\d+"))
    assert frame is not None
    frame.wait_for_function(
        "() => window.seatmapViewer && window.seatmapViewer.metrics.firstTilesMs", timeout=20_000
    )
    return frame


def held_in(frame: Any) -> list[int]:
    """The seats the frame's cart holds, sorted."""
    return sorted(frame.evaluate("() => Array.from(window.seatmapViewer.cart.mine())"))


def partner_log(page: Any) -> str:
    """What the partner page logged of the frame's messages."""
    return str(page.inner_text("#log"))


def test_a_partner_page_on_another_origin_drives_the_embed_and_keeps_its_holds(
    browser: Any, live_server: LiveServer, viewer_event: ViewerEvent, partner_site: str
) -> None:
    with partner_page(browser, live_server) as (context, page, viewer_origin):
        frame = open_partner_page(page, partner_site, viewer_origin, viewer_event.event_id)
        assert frame.evaluate(
            "() => { try { window.sessionStorage; return false; } catch (e) { return true; } }"
        ), "the frame has no storage"
        # The whole venue fits the 600x400 frame, and fills it.
        venue = viewer_event.venue
        fit = frame.evaluate(
            """([w, h]) => {
                const m = window.seatmapViewer.map;
                const a = m.latLngToContainerPoint([0, 0]);
                const b = m.latLngToContainerPoint([h, w]);
                const size = m.getSize();
                const bar = document.querySelector('.seatmap-cart-bar').getBoundingClientRect().top
                    - m.getContainer().getBoundingClientRect().top;
                return {inside: a.x >= 0 && a.y >= 0 && b.x <= size.x && b.y <= size.y,
                        share: Math.max((b.x - a.x) / size.x, (b.y - a.y) / Math.min(bar, size.y)),
                        height: size.y, bar, bottom: b.y};
            }""",
            [venue.width, venue.height],
        )
        screenshot(page, "embed-partner-page")
        assert fit["inside"] and fit["share"] >= 0.8 and fit["height"] >= 300, fit
        assert fit["bottom"] <= fit["bar"], "nothing of the venue is under the cart bar"

        # Commands: best available holds two seats; the partner hears of it.
        page.click("#best")
        page.wait_for_function(
            "() => document.getElementById('cart').textContent.startsWith('2 seat')",
            timeout=10_000,
        )
        page.wait_for_function(
            "() => document.getElementById('log').textContent.includes('bestAvailable: ok')"
        )
        held = held_in(frame)
        assert len(held) == 2
        log = partner_log(page)
        assert "seatheld" in log and "cartchanged" in log and "bestAvailable: ok" in log
        # A message from any other window or origin is not obeyed.
        frame.evaluate(
            "() => window.postMessage({protocol: 'seatmap', version: 1, type: 'releaseAll'}, '*')"
        )
        page.wait_for_timeout(500)
        assert held_in(frame) == held

        # A reload: the frame starts with nothing, the partner hands the session back.
        page.reload()
        frame = seat_frame(page)
        frame.wait_for_function(
            "(n) => window.seatmapViewer.cart.mine().size === n", arg=len(held), timeout=10_000
        )
        assert held_in(frame) == held
        assert frame.evaluate("(i) => window.seatmapViewer.store.isMine(i)", held[0])

        # "Open the full seat map" keeps the buyer's session and seats.
        with context.expect_page() as opened:
            frame.click(".seatmap-embed-title a")
        full = opened.value
        full.wait_for_function(
            "(n) => { const v = window.seatmapViewer;"
            " return !!(v && v.cart) && v.cart.mine().size === n; }",
            arg=len(held),
            timeout=20_000,
        )
        assert "handoff" not in full.url, "the session left the address bar"
        full.close()

        # Show a section, then Continue: the partner gets the checkout with the hold tokens.
        section = venue.sections[int(venue.seats.section[held[0]])].name
        page.fill("#section", section)
        page.click("#show")
        page.wait_for_function(
            "() => document.getElementById('log').textContent.includes('showSection: ok')"
        )
        frame.click(".seatmap-cart-bar")
        frame.click(".seatmap-continue")
        page.wait_for_selector("#checkout:not([hidden])", timeout=5000)
        tokens = frame.evaluate("() => window.seatmapViewer.cart.tokens()")
        assert all(t in page.inner_text("#checkout") for t in tokens)

        page.click("#release")
        frame.wait_for_function("() => window.seatmapViewer.cart.mine().size === 0")
        assert "seatreleased" in partner_log(page)


def test_the_partner_page_hears_a_hold_expiring_and_then_expired(
    browser: Any,
    live_server: LiveServer,
    viewer_event: ViewerEvent,
    rule_events: RuleEvents,
    partner_site: str,
) -> None:
    with partner_page(browser, live_server) as (_, page, viewer_origin):
        # Holds here last 35 s: the 30 s warning comes after about 5 s.
        frame = open_partner_page(page, partner_site, viewer_origin, rule_events.warn_soon)
        (seat,) = viewer_event.free_seats(1, skip=97)
        frame.evaluate(f"() => window.seatmapViewer.cart.hold({seat})")
        page.wait_for_function(
            "() => document.getElementById('log').textContent.includes('holdexpiring')",
            timeout=15_000,
        )
        assert "s left)" in page.inner_text("#cart")
        frame.evaluate("() => window.seatmapViewer.cart.releaseAll()")

        # Holds here last 10 s and cannot be extended: the partner hears them end.
        frame = open_partner_page(page, partner_site, viewer_origin, rule_events.expire_soon)
        frame.evaluate(f"() => window.seatmapViewer.cart.hold({seat})")
        frame.wait_for_function("() => window.seatmapViewer.cart.mine().size === 1")
        page.wait_for_function(
            "() => document.getElementById('log').textContent.includes('holdexpired')",
            timeout=20_000,
        )
        assert held_in(frame) == []
