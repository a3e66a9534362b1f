"""Fixtures of the browser tests: a 100,000-seat event, headless Chromium, page helpers.

Chromium is Debian's (/usr/bin/chromium, or SEATMAP_CHROMIUM), driven by
Playwright for Python; WebGL runs in software through SwiftShader. Screenshots
go to artifacts/screenshots/. The event's venue is the generated 100,000-seat
stadium; its pyramid is rendered once per module before the pages ask for tiles.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from seatmap.context import ServiceContext
from seatmap.events import EventRules
from seatmap.model import Venue
from seatmap.settings import Settings
from tests.venues import store_event

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("SEATMAP_CHROMIUM", "/usr/bin/chromium")
BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WEBGL_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--use-gl=angle"]
NO_WEBGL_ARGS = ["--disable-3d-apis", "--disable-webgl"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
STADIUM_SEATS = 100_000


@dataclass(frozen=True)
class ViewerEvent:
    """An event the browser tests share, and its venue model."""

    event_id: int
    venue: Venue

    def free_seats(self, count: int, skip: int = 0) -> list[int]:
        """Plain seats (not accessible, not companion) in the middle of distinct rows."""
        seats = self.venue.seats
        out: list[int] = []
        rows = self.venue.rows
        step = max(1, len(rows) // (count + skip + 1))
        for row in rows[step // 2 :: step]:
            if len(row.seat_indices) < 6:
                continue
            index = row.seat_indices[len(row.seat_indices) // 2]
            if not seats.accessible[index] and seats.seat_type[index] == 0:
                out.append(index)
        return out[skip : skip + count]

    def place(self, seat_index: int) -> tuple[float, float]:
        """A seat's centre in venue units."""
        return float(self.venue.seats.x[seat_index]), float(self.venue.seats.y[seat_index])


def stadium() -> Venue:
    """The 100,000-seat stadium of the acceptance criteria."""
    from seatmap.generator import generate_venue

    return generate_venue("stadium", STADIUM_SEATS, seed=1)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def viewer_event(ctx: ServiceContext, settings: Settings) -> ViewerEvent:
    """The stadium stored with an event (no orphan rule: tests hold scattered seats)."""
    from lockservice.reconcile import ensure_event_state
    from tileserver.render.prerender import ensure_pyramid

    venue = stadium()
    event_id = await store_event(ctx, venue, EventRules(no_orphans=False), title="Stadium Night")
    await ensure_event_state(ctx, event_id)
    await asyncio.to_thread(ensure_pyramid, venue, settings.tiles_dir, 2, False)
    return ViewerEvent(event_id, venue)


@pytest.fixture(scope="module")
def playwright(viewer_event: ViewerEvent) -> Iterator[Any]:
    """One Playwright driver per module.

    It depends on the event so that the event is made first: the sync driver keeps
    an event loop running in this thread, after which async fixtures cannot run.
    """
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright_sync.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    """Headless Chromium with WebGL in software."""
    b = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=BASE_ARGS + WEBGL_ARGS
    )
    yield b
    b.close()


@pytest.fixture
def desktop_page(browser: Any) -> Iterator[Any]:
    """A new 1280x800 page in its own context, closed after the test however it ends."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot as a test artifact and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def open_viewer(page: Any, base_url: str, event_id: int, query: str = "") -> None:
    """Load the viewer and wait until its first tiles are painted."""
    page.goto(f"{base_url}/viewer/?event={event_id}{query}")
    page.wait_for_function(
        "() => window.seatmapViewer && window.seatmapViewer.metrics.firstTilesMs", timeout=20_000
    )


def go_to_seat(page: Any, event: ViewerEvent, seat_index: int, zoom_offset: int = 0) -> int:
    """Centre the map on a seat at the detail zoom; returns that zoom."""
    x, y = event.place(seat_index)
    return int(
        page.evaluate(
            """([x, y, dz]) => {
                const v = window.seatmapViewer;
                const z = v.grid.detailZoom + dz;
                v.map.setView([y, x], z, {animate: false});
                return z;
            }""",
            [x, y, zoom_offset],
        )
    )


def wait_for_seat_drawn(page: Any, seat_index: int, timeout_ms: int = 10_000) -> None:
    """Wait until the WebGL layer has the seat loaded and has drawn a frame with seats."""
    page.wait_for_function(
        """(i) => {
            const v = window.seatmapViewer;
            return v.store && v.store.slotOfSeat(i) >= 0 && v.seatLayer.drawnSeats > 0;
        }""",
        arg=seat_index,
        timeout=timeout_ms,
    )


def seat_page_point(page: Any, event: ViewerEvent, seat_index: int) -> tuple[float, float]:
    """Where a seat is on the page, in CSS pixels."""
    x, y = event.place(seat_index)
    point = page.evaluate(
        """([x, y]) => {
            const v = window.seatmapViewer;
            const p = v.map.latLngToContainerPoint([y, x]);
            const r = v.map.getContainer().getBoundingClientRect();
            return [p.x + r.left, p.y + r.top];
        }""",
        [x, y],
    )
    return float(point[0]), float(point[1])


def pixel_rgb(page: Any, x: float, y: float) -> tuple[int, int, int]:
    """The colour the page shows at a CSS pixel (from a 1x1 screenshot clip)."""
    import skia

    png = page.screenshot(clip={"x": int(x), "y": int(y), "width": 1, "height": 1})
    image = skia.Image.MakeFromEncoded(png)
    pixels = np.asarray(image.toarray(colorType=skia.kRGBA_8888_ColorType))
    r, g, b = (int(v) for v in pixels.reshape(-1, 4)[0][:3])
    return r, g, b


def near(colour: tuple[int, int, int], hex_colour: str, tolerance: int = 40) -> bool:
    """True when an RGB colour is within `tolerance` per channel of "#rrggbb"."""
    want = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(colour, want, strict=True))


def wait_until(predicate: Any, timeout_s: float = 5.0, interval_s: float = 0.05) -> bool:
    """Poll a predicate until it holds or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
