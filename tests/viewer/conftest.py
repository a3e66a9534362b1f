"""Fixtures of the browser tests: a 100,000-seat event, headless Chromium, page helpers.

Chromium is Debian's (/usr/bin/chromium, or SEATMAP_CHROMIUM), driven by
Playwright for Python; WebGL runs in software through SwiftShader. Screenshots
go to artifacts/screenshots/. The event's venue is the generated 100,000-seat
stadium, stored and rendered once per test run (every browser module shares it).
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

import httpx
import numpy as np
import pytest
import pytest_asyncio

from lockservice.reconcile import ensure_event_state
from seatmap.context import ServiceContext
from seatmap.events import EventRules, create_event, get_event
from seatmap.model import Venue
from seatmap.settings import Settings
from tests.conftest import API_KEY_HEADER, LiveServer
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

    def gap_rule_seat(self, first_row: int) -> tuple[int, list[int]]:
        """The second seat of the first plain row (8+ seats, its first four plain) from
        row `first_row` on: holding it alone would leave the first seat as a single gap.
        Returns that seat and the row's seats."""
        seats = self.venue.seats
        row = next(
            r
            for r in self.venue.rows[first_row:]
            if len(r.seat_indices) >= 8
            and not any(seats.accessible[i] or seats.seat_type[i] for i in r.seat_indices[:4])
        )
        return int(row.seat_indices[1]), [int(i) for i in row.seat_indices]

    def place(self, seat_index: int) -> tuple[float, float]:
        """A seat's centre in venue units."""
        return float(self.venue.seats.x[seat_index]), float(self.venue.seats.y[seat_index])


# The first test that needs `viewer_event` pays for rendering the stadium's tiles
# (100,000 seats, zooms 0-7, 1x and 2x: 2-5 minutes on two busy cores).
SETUP_TIMEOUT_S = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test that may set up the stadium room for that setup."""
    for item in items:
        needs = "viewer_event" in getattr(item, "fixturenames", ())
        if needs and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SETUP_TIMEOUT_S))


def stadium() -> Venue:
    """The 100,000-seat stadium of the acceptance criteria."""
    from seatmap.generator import generate_venue

    return generate_venue("stadium", STADIUM_SEATS, seed=1)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def viewer_event(ctx: ServiceContext, settings: Settings) -> ViewerEvent:
    """The stadium stored with an event (no orphan rule: tests hold scattered seats)."""
    from lockservice.reconcile import ensure_event_state
    from tileserver.render.prerender import ensure_pyramid

    venue = stadium()
    event_id = await store_event(ctx, venue, EventRules(no_orphans=False), title="Stadium Night")
    await ensure_event_state(ctx, event_id)
    await asyncio.to_thread(ensure_pyramid, venue, settings.tiles_dir, 2, False)
    return ViewerEvent(event_id, venue)


@dataclass(frozen=True)
class RuleEvents:
    """More events on the stadium, each with the hold rules one kind of test needs."""

    warn_soon: int  # holds last 35 s (the 30 s warning comes after 5 s), up to 60 s in all
    expire_soon: int  # holds last 10 s and cannot be extended
    orphans: int  # the no-single-seat-gap rule is on
    checkout: int  # "Continue" goes to the app's /healthz, standing in for a checkout page


async def add_event(ctx: ServiceContext, like_event_id: int, rules: EventRules, title: str) -> int:
    """A new event on the venue of an existing one (no second copy of the venue)."""
    async with ctx.pool.acquire() as conn:
        venue_id = (await get_event(conn, like_event_id)).venue_id
        event = await create_event(conn, venue_id, title, rules=rules)
    await ensure_event_state(ctx, event.id)
    return event.id


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def rule_events(
    ctx: ServiceContext, viewer_event: ViewerEvent, live_server: LiveServer
) -> RuleEvents:
    """Events on the stadium with short holds, and one with the orphan rule."""
    return RuleEvents(
        warn_soon=await add_event(
            ctx,
            viewer_event.event_id,
            EventRules(hold_ttl_s=35, max_hold_s=60, no_orphans=False),
            "Short Hold Night",
        ),
        expire_soon=await add_event(
            ctx,
            viewer_event.event_id,
            EventRules(hold_ttl_s=10, max_hold_s=10, no_orphans=False),
            "Brief Hold Night",
        ),
        orphans=await add_event(ctx, viewer_event.event_id, EventRules(), "Strict Night"),
        checkout=await add_event(
            ctx,
            viewer_event.event_id,
            EventRules(no_orphans=False, checkout_url=f"{live_server.url}/healthz?from=seatmap"),
            "Checkout Night",
        ),
    )


@pytest.fixture(scope="module")
def playwright(viewer_event: ViewerEvent, rule_events: RuleEvents) -> Iterator[Any]:
    """One Playwright driver per module.

    It depends on the events so that they are made first: the sync driver keeps
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


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A 360x640 touch screen at device scale 2, in its own context."""
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield context.new_page()
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot as a test artifact and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def open_viewer(page: Any, base_url: str, event_id: int, query: str = "") -> None:
    """Load the viewer and wait until its first tiles are painted and all of it is built."""
    page.goto(f"{base_url}/viewer/?event={event_id}{query}")
    page.wait_for_function(
        "() => window.seatmapViewer && window.seatmapViewer.metrics.firstTilesMs"
        " && window.seatmapViewer.metrics.readyMs",
        timeout=20_000,
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


def viewer_state(page: Any, expression: str) -> Any:
    """Evaluate an expression with `v` bound to the page's viewer."""
    return page.evaluate(f"() => {{ const v = window.seatmapViewer; return {expression}; }}")


class Buyer:
    """Another buyer, through the HTTP API: holds, releases and (as the box office) sells."""

    def __init__(self, base_url: str) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=10)
        self.token = self._client.post("/sessions", json={}).json()["token"]

    def hold(self, event_id: int, seat_index: int) -> str:
        """Hold one seat; returns the hold token."""
        reply = self._client.post(
            f"/events/{event_id}/holds",
            json={"seats": [seat_index]},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert reply.status_code == 201, reply.text
        return str(reply.json()["hold_token"])

    def release(self, event_id: int, hold_token: str) -> None:
        """Release a hold of this buyer's."""
        reply = self._client.delete(
            f"/events/{event_id}/holds/{hold_token}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert reply.status_code in (200, 204), reply.text

    def sell(self, event_id: int, seat_index: int) -> None:
        """Hold a seat and confirm the sale with the operator key."""
        hold_token = self.hold(event_id, seat_index)
        reply = self._client.post(
            f"/events/{event_id}/holds/{hold_token}/confirm",
            headers={**API_KEY_HEADER, "Idempotency-Key": f"sell-{event_id}-{seat_index}"},
        )
        assert reply.status_code in (200, 201), reply.text

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


def seat_words(event: ViewerEvent, seat_index: int) -> str:
    """ "row F, seat 7": how the viewer names a seat (after the section)."""
    venue = event.venue
    row = next(r for r in venue.rows if seat_index in r.seat_indices)
    return f"row {row.label}, seat {venue.seats.labels[seat_index]}"


def tap_seat(page: Any, event: ViewerEvent, seat_index: int) -> None:
    """Tap (touch) the centre of a seat."""
    x, y = seat_page_point(page, event, seat_index)
    page.touchscreen.tap(x, y)
