"""Desktop (1280x800) and keyboard-only buyers: a map they do not get lost in.

Section names at every zoom, a section jumped to framed and outlined with its
prices and free seats, best available and cart rows that bring their seats
into view, the buyer's own seats drawn without the "held by someone else" ring,
a compact tooltip; and with the keyboard, a list that takes the focus and gives
it back, counts that say what they count, and a rule's suggestion as a button.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.viewer.conftest import (
    RuleEvents,
    ViewerEvent,
    go_to_seat,
    near,
    open_viewer,
    pixel_rgb,
    screenshot,
    seat_page_point,
    viewer_state,
    wait_for_seat_drawn,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HELD = "#bc4c00"


def in_view(page: Any, event: ViewerEvent, seat: int) -> bool:
    """Whether a seat's centre is on the map."""
    x, y = event.place(seat)
    return bool(
        page.evaluate("([x, y]) => window.seatmapViewer.map.getBounds().contains([y, x])", [x, y])
    )


def section_name(event: ViewerEvent, seat: int) -> str:
    """The name of a seat's section."""
    return event.venue.sections[int(event.venue.seats.section[seat])].name


def test_section_names_and_prices_show_at_every_zoom_and_a_jump_frames_the_section(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    # The whole venue: names where they fit (with prices where there is room).
    page.locator(".seatmap-section-label >> visible=true").first.wait_for(timeout=10_000)
    names = {s.name for s in viewer_event.venue.sections}
    shown = page.locator(".seatmap-section-name >> visible=true").all_inner_texts()
    assert len(shown) >= 10 and set(shown) <= names, shown
    seat = viewer_event.free_seats(1, skip=23)[0]
    name = section_name(viewer_event, seat)
    deepest = viewer_state(page, "v.map.getMaxZoom()") - viewer_state(page, "v.grid.detailZoom")
    for offset in (-2, -1, 0, int(deepest)):
        go_to_seat(page, viewer_event, seat, zoom_offset=offset)
        page.wait_for_timeout(150)
        shown = page.evaluate(
            """() => Array.from(document.querySelectorAll(
                '.seatmap-section-chip, .seatmap-section-label'))
                .filter((el) => el.offsetParent !== null && !el.hidden)
                .map((el) => el.textContent)"""
        )
        assert any(name in text and "€" in text for text in shown), (offset, shown)
    # Jump to another section: framed, outlined, its prices and free seats said.
    venue = viewer_event.venue
    other = next(
        s for s in venue.sections if s.name != name and (venue.seats.section == s.index).any()
    )
    page.select_option(".seatmap-jump select", label=other.name)
    page.wait_for_selector(".seatmap-highlight-section", timeout=5000)
    page.wait_for_function(
        "() => document.querySelector('.seatmap-message').textContent.includes('free')",
        timeout=10_000,
    )
    message = page.inner_text(".seatmap-message")
    assert f"Section {other.name}" in message and "free" in message and "€" in message, message
    inside = venue.seats.section == other.index
    framed = page.evaluate(
        """([x0, y0, x1, y1]) => {
            const m = window.seatmapViewer.map;
            const a = m.latLngToContainerPoint([y0, x0]);
            const b = m.latLngToContainerPoint([y1, x1]);
            const s = m.getSize();
            return a.x >= 0 && a.y >= 0 && b.x <= s.x && b.y <= s.y
                && Math.max((b.x - a.x) / s.x, (b.y - a.y) / s.y) > 0.5;
        }""",
        [
            float(venue.seats.x[inside].min()),
            float(venue.seats.y[inside].min()),
            float(venue.seats.x[inside].max()),
            float(venue.seats.y[inside].max()),
        ],
    )
    assert framed
    screenshot(page, "section-jump")


def test_best_available_and_cart_rows_bring_their_seats_into_view_and_ring_them(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    page.click(".seatmap-best button[type=submit]")
    page.wait_for_function("() => window.seatmapViewer.cart.mine().size === 2", timeout=10_000)
    held = sorted(viewer_state(page, "Array.from(v.cart.mine())"))
    page.wait_for_function(
        "(n) => window.seatmapViewer.focus.highlights.ringed().length === n", arg=2, timeout=5000
    )
    assert all(in_view(page, viewer_event, s) for s in held)
    assert viewer_state(page, "v.map.getZoom() >= v.grid.detailZoom")
    assert sorted(viewer_state(page, "v.focus.highlights.ringed()")) == held
    screenshot(page, "best-available")
    # Back to the whole venue; a cart row flies to its seat.
    page.evaluate("() => window.seatmapViewer.fitVenue(false)")
    page.click(f".seatmap-cart-show[data-seat='{held[1]}']")
    page.wait_for_function(
        "(i) => window.seatmapViewer.focus.highlights.ringed().includes(i)",
        arg=held[1],
        timeout=5000,
    )
    assert in_view(page, viewer_event, held[1])
    assert viewer_state(page, "v.map.getZoom() >= v.grid.detailZoom")
    page.click(".seatmap-cart-actions button:has-text('Release all')")
    page.wait_for_function("() => window.seatmapViewer.cart.mine().size === 0")


def test_your_own_seat_has_no_held_by_someone_else_ring_and_the_tooltip_is_compact(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    seat = viewer_event.free_seats(1, skip=25)[0]
    go_to_seat(page, viewer_event, seat, zoom_offset=1)
    wait_for_seat_drawn(page, seat)
    # The tooltip: two short lines beside the seat, not a tall narrow column.
    x, y = seat_page_point(page, viewer_event, seat)
    page.mouse.move(x, y)
    page.wait_for_selector(".seatmap-tooltip", state="visible", timeout=5000)
    box = page.locator(".seatmap-tooltip").bounding_box()
    assert box["height"] <= 52 and box["width"] >= 1.5 * box["height"], box
    assert "Available" in page.inner_text(".seatmap-tooltip")
    with page.expect_request(lambda r: "/tiles/" in r.url and "v=" in r.url, timeout=5000):
        page.mouse.click(x, y)
    page.wait_for_function(f"() => window.seatmapViewer.cart.has({seat})", timeout=5000)
    page.mouse.move(5, 5)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(600)  # the reloaded tile (drawing this seat as held) fades in
    radius_px = viewer_state(page, "v.grid.scale0 * Math.pow(2, v.map.getZoom())") * float(
        viewer_event.venue.seats.radius[seat]
    )
    # Where the tile draws the held ring and the diamond leaves a gap: 45 degrees out, at 0.9 r.
    d = 0.9 * radius_px / math.sqrt(2)
    corners = [pixel_rgb(page, x + sx * d, y + sy * d) for sx in (-1, 1) for sy in (-1, 1)]
    assert not any(near(c, HELD, 50) for c in corners), corners
    screenshot(page, "own-seat")


def test_the_seat_list_takes_the_focus_counts_free_seats_and_gives_the_focus_back(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "List of free seats":
            break
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.activeElement.closest('.seatmap-list') !== null", timeout=5000
    )
    page.wait_for_selector(".seatmap-list summary", timeout=10_000)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"
    first = page.evaluate("() => document.activeElement.textContent")
    assert "in all" in first, first
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.activeElement.textContent.includes('free of')", timeout=10_000
    )
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.activeElement.textContent") == "List of free seats"


def test_a_rule_suggestion_is_a_button_that_holds_it(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent, rule_events: RuleEvents
) -> None:
    page = desktop_page
    second, row_seats = viewer_event.gap_rule_seat(len(viewer_event.venue.rows) // 3)
    open_viewer(page, live_server.url, rule_events.orphans)
    go_to_seat(page, viewer_event, second)
    page.evaluate(f"() => window.seatmapViewer.cart.hold({second})")
    button = page.locator(".seatmap-message button", has_text="instead")
    button.wait_for(state="visible", timeout=5000)
    assert not viewer_state(page, f"v.cart.has({second})")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.seatmapViewer.cart.mine().size > 0", timeout=5000)
    held = viewer_state(page, "Array.from(v.cart.mine())")
    assert set(held) <= set(row_seats)
    # The refusal gives way to what happened (the hold is reported once it is made).
    page.wait_for_function(
        "() => !document.querySelector('.seatmap-message-error')", timeout=5000
    )
