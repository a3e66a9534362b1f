"""The overview coloured by price as well as by availability (desktop, 1280x800).

Below the detail zoom the tiles colour sections by their free seats; "Colour by
price" (a toggle button beside the legend) fills every section in the colour of
its price level, lists the price range of each colour, and pressed again gives
the tiles' colours back. Colours are read from screenshot pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.conftest import LiveServer
from tests.viewer.conftest import (
    ViewerEvent,
    near,
    open_viewer,
    pixel_rgb,
    screenshot,
    viewer_state,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOGGLE = ".seatmap-colour-toggle"
FILLS = ".seatmap-price-fill"

# Where each candidate point is on the page, and whether the map itself is there (no
# control, message or bar over it; tiles take no pointer events, so the map's own
# elements answer): [[page x, page y, clear], ...].
PAGE_POINTS = """(points) => {
    const v = window.seatmapViewer;
    const box = v.map.getContainer();
    const pane = box.querySelector('.leaflet-map-pane');
    const r = box.getBoundingClientRect();
    return points.map(([x, y]) => {
        const p = v.map.latLngToContainerPoint([y, x]);
        const px = p.x + r.left;
        const py = p.y + r.top;
        const inside = p.x > 20 && p.y > 20 && p.x < r.width - 20 && p.y < r.height - 20;
        const el = document.elementFromPoint(px, py);
        return [px, py, inside && !!el && (el === box || pane.contains(el))];
    });
}"""

# The colour legend: [[from cents, to cents, "#rrggbb"], ...] cheapest first.
LEVELS = """() => Array.from(document.querySelectorAll('.seatmap-price-levels li')).map((li) =>
    [Number(li.dataset.fromCents), Number(li.dataset.toCents),
     li.querySelector('.seatmap-price-swatch').dataset.color])"""


def cheapest_prices(event: ViewerEvent) -> dict[int, int]:
    """Each section with seats: the price (cents) of its cheapest seats."""
    seats = event.venue.seats
    price = np.array([c.price_cents for c in event.venue.categories])
    out: dict[int, int] = {}
    for section in event.venue.sections:
        inside = seats.section == section.index
        if inside.any():
            out[section.index] = int(price[seats.category[inside]].min())
    return out


def inner_point(event: ViewerEvent, section_index: int) -> tuple[float, float]:
    """A point well inside a section, in venue units: from the mean of its outline's
    corners a third of the way to its first corner (clear of the name in its middle)."""
    outline = np.array(event.venue.sections[section_index].outline, dtype=float)
    mean = outline.mean(axis=0)
    x, y = mean + (outline[0] - mean) / 3
    return float(x), float(y)


def tiles_settled(page: Any) -> None:
    """Wait until the tiles in view are loaded and faded in."""
    page.wait_for_function("() => !window.seatmapViewer.tiles.isLoading()", timeout=15_000)
    page.wait_for_timeout(400)


def close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int) -> bool:
    """True when two RGB colours are within `tolerance` per channel."""
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_the_overview_colours_sections_by_price_and_back_by_availability(
    desktop_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    page = desktop_page
    open_viewer(page, live_server.url, viewer_event.event_id)
    assert viewer_state(page, "v.map.getZoom() < v.grid.detailZoom")
    # Section names off while pixels are read (they sit in the middle of sections).
    page.add_style_tag(content=".seatmap-bare .seatmap-section-label { visibility: hidden; }")
    page.evaluate("() => document.body.classList.add('seatmap-bare')")
    tiles_settled(page)

    # The cheapest and the dearest section among those in clear view.
    prices = cheapest_prices(viewer_event)
    indices = sorted(prices)
    where = page.evaluate(PAGE_POINTS, [list(inner_point(viewer_event, i)) for i in indices])
    clear = {i: (float(w[0]), float(w[1])) for i, w in zip(indices, where, strict=True) if w[2]}
    assert len(clear) >= 2, where
    cheap = min(clear, key=lambda i: prices[i])
    dear = max(clear, key=lambda i: prices[i])
    assert prices[cheap] < prices[dear]
    before = pixel_rgb(page, *clear[cheap])

    # Price: with the keyboard, like any button.
    page.focus(TOGGLE)
    page.keyboard.press("Enter")
    assert page.get_attribute(TOGGLE, "aria-pressed") == "true"
    page.wait_for_selector(FILLS, timeout=10_000)
    assert page.locator(".seatmap-price-levels").is_visible()
    assert page.locator(f"{FILLS}.leaflet-interactive").count() == 0  # never takes a tap
    page.wait_for_timeout(100)
    levels = page.evaluate(LEVELS)
    assert len(levels) >= 2, levels

    def legend_colour(cents: int) -> str:
        return next(str(c) for lo, hi, c in levels if lo <= cents <= hi)

    want_cheap, want_dear = legend_colour(prices[cheap]), legend_colour(prices[dear])
    assert want_cheap != want_dear, levels
    got_cheap, got_dear = pixel_rgb(page, *clear[cheap]), pixel_rgb(page, *clear[dear])
    assert near(got_cheap, want_cheap), (got_cheap, want_cheap)
    assert near(got_dear, want_dear), (got_dear, want_dear)
    assert not close(got_cheap, got_dear, 40), (got_cheap, got_dear)
    page.evaluate("() => document.body.classList.remove('seatmap-bare')")
    screenshot(page, "overview-by-price")
    page.evaluate("() => document.body.classList.add('seatmap-bare')")

    # From the detail zoom on the fills step aside; back at the whole venue they return.
    viewer_state(page, "v.map.setZoom(v.grid.detailZoom, {animate: false}) && true")
    assert page.locator(FILLS).count() == 0
    page.evaluate("() => window.seatmapViewer.fitVenue(false)")
    page.wait_for_selector(FILLS, timeout=5000)

    # Availability again: the tiles' colour is back.
    page.click(TOGGLE)
    assert page.get_attribute(TOGGLE, "aria-pressed") == "false"
    assert page.locator(FILLS).count() == 0
    assert not page.locator(".seatmap-price-levels").is_visible()
    tiles_settled(page)
    after = pixel_rgb(page, *clear[cheap])
    assert close(after, before, 12), (after, before)
