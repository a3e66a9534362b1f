"""Fixtures of the map-client tests: the app and two partner sites on loopback, and Chromium.

The app (the whole seatmap app, over real HTTP) listens on 127.0.0.1; the
partner pages are served from `http://localhost:<port>`, a different origin,
so every request the clients make is cross-origin, as on a partner's site.
The allowed partner may use the buyer API (`cors_origins`), the other may not.
Leaflet, OpenLayers and MapLibre GL come from `viewer/node_modules` (`make
install`). Chromium is Debian's, with WebGL in software (SwiftShader).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from lockservice.reconcile import ensure_event_state
from seatmap.context import ServiceContext
from seatmap.events import EventRules
from seatmap.model import Venue
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from seatmap_app.app import create_app
from tests.conftest import LiveServer
from tests.tileserver.conftest import set_status
from tests.venues import grid_venue, store_event
from tileserver.render.prerender import ensure_pyramid

async_playwright = pytest.importorskip("playwright.async_api").async_playwright

ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).resolve().parent / "pages"
NODE_MODULES = ROOT / "viewer" / "node_modules"
VENDOR = {
    "leaflet": NODE_MODULES / "leaflet" / "dist",
    "ol": NODE_MODULES / "ol",
    "maplibre-gl": NODE_MODULES / "maplibre-gl" / "dist",
}
CHROMIUM = os.environ.get("SEATMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking",
                 "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


@dataclass(frozen=True)
class ClientEvent:
    """The event the clients show, its venue and the seat marked sold in it."""

    event_id: int
    venue: Venue
    sold_seat: int


@dataclass(frozen=True)
class Sites:
    """Where the app and the two partner sites answer."""

    app_url: str
    partner_url: str  # may use the buyer API
    stranger_url: str  # may read, not hold


def plain_seats(venue: Venue) -> list[int]:
    """Seats drawn as plain discs (not accessible, not wheelchair places or companions)."""
    seats = venue.seats
    return [i for i in range(venue.seat_count)
            if not seats.accessible[i] and seats.seat_type[i] == 0]


@pytest_asyncio.fixture(scope="module")
async def client_event(ctx: ServiceContext, settings: Settings) -> ClientEvent:
    """Two sections of 12 rows x 20 seats; seat LOD from zoom 0, one seat sold."""
    venue = grid_venue(sections=2, rows=12, seats_per_row=20, name="Client Hall")
    event_id = await store_event(ctx, venue, EventRules(no_orphans=False), title="Client Night")
    await ensure_event_state(ctx, event_id)
    await asyncio.to_thread(ensure_pyramid, venue, settings.tiles_dir, 1, False)
    plain = plain_seats(venue)
    sold = plain[len(plain) // 3]
    await set_status(ctx, event_id, [sold], SeatStatus.SOLD)
    return ClientEvent(event_id, venue, sold)


def _partner_site() -> Starlette:
    missing = [str(path) for path in VENDOR.values() if not path.is_dir()]
    if missing:
        pytest.skip(f"map clients not installed (run `make install`): {', '.join(missing)}")
    mounts = [Mount(f"/vendor/{name}", StaticFiles(directory=path))
              for name, path in VENDOR.items()]
    return Starlette(routes=[*mounts, Mount("/", StaticFiles(directory=PAGES))])


@pytest.fixture(scope="module")
def sites(settings: Settings) -> Iterator[Sites]:
    """The app on 127.0.0.1 allowing one partner origin; both partner sites on localhost."""
    partner = LiveServer(_partner_site())
    stranger = LiveServer(_partner_site())
    partner_url = f"http://localhost:{partner.port}"
    app = LiveServer(create_app(settings.with_overrides(cors_origins=(partner_url,))))
    for server in (partner, stranger, app):
        server.start()
    try:
        yield Sites(app.url, partner_url, f"http://localhost:{stranger.port}")
    finally:
        for server in (app, partner, stranger):
            server.stop()


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium (software WebGL) driven by Playwright's asyncio API."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh 640 x 400 page in its own context, closed however the test ends."""
    context = await browser.new_context(viewport={"width": 640, "height": 400})
    try:
        yield await context.new_page()
    finally:
        await context.close()
