"""Standard map clients show the venue from tiles.json alone: Leaflet, OpenLayers, MapLibre GL.

Each page loads the event's TileJSON cross-origin, shows its tiles in the
client's default Web Mercator set-up and fits the view to `bounds`. The test
works out where seats must be from the document (a seat's zoom-0 pixel is a
fraction of `pixel_bounds`, which `bounds` spans in longitude and Mercator
y), asks the client where that longitude/latitude is on screen, and decodes
the page's screenshot there: the sold seat in the sold colour, the venue's
outermost seats in their category colours, every corner on screen. The
screenshots are kept as artifacts/screenshots/tilejson-<client>.png.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest

from tests.clients.conftest import ClientEvent, Sites, plain_seats
from tests.tileserver.conftest import decode

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

# Largest per-channel difference from the expected colour, anywhere in a 3 x 3 patch:
# allows for resampling in clients that scale tiles between zoom levels.
COLOUR_TOLERANCE = 40
PAGE_TIMEOUT_MS = 60_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def hex_rgb(color: str) -> npt.NDArray[np.int16]:
    """'#rrggbb' as an int16 array (room for differences)."""
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def mercator_y(lat: float) -> float:
    """Spherical Mercator y of a latitude (unitless; grows northwards)."""
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def seat_lonlat(doc: dict[str, Any], x: float, y: float) -> tuple[float, float]:
    """Where a venue point lies, from the document: `bounds` spans `pixel_bounds`."""
    west, south, east, north = doc["bounds"]
    _, _, width_px, height_px = doc["pixel_bounds"]
    fx = x * doc["venue_scale0"] / width_px
    fy = y * doc["venue_scale0"] / height_px
    top, bottom = mercator_y(north), mercator_y(south)
    lat = math.degrees(2 * math.atan(math.exp(top + fy * (bottom - top))) - math.pi / 2)
    return west + fx * (east - west), lat


def colour_distance(image: npt.NDArray[np.uint8], x: float, y: float,
                    colour: npt.NDArray[np.int16]) -> int:
    """The smallest largest-channel difference from `colour` in the 3 x 3 patch at (x, y)."""
    cx, cy = round(x), round(y)
    patch = image[cy - 1 : cy + 2, cx - 1 : cx + 2, :3].astype(np.int16)
    return int(np.abs(patch - colour).max(axis=2).min())


async def show(page: Any, sites: Sites, client: str, event_id: int) -> npt.NDArray[np.uint8]:
    """Open the client's page on the event's TileJSON; the screenshot once all tiles are in."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    tilejson = f"{sites.app_url}/events/{event_id}/tiles.json"
    await page.goto(f"{sites.partner_url}/{client}.html?tilejson={tilejson}")
    await page.wait_for_function("window.mapReady === true || window.mapError",
                                 timeout=PAGE_TIMEOUT_MS)
    assert not errors and not await page.evaluate("window.mapError || null"), errors
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return decode(await page.screenshot(path=SCREENSHOTS / f"tilejson-{client}.png"))


@pytest.mark.parametrize("client", ["leaflet", "openlayers", "maplibre"])
async def test_client_shows_the_whole_venue_with_seats_where_tilejson_says(
    page: Any, sites: Sites, client_event: ClientEvent, client: str,
) -> None:
    event_id, venue = client_event.event_id, client_event.venue
    async with httpx.AsyncClient() as http:
        doc = (await http.get(f"{sites.app_url}/events/{event_id}/tiles.json")).json()
    image = await show(page, sites, client, event_id)
    height, width = image.shape[:2]

    async def on_screen(x: float, y: float) -> tuple[float, float]:
        lon, lat = seat_lonlat(doc, x, y)
        px, py = await page.evaluate("([lon, lat]) => window.toPixel(lon, lat)", [lon, lat])
        return float(px), float(py)

    for corner in ((0, 0), (venue.width, 0), (0, venue.height), (venue.width, venue.height)):
        px, py = await on_screen(*corner)
        assert -1 <= px <= width + 1 and -1 <= py <= height + 1, (client, corner, px, py)

    seats = venue.seats
    sold = client_event.sold_seat
    px, py = await on_screen(float(seats.x[sold]), float(seats.y[sold]))
    sold_colour = hex_rgb(doc["status_colors"]["sold"])
    assert colour_distance(image, px, py, sold_colour) <= COLOUR_TOLERANCE, (client, px, py)

    colours = {c["index"]: hex_rgb(c["color"]) for c in doc["categories"]}
    plain = np.array(plain_seats(venue))
    xs, ys = seats.x[plain], seats.y[plain]
    outermost = {int(plain[np.argmin(xs)]), int(plain[np.argmax(xs)]),
                 int(plain[np.argmin(ys)]), int(plain[np.argmax(ys)])}
    for seat in outermost - {sold}:
        px, py = await on_screen(float(seats.x[seat]), float(seats.y[seat]))
        expected = colours[int(seats.category[seat])]
        assert colour_distance(image, px, py, expected) <= COLOUR_TOLERANCE, (client, seat, px, py)
        assert colour_distance(image, px, py, sold_colour) > COLOUR_TOLERANCE
