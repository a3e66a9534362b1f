"""A buyer on a 360x640 touch screen (device scale 2): what every tap leads to is seen.

The message bar over the map says why a tap did not hold ("taken", "sold") and
goes when the seat changes; holds warn before they end, with one tap for more
time, and say which seats were released when they end; "Continue" takes the
holds to the event's checkout page; the cart folds into a bar and opens as a
sheet that never hides the seat just held; a finger holds a seat only where
seats are far enough apart, and a wheelchair place asks first.
"""

from __future__ import annotations

import contextlib
import math
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import LiveServer
from tests.viewer.conftest import (
    Buyer,
    RuleEvents,
    ViewerEvent,
    go_to_seat,
    open_viewer,
    screenshot,
    seat_page_point,
    seat_words,
    tap_seat,
    viewer_state,
    wait_for_seat_drawn,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE_HEIGHT = 640


def hold_by_tap(page: Any, event: ViewerEvent, seat: int) -> None:
    """Zoom one level past the detail zoom (seats far apart for a finger) and tap the seat."""
    go_to_seat(page, event, seat, zoom_offset=1)
    wait_for_seat_drawn(page, seat)
    tap_seat(page, event, seat)
    page.wait_for_function(f"() => window.seatmapViewer.cart.has({seat})", timeout=5000)


def message_box(page: Any) -> dict[str, float]:
    """The message bar's box on the page."""
    return dict(page.locator(".seatmap-message").bounding_box())


def test_a_tap_on_a_taken_or_sold_seat_is_explained_over_the_map_until_the_seat_changes(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = phone_page
    taken, sold = viewer_event.free_seats(2, skip=13)
    other = Buyer(live_server.url)
    hold_token = other.hold(viewer_event.event_id, taken)
    other.sell(viewer_event.event_id, sold)
    open_viewer(page, live_server.url, viewer_event.event_id)
    for seat, words in ((sold, "is sold"), (taken, "is taken")):
        go_to_seat(page, viewer_event, seat, zoom_offset=1)
        wait_for_seat_drawn(page, seat)
        page.wait_for_function(f"() => window.seatmapViewer.store.statusOf({seat}) !== 0")
        tap_seat(page, viewer_event, seat)
        page.wait_for_selector(".seatmap-message-error", state="visible", timeout=5000)
        # The box may still show the previous seat's message: wait for this seat's.
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(
                "(w) => document.querySelector('.seatmap-message').innerText.includes(w)",
                arg=words, timeout=5000,
            )
        text = page.inner_text(".seatmap-message")
        assert words in text and seat_words(viewer_event, seat) in text, text
        box = message_box(page)
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE_HEIGHT / 2, box
        # Said once to screen readers, by the live region, not by the banner too.
        page.wait_for_function(
            "(w) => document.querySelector('#seatmap-live').textContent.includes(w)", arg=words
        )
        assert (
            page.locator(".seatmap-message[aria-live], .seatmap-message [aria-live]").count() == 0
        )
        assert not viewer_state(page, f"v.cart.has({seat})")
    screenshot(page, "phone-error-toast")
    # The holder lets the seat go: the message about it no longer describes the map.
    other.release(viewer_event.event_id, hold_token)
    page.wait_for_selector(".seatmap-message", state="hidden", timeout=5000)
    other.close()


def test_a_hold_warns_before_it_ends_and_one_tap_gives_more_time(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent, rule_events: RuleEvents
) -> None:
    page = phone_page
    open_viewer(page, live_server.url, rule_events.warn_soon)
    seat = viewer_event.free_seats(1, skip=15)[0]
    hold_by_tap(page, viewer_event, seat)
    # The bar along the bottom: count, total and a running countdown.
    bar = page.locator(".seatmap-cart-bar")
    assert bar.is_visible()
    assert re.search(r"Your seats \(1\).*\d+:\d\d", bar.inner_text().replace("\n", " "))
    # Holds last 35 s here: the 30 s warning comes about 5 s after the hold.
    page.wait_for_selector(".seatmap-message-warning", state="visible", timeout=12_000)
    assert "30 seconds" in page.inner_text(".seatmap-message")
    screenshot(page, "phone-expiry-warning")
    left_before = viewer_state(page, "v.cart.secondsLeft()")
    page.locator(".seatmap-message button", has_text="More time").tap()
    page.wait_for_function(
        f"() => window.seatmapViewer.cart.secondsLeft() > {left_before + 2}", timeout=5000
    )
    assert page.locator(".seatmap-message-warning").count() == 0
    assert viewer_state(page, f"v.cart.has({seat})")


def test_when_a_hold_ends_the_seats_released_are_named_on_screen(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent, rule_events: RuleEvents
) -> None:
    page = phone_page
    open_viewer(page, live_server.url, rule_events.expire_soon)
    seat = viewer_event.free_seats(1, skip=17)[0]
    hold_by_tap(page, viewer_event, seat)
    page.wait_for_function(
        "(w) => { const m = document.querySelector('.seatmap-message-error');"
        " return m && !m.hidden && m.textContent.includes(w); }",
        arg=seat_words(viewer_event, seat),
        timeout=15_000,
    )
    assert "released" in page.inner_text(".seatmap-message")
    assert not viewer_state(page, f"v.cart.has({seat})")
    assert page.is_visible(".seatmap-message")


def test_the_cart_is_a_bar_that_opens_as_a_sheet_without_hiding_the_seat_just_held(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = phone_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    seat = viewer_event.free_seats(1, skip=19)[0]
    hold_by_tap(page, viewer_event, seat)
    # Move the seat low on the screen, where the sheet will open.
    page.evaluate(
        "([x, y]) => { const m = window.seatmapViewer.map;"
        " const p = m.latLngToContainerPoint([y, x]);"
        " m.panBy([0, p.y - (m.getSize().y - 80)], {animate: false}); }",
        list(viewer_event.place(seat)),
    )
    bar = page.locator(".seatmap-cart-bar")
    price = viewer_event.venue.categories[int(viewer_event.venue.seats.category[seat])].price_cents
    assert f"{price // 100}" in bar.inner_text().replace(",", "")
    bar.tap()
    page.wait_for_selector(".seatmap-panel .seatmap-cart-item", state="visible")
    assert bar.get_attribute("aria-expanded") == "true"
    sheet = page.locator(".seatmap-panel").bounding_box()
    assert sheet["height"] <= PHONE_HEIGHT * 0.5, sheet
    _, y = seat_page_point(page, viewer_event, seat)
    map_top = page.locator(".seatmap-map").bounding_box()["y"]
    assert map_top < y < sheet["y"] - 10, (y, sheet)
    screenshot(page, "phone-cart-sheet")


def test_a_finger_holds_only_where_seats_are_44px_apart_else_the_map_zooms_in(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = phone_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    seat = viewer_event.free_seats(1, skip=21)[0]
    zoom = go_to_seat(page, viewer_event, seat)
    wait_for_seat_drawn(page, seat)
    seats = viewer_event.venue.seats
    x, y = viewer_event.place(seat)
    gaps = np.hypot(seats.x - x, seats.y - y)
    gaps[seat] = np.inf
    spacing_px = float(gaps.min()) * viewer_state(page, f"v.grid.scale0 * Math.pow(2, {zoom})")
    assert spacing_px < 44, "at the detail zoom seats are closer than a finger"
    tap_seat(page, viewer_event, seat)
    page.wait_for_function(f"() => window.seatmapViewer.map.getZoom() > {zoom}", timeout=5000)
    page.wait_for_timeout(400)
    assert not viewer_state(page, f"v.cart.has({seat})")
    new_zoom = viewer_state(page, "v.map.getZoom()")
    assert spacing_px * math.pow(2, new_zoom - zoom) >= 44
    screenshot(page, "phone-seat-zoom")
    wait_for_seat_drawn(page, seat)
    tap_seat(page, viewer_event, seat)
    page.wait_for_function(f"() => window.seatmapViewer.cart.has({seat})", timeout=5000)


def test_a_tap_on_a_wheelchair_place_asks_before_holding_it(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = phone_page
    seats = viewer_event.venue.seats
    place = int(np.flatnonzero(seats.seat_type == 1)[3])
    open_viewer(page, live_server.url, viewer_event.event_id)
    go_to_seat(page, viewer_event, place, zoom_offset=1)
    wait_for_seat_drawn(page, place)
    tap_seat(page, viewer_event, place)
    confirm = page.locator(".seatmap-message button", has_text="I need this place")
    confirm.wait_for(state="visible", timeout=5000)
    assert not viewer_state(page, f"v.cart.has({place})")
    assert "wheelchair" in page.inner_text(".seatmap-message")
    confirm.tap()
    page.wait_for_function(f"() => window.seatmapViewer.cart.has({place})", timeout=5000)


def test_continue_takes_the_holds_to_the_checkout_page_the_event_names(
    phone_page: Any, live_server: LiveServer, viewer_event: ViewerEvent, rule_events: RuleEvents
) -> None:
    page = phone_page
    open_viewer(page, live_server.url, rule_events.checkout)
    seat = viewer_event.free_seats(1, skip=27)[0]
    hold_by_tap(page, viewer_event, seat)
    tokens = viewer_state(page, "v.cart.tokens()")
    page.locator(".seatmap-cart-bar").tap()
    page.locator(".seatmap-continue").tap()
    page.wait_for_url(re.compile(r"/healthz\?"), timeout=10_000)
    query = parse_qs(urlsplit(page.url).query)
    assert query["from"] == ["seatmap"]
    assert query["event"] == [str(rule_events.checkout)]
    assert query["hold"] == tokens
