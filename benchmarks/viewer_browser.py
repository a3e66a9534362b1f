"""The viewer benchmark's measurements in headless Chromium, driven by Playwright."""

from __future__ import annotations

import os
import statistics
from typing import Any

CHROMIUM = os.environ.get("SEATMAP_CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--use-gl=angle",
]
VIEWPORT = {"width": 1280, "height": 800}
# Quiet time after which the first view counts as complete.
SETTLE_MS = 800
WAIT_TILES = "() => window.seatmapViewer && window.seatmapViewer.metrics.firstTilesMs"
WAIT_READY = "() => window.seatmapViewer.metrics.readyMs"
# The slow profile: a poor mobile link (400 ms round trip, 400 kbit/s each way) and a
# phone's CPU (4x slower than this machine's).
SLOW_LATENCY_MS = 400
SLOW_BYTES_PER_S = 400_000 // 8
SLOW_CPU_FACTOR = 4


def first_view(browser: Any, url: str, slow: bool = False) -> dict[str, Any]:
    """Navigation to first tiles painted, and the bytes and requests of the first view.

    `slow` runs it under the slow profile, in a fresh context (empty cache).
    """
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    if slow:
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": SLOW_LATENCY_MS,
                "downloadThroughput": SLOW_BYTES_PER_S,
                "uploadThroughput": SLOW_BYTES_PER_S,
            },
        )
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": SLOW_CPU_FACTOR})
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    cdp.on(
        "Network.dataReceived",
        lambda e: sizes.__setitem__(
            e["requestId"], sizes.get(e["requestId"], 0) + int(e["encodedDataLength"])
        ),
    )
    page.goto(url)
    page.wait_for_function(WAIT_TILES, timeout=60_000)
    page.wait_for_function(WAIT_READY, timeout=60_000)
    first_tiles_ms, map_tiles_ms, ready_ms = page.evaluate(PAINTED)
    # What the page had asked for by then (resource timing, from navigation).
    before = page.evaluate(BEFORE_FIRST_TILES)
    # Settle: whatever the first view still loads (idle-time section list, ...).
    last = -1
    while last != len(sizes):
        last = len(sizes)
        page.wait_for_timeout(SETTLE_MS)
    by_kind: dict[str, list[int]] = {}
    for rid, u in urls.items():
        kind = _kind(u)
        by_kind.setdefault(kind, []).append(sizes.get(rid, 0))
    result = {
        "first_tiles_ms": round(first_tiles_ms, 1),
        "map_tiles_ms": round(map_tiles_ms, 1),
        "ready_ms": round(ready_ms or 0, 1),
        "before_first_tiles": before,
        "requests": len(urls),
        "bytes": sum(sizes.get(rid, 0) for rid in urls),
        "by_kind": {k: {"requests": len(v), "bytes": sum(v)} for k, v in sorted(by_kind.items())},
    }
    context.close()
    return result


# From navigation: the first tiles painted (by the page's first view, which shows the map's
# first tiles before its scripts load, else by the map), the map's own tiles in, and the
# viewer built.
PAINTED = """() => {
    const m = window.seatmapViewer.metrics;
    return [m.firstViewMs || m.firstTilesMs, m.firstTilesMs, m.readyMs];
}"""
# Requests started before the first tiles were painted: count, bytes on the wire, scripts.
BEFORE_FIRST_TILES = """() => {
    const m = window.seatmapViewer.metrics;
    const t = m.firstViewMs || m.firstTilesMs;
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource').filter((r) => r.startTime <= t);
    const scripts = res.filter((r) => /\\.m?js(\\?|$)/.test(r.name));
    return {
        requests: res.length + 1,
        bytes: res.reduce((n, r) => n + r.transferSize, nav ? nav.transferSize : 0),
        tiles: res.filter((r) => r.name.includes('/tiles/')).length,
        scripts: scripts.map((r) => r.name.replace(location.origin, '')),
        timeline: res.map((r) => [r.name.replace(location.origin, ''), Math.round(r.startTime),
            Math.round(r.responseEnd), r.transferSize]),
    };
}"""


def _kind(url: str) -> str:
    path = url.split("?")[0]
    if "/tiles/" in path:
        return "tiles"
    if path.endswith((".js", ".mjs")):
        return "script"
    if path.endswith(".css"):
        return "css"
    if path.endswith("/stream"):
        return "stream"
    if path.endswith((".json", ".bin")) or "/seats/" in path:
        return "data"
    return "page"


def seats_after_detail(browser: Any, url: str, places: list[tuple[float, float]]) -> list[float]:
    """For each place: zoom from the overview to the detail zoom, time until seats are drawn."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(WAIT_TILES, timeout=60_000)
    out = []
    for x, y in places:
        page.evaluate("() => window.seatmapViewer.fitVenue(false)")
        page.wait_for_timeout(300)
        ms = page.evaluate(
            """([x, y]) => new Promise((resolve) => {
                const v = window.seatmapViewer;
                v.once('seatsdrawn', (e) => resolve(e.ms));
                v.map.setView([y, x], v.grid.detailZoom, {animate: false});
            })""",
            [x, y],
        )
        out.append(float(ms))
    context.close()
    return out


PAN_LOOP = """async ([frames, stepPx]) => {
    const v = window.seatmapViewer;
    const layer = v.seatLayer;
    const times = [];
    const scripts = [];
    const drawn = [];
    for (let f = 0; f < frames + 10; f++) {
        await new Promise((r) => requestAnimationFrame(r));
        const a = (f / 60) * 2 * Math.PI;
        const t0 = performance.now();
        const dx = Math.round(stepPx * Math.cos(a));
        v.map.panBy([dx, Math.round(stepPx * Math.sin(a))], {animate: false});
        const t1 = performance.now();
        layer.finish();
        const t2 = performance.now();
        if (f >= 10) { times.push(t2 - t0); scripts.push(t1 - t0); drawn.push(layer.drawnSeats); }
    }
    return {times, scripts, drawn};
}"""


def pan_frames(browser: Any, url: str, centre: tuple[float, float], frames: int) -> dict[str, Any]:
    """Frame times while panning at the detail zoom with every seat loaded."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(WAIT_TILES, timeout=60_000)
    page.evaluate(
        """([x, y]) => {
            const v = window.seatmapViewer;
            v.map.setView([y, x], v.grid.detailZoom, {animate: false});
        }""",
        list(centre),
    )
    loaded = page.evaluate(
        "() => window.seatmapViewer.store.ensureAll().then(() => window.seatmapViewer.store.count)"
    )
    page.wait_for_timeout(500)
    result = page.evaluate(PAN_LOOP, [frames, 12])
    context.close()
    times = sorted(result["times"])
    scripts = sorted(result["scripts"])
    return {
        "script_median_ms": round(statistics.median(scripts), 3),
        "seats_loaded": loaded,
        "seats_drawn_median": statistics.median(result["drawn"]),
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "frames": len(times),
    }


def measure_slow(base: str, event_id: int, runs: int) -> dict[str, Any]:
    """The first view under the slow profile only, `runs` times each for full and lite."""
    from playwright.sync_api import sync_playwright

    viewer = f"{base}/viewer/?event={event_id}"
    out: dict[str, Any] = {"slow_full_runs": [], "slow_lite_runs": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        try:
            first_view(browser, viewer)  # warm the server's tile cache and the OS page cache
            for _ in range(runs):
                out["slow_full_runs"].append(first_view(browser, viewer, slow=True))
                out["slow_lite_runs"].append(first_view(browser, viewer + "&lite=1", slow=True))
        finally:
            browser.close()
    for mode in ("full", "lite"):
        runs_ = out[f"slow_{mode}_runs"]
        out[f"slow_{mode}"] = sorted(runs_, key=lambda r: r["first_tiles_ms"])[len(runs_) // 2]
    return out


def measure(
    base: str, event_id: int, frames: int, places: list[tuple[float, float]]
) -> dict[str, Any]:
    """Every browser figure, in one Chromium."""
    from playwright.sync_api import sync_playwright

    viewer = f"{base}/viewer/?event={event_id}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        try:
            first_view(browser, viewer)  # warm the server's tile cache and the OS page cache
            full = first_view(browser, viewer)
            lite = first_view(browser, viewer + "&lite=1")
            slow_full = first_view(browser, viewer, slow=True)
            slow_lite = first_view(browser, viewer + "&lite=1", slow=True)
            detail = seats_after_detail(browser, viewer, places)
            webgl = pan_frames(browser, viewer, places[0], frames)
            canvas = pan_frames(browser, viewer + "&renderer=canvas", places[0], frames)
        finally:
            browser.close()
    return {
        "full": full,
        "lite": lite,
        "slow_full": slow_full,
        "slow_lite": slow_lite,
        "seats_drawn_after_detail_ms": {
            "median": round(statistics.median(detail), 1),
            "max": round(max(detail), 1),
            "runs": [round(d, 1) for d in detail],
        },
        "pan_webgl": webgl,
        "pan_canvas2d": canvas,
        "pan_median_ratio": round(canvas["median_ms"] / max(webgl["median_ms"], 1e-6), 2),
        "pan_p95_ratio": round(canvas["p95_ms"] / max(webgl["p95_ms"], 1e-6), 2),
    }
