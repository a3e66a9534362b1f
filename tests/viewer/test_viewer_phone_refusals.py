"""On a 360x640 touch screen, every tap the box office refuses is explained over the map.

A rule (the single-seat gap, the seats-per-buyer limit) and a lost connection are
said in the message bar where the buyer is looking, in the top half of the screen,
never in a panel the phone layout hides; the gap rule offers its alternative as a
button a finger can press.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.viewer.conftest import (
    RuleEvents,
    ViewerEvent,
    go_to_seat,
    open_viewer,
    screenshot,
    tap_seat,
    viewer_state,
    wait_for_seat_drawn,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE_WIDTH, PHONE_HEIGHT = 360, 640
LIMIT_WORDS = "as many seats as one buyer may have"
GAP_WORDS = "single empty seat"
OFFLINE_WORDS = "cannot reach the box office"


def tap_and_read(page: Any, event: ViewerEvent, seat: int, words: str) -> str:
    """Tap a seat at a finger's zoom and return the message bar's text once it says `words`."""
    go_to_seat(page, event, seat, zoom_offset=1)
    wait_for_seat_drawn(page, seat)
    tap_seat(page, event, seat)
    page.wait_for_function(
        "(w) => { const m = document.querySelector('.seatmap-message');"
        " return m && m.offsetParent !== null && m.innerText.includes(w); }",
        arg=words,
        timeout=10_000,
    )
    return str(page.inner_text(".seatmap-message"))


def assert_over_the_map(page: Any) -> None:
    """The message bar is on screen, in the top half, inside the phone's width."""
    box = page.locator(".seatmap-message").bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE_HEIGHT / 2, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, box
    assert page.locator(".seatmap-message").is_visible()


def test_a_tap_that_would_leave_a_single_seat_is_explained_with_a_button_for_the_alternative(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent, rule_events: RuleEvents
) -> None:
    page = phone_page
    second, row_seats = viewer_event.gap_rule_seat(len(viewer_event.venue.rows) // 2)
    open_viewer(page, live_server.url, rule_events.orphans)
    text = tap_and_read(page, viewer_event, second, GAP_WORDS)
    assert_over_the_map(page)
    assert not viewer_state(page, f"v.cart.has({second})")
    button = page.locator(".seatmap-message button", has_text="instead")
    assert button.is_visible(), text
    box = button.bounding_box()
    assert box is not None and box["height"] >= 24, box  # big enough for a finger
    screenshot(page, "phone-gap-rule")
    button.tap()
    page.wait_for_function("() => window.seatmapViewer.cart.mine().size > 0", timeout=5000)
    held = viewer_state(page, "Array.from(v.cart.mine())")
    assert set(held) <= set(row_seats)


def test_a_tap_past_the_seats_per_buyer_limit_is_explained_over_the_map(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = phone_page
    limit = 8  # the stadium event's rules: the default seats per buyer
    wanted = viewer_event.free_seats(limit + 1, skip=41)
    open_viewer(page, live_server.url, viewer_event.event_id)
    page.evaluate(
        "async (seats) => { for (const s of seats) { await window.seatmapViewer.cart.hold(s); } }",
        wanted[:limit],
    )
    page.wait_for_function(f"() => window.seatmapViewer.cart.mine().size === {limit}")
    last = wanted[limit]
    text = tap_and_read(page, viewer_event, last, LIMIT_WORDS)
    assert_over_the_map(page)
    assert not viewer_state(page, f"v.cart.has({last})"), text
    screenshot(page, "phone-seat-limit")
    page.evaluate("() => window.seatmapViewer.cart.releaseAll()")
    page.wait_for_function("() => window.seatmapViewer.cart.mine().size === 0", timeout=10_000)


def test_a_tap_while_the_box_office_is_unreachable_is_explained_over_the_map(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = phone_page
    (seat,) = viewer_event.free_seats(1, skip=67)
    open_viewer(page, live_server.url, viewer_event.event_id)
    # The phone loses its connection just as the buyer taps: the hold request never
    # reaches the server.
    page.route("**/holds", lambda route: route.abort("internetdisconnected"))
    text = tap_and_read(page, viewer_event, seat, OFFLINE_WORDS)
    assert_over_the_map(page)
    assert not viewer_state(page, f"v.cart.has({seat})"), text
    screenshot(page, "phone-offline")
    page.unroute("**/holds")
