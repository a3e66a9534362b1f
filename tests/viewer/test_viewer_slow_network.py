"""The first view on a slow link: what it asks for, and in what order.

The profile is a poor mobile link and a phone's CPU (400 ms round trip, 400 kbit/s
each way, CPU 4x slower), set through the Chrome DevTools Protocol. These tests check
what the first view needs, not how long it takes (timings are the benchmark's,
benchmarks/viewer.py): the page paints the first tiles before it asks for any script,
lite mode asks for no script beyond what holding a seat with a tap needs until its
map is in, and every tile is asked for once.

The bound on the first paint follows from the target (first tiles within 2.5 s in
lite mode): of those 2.5 s, two round trips (the page, then the tiles) take 0.8 s,
and in the remaining 1.7 s the link carries 1.7 x 50 KB = 85 KB. Requests are bounded
by the same two round trips: the page, then at most two waves of the browser's six
connections of tiles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import LiveServer
from tests.viewer.conftest import ViewerEvent

pytestmark = [pytest.mark.browser, pytest.mark.slow]

METAFILE = Path(__file__).resolve().parents[2] / "viewer" / "build" / "meta.json"
SLOW_NETWORK = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 // 8,
    "uploadThroughput": 400_000 // 8,
}
SLOW_CPU = 4
# What a tap needs to hold a seat in lite mode (and the code that starts the viewer).
TAP_TO_HOLD = {
    "boot.js", "lite.js", "SeatmapViewer.js", "FirstView.js", "ApiClient.js", "SafeStorage.js",
    "SessionHandoff.js", "Announcer.js", "VenueGrid.js", "VenueMap.js", "LiveTileLayer.js",
    "TileFormat.js", "MessageBar.js", "SeatInfo.js", "SeatStyle.js", "HoldCart.js",
    "HoldClock.js", "SeatPlaces.js", "MineMarkers.js", "TapHandler.js", "SeatActions.js",
    "CartOutcomes.js", "CartPanel.js", "CartBar.js",
}  # fmt: skip
FIRST_PAINT_MAX_BYTES = 85 * 1024
FIRST_PAINT_MAX_REQUESTS = 1 + 2 * 6

# Every resource the page asked for, from navigation: [path, start ms, bytes on the wire].
RESOURCES = """() => [performance.getEntriesByType('navigation')[0]]
    .concat(performance.getEntriesByType('resource'))
    .map((r) => [r.name.replace(location.origin, ''), r.startTime, r.transferSize])"""


# Every EventSource the page opens: [url, ms from navigation]. (An open stream has no
# resource timing entry: one is made only when a response ends.)
STREAMS = """(() => { const Native = window.EventSource; window.seatmapStreams = [];
    window.EventSource = function (url, init) {
        window.seatmapStreams.push([String(url), performance.now()]);
        return new Native(url, init); };
    window.EventSource.prototype = Native.prototype;
    Object.assign(window.EventSource, {CONNECTING: 0, OPEN: 1, CLOSED: 2}); })()"""


# Where an image is on the page: [src, left, top, width] in whole CSS pixels.
WHERE = """(img) => { const r = img.getBoundingClientRect();
    return [img.src, Math.round(r.left), Math.round(r.top), Math.round(r.width)]; }"""


def source_modules() -> dict[str, set[str]]:
    """Each built script (app/NAME.js) and the source modules bundled into it."""
    if not METAFILE.is_file():
        pytest.skip("viewer not built (make viewer)")
    outputs = json.loads(METAFILE.read_text())["outputs"]
    out: dict[str, set[str]] = {}
    for path, info in outputs.items():
        if path.endswith(".js"):
            modules = {
                "leaflet" if "node_modules/leaflet" in name else name.rsplit("/", 1)[-1]
                for name in info["inputs"]
            }
            out[path.rsplit("/", 1)[-1]] = modules
    return out


@pytest.fixture
def slow_page(browser: Any) -> Iterator[Any]:
    """A 1280x800 page in a fresh context (empty cache) behind the slow profile."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": SLOW_CPU})
    yield page
    context.close()


def open_slowly(page: Any, url: str) -> tuple[float, float, list[list[Any]], list[str]]:
    """Load the page until the map's own tiles are in: (first paint ms, map tiles ms,
    resources, every tile URL asked for)."""
    tiles: list[str] = []
    page.on("request", lambda r: tiles.append(r.url) if "/tiles/" in r.url else None)
    page.add_init_script(STREAMS)
    page.goto(url)
    page.wait_for_function(
        "() => window.seatmapViewer && window.seatmapViewer.metrics.firstTilesMs"
        " && window.seatmapViewer.metrics.readyMs",
        timeout=60_000,
    )
    painted, map_tiles = page.evaluate(
        "() => [window.seatmapFirstView.tilesMs, window.seatmapViewer.metrics.firstTilesMs]"
    )
    return float(painted), float(map_tiles), page.evaluate(RESOURCES), tiles


def test_lite_mode_paints_its_first_tiles_before_any_script_and_loads_only_tap_to_hold(
    slow_page: Any, live_server: LiveServer, viewer_event: ViewerEvent
) -> None:
    modules = source_modules()
    url = f"{live_server.url}/viewer/?event={viewer_event.event_id}&lite=1"
    painted, map_tiles, resources, tiles = open_slowly(slow_page, url)
    assert 0 < painted <= map_tiles

    first_paint = [r for r in resources if r[1] <= painted]
    assert not [r for r in first_paint if r[0].endswith(".js")], first_paint
    assert all(r[0].startswith(("/viewer/", "/events/")) for r in first_paint)
    assert {r[0].split("/")[3] for r in first_paint[1:]} == {"tiles"}, first_paint
    assert len(first_paint) <= FIRST_PAINT_MAX_REQUESTS, first_paint
    assert sum(r[2] for r in first_paint) <= FIRST_PAINT_MAX_BYTES, first_paint

    # Until the map's own tiles are in: Leaflet and the code a tap needs to hold a seat.
    before_map = [r[0] for r in resources if r[1] <= map_tiles]
    scripts = [p.rsplit("/", 1)[-1].split("?")[0] for p in before_map if p.endswith(".js")]
    assert scripts and all(s in modules for s in scripts), scripts
    loaded = set().union(*(modules[s] for s in scripts))
    assert "leaflet" in loaded and "TapHandler.js" in loaded and "HoldCart.js" in loaded
    assert loaded - {"leaflet"} <= TAP_TO_HOLD, sorted(loaded - TAP_TO_HOLD)
    # No seat data, no section documents, no live stream before the map is in.
    assert not [p for p in before_map if p.endswith(("/stream", ".json")) or "seats" in p]

    # The map asked for the first view's tiles again: the browser answered from memory.
    assert len(tiles) == len(set(tiles)), sorted(tiles)
    first = slow_page.evaluate("() => window.seatmapFirstView.urls")
    map_urls = slow_page.evaluate(
        "() => Object.values(window.seatmapViewer.tiles._tiles).map((t) => t.el.src)"
    )
    assert sorted(first) == sorted(map_urls)

    # The rest of the viewer came after the first tiles: keyboard, toolbar, live updates.
    slow_page.wait_for_function(
        "() => window.seatmapViewer.keyboard && window.seatmapViewer.live", timeout=60_000
    )
    later = [r[0] for r in slow_page.evaluate(RESOURCES) if r[1] > map_tiles]
    assert later, later
    streams = slow_page.evaluate("() => window.seatmapStreams")
    assert any(urlsplit(u).path.endswith("/stream") for u, _ in streams), streams
    assert all(ms > map_tiles for _, ms in streams), (map_tiles, streams)
    assert not slow_page.evaluate("() => !!document.querySelector('.seatmap-first-view')")


@pytest.mark.parametrize(
    ("viewport", "scale", "query"),
    [((1280, 800), 1, ""), ((360, 640), 2, "&lite=1"), ((1024, 700), 1, "")],
    ids=["desktop", "phone-lite", "small-desktop"],
)
def test_the_first_view_shows_the_tiles_the_map_opens_on(
    browser: Any,
    live_server: LiveServer,
    viewer_event: ViewerEvent,
    viewport: tuple[int, int],
    scale: int,
    query: str,
) -> None:
    """The page's first view and the map agree: the same tiles, in the same places."""
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        device_scale_factor=scale,
        is_mobile=scale > 1,
        has_touch=scale > 1,
    )
    try:
        page = context.new_page()
        tiles: list[str] = []
        page.on("request", lambda r: tiles.append(r.url) if "/tiles/" in r.url else None)
        page.goto(f"{live_server.url}/viewer/?event={viewer_event.event_id}{query}")
        # The first view stays until the map's tiles are in (its script loads only now).
        page.wait_for_function("() => window.seatmapFirstView && window.seatmapFirstView.tilesMs")
        placed = {
            "first": page.evaluate(
                f"() => Array.from(document.querySelectorAll("
                f"'.seatmap-first-view img')).map({WHERE})"
            )
        }
        page.wait_for_function(
            "() => window.seatmapViewer && window.seatmapViewer.metrics.readyMs"
            " && window.seatmapViewer.metrics.firstTilesMs",
            timeout=30_000,
        )
        placed["map"] = page.evaluate(
            f"() => Object.values(window.seatmapViewer.tiles._tiles).map((t) => t.el).map({WHERE})"
        )
        first = {p[0]: p[1:] for p in placed["first"]}
        leaflet = {p[0]: p[1:] for p in placed["map"]}
        assert first and set(first) == set(leaflet)
        for src, (left, top, width) in first.items():
            m = leaflet[src]
            assert abs(left - m[0]) <= 1 and abs(top - m[1]) <= 1 and abs(width - m[2]) <= 1, src
        assert len(tiles) == len(set(tiles))
    finally:
        context.close()
