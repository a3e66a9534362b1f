"""Viewer benchmark in headless Chromium on a 100,000-seat stadium.

Prints, for the full viewer and lite mode:

- time from navigation to the first tiles painted (the tile layer's `load`);
- bytes (as sent on the wire) and requests of the first view;
- time from reaching the detail zoom to the WebGL seats drawn (fresh areas);
- frame time while panning at the detail zoom with all 100,000 seats loaded,
  for the WebGL seat layer and for a Canvas 2D layer drawing the same seats
  with the same shapes, and their ratio (same run, same browser).

A frame is: pan the map one step (Leaflet fires `move`, the layer redraws),
then wait until the layer's pixels are really drawn (`readPixels` for WebGL,
`getImageData` for Canvas 2D), so deferred work is counted for both.

The server runs as a uvicorn subprocess against PostgreSQL and Redis: the
SEATMAP_DATABASE_URL / SEATMAP_REDIS_URL ones if set, else the local servers
on 127.0.0.1 (a throw-away database and key prefix), else embedded ones. The
pre-rendered pyramid is kept in data/bench-viewer/ between runs.

    python benchmarks/viewer.py [--seats 100000] [--frames 240] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seatmap.db import migrate  # noqa: E402
from seatmap.events import EventRules  # noqa: E402
from seatmap.generator import generate_venue  # noqa: E402
from seatmap.operations import import_venue, open_event  # noqa: E402
from seatmap.runtime import open_context  # noqa: E402
from seatmap.settings import Settings  # noqa: E402

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
DATA_DIR = ROOT / "data" / "bench-viewer"
# Quiet time after which the first view counts as complete.
SETTLE_MS = 800


@dataclass
class Backends:
    """Where the benchmark's server keeps its state, and how to clean it up."""

    database_url: str
    redis_url: str
    redis_prefix: str
    drop_database: str | None = None
    admin_url: str | None = None


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def backends() -> Iterator[Backends]:
    """Configured servers, else local ones with a throw-away database, else embedded ones."""
    prefix = f"seatmap-bench-viewer-{uuid.uuid4().hex[:8]}:"
    db_url = os.environ.get("SEATMAP_DATABASE_URL")
    redis_url = os.environ.get("SEATMAP_REDIS_URL")
    if db_url and redis_url:
        yield Backends(db_url, redis_url, prefix)
        return
    if _reachable("127.0.0.1", 5432) and _reachable("127.0.0.1", 6379):
        admin = os.environ.get(
            "SEATMAP_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        )
        name = f"seatmap_bench_viewer_{uuid.uuid4().hex[:8]}"
        asyncio.run(_create_database(admin, name))
        head, _, _ = admin.rpartition("/")
        found = Backends(f"{head}/{name}", "redis://127.0.0.1:6379/0", prefix, name, admin)
        try:
            yield found
        finally:
            asyncio.run(_drop_database(admin, name))
            _delete_keys(found.redis_url, prefix)
        return
    from seatmap.embedded import backends as embedded

    with embedded(DATA_DIR, None, None) as urls:
        yield Backends(urls.database_url, urls.redis_url, prefix)


async def _create_database(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    head, _, _ = admin.rpartition("/")
    conn = await asyncpg.connect(f"{head}/{name}")
    try:
        await migrate(conn)
    finally:
        await conn.close()


async def _drop_database(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _delete_keys(redis_url: str, prefix: str) -> None:
    import redis as syncredis

    client = syncredis.Redis.from_url(redis_url)
    batch = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for i in range(0, len(batch), 500):
        client.delete(*batch[i : i + 500])
    client.close()


async def prepare_event(settings: Settings, seats: int) -> tuple[int, dict[str, Any]]:
    """Generate and store the stadium, open an event, render its pyramid."""
    venue = generate_venue("stadium", seats, seed=1)
    started = time.perf_counter()
    async with open_context(settings) as ctx:
        venue_id = await import_venue(ctx, venue, "generated")
        event = await open_event(
            ctx, venue_id, "Benchmark night", rules=EventRules(no_orphans=False), progress=True
        )
    info = {
        "seats": venue.seat_count,
        "sections": len(venue.sections),
        "prepare_s": round(time.perf_counter() - started, 1),
    }
    return event.id, info


@contextmanager
def server(settings: Settings) -> Iterator[str]:
    """The whole app under uvicorn in a subprocess; yields its base URL."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        SEATMAP_DATABASE_URL=str(settings.database_url),
        SEATMAP_REDIS_URL=str(settings.redis_url),
        SEATMAP_DATA_DIR=str(settings.data_dir),
        SEATMAP_API_KEY=settings.api_key,
        SEATMAP_SESSION_SECRET=settings.session_secret,
        SEATMAP_REDIS_PREFIX=settings.redis_prefix,
        SEATMAP_LOG_JSON="0",
    )
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "seatmap.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become ready")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


# ---- browser measurements ----

WAIT_TILES = "() => window.seatmapViewer && window.seatmapViewer.metrics.firstTilesMs"


def first_view(browser: Any, url: str) -> dict[str, Any]:
    """Navigation to first tiles painted, and the bytes and requests of the first view."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
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
    page.wait_for_function(WAIT_TILES, timeout=30_000)
    first_tiles_ms = page.evaluate("() => window.seatmapViewer.metrics.firstTilesMs")
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
        "requests": len(urls),
        "bytes": sum(sizes.get(rid, 0) for rid in urls),
        "by_kind": {k: {"requests": len(v), "bytes": sum(v)} for k, v in sorted(by_kind.items())},
    }
    context.close()
    return result


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
    page.wait_for_function(WAIT_TILES, timeout=30_000)
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
    page.wait_for_function(WAIT_TILES, timeout=30_000)
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
            detail = seats_after_detail(browser, viewer, places)
            webgl = pan_frames(browser, viewer, places[0], frames)
            canvas = pan_frames(browser, viewer + "&renderer=canvas", places[0], frames)
        finally:
            browser.close()
    return {
        "full": full,
        "lite": lite,
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


def detail_places(seats: int, count: int) -> list[tuple[float, float]]:
    """Seat positions spread over the venue (distinct sections) to zoom in on."""
    venue = generate_venue("stadium", seats, seed=1)
    step = max(1, len(venue.sections) // count)
    out = []
    for s in range(0, len(venue.sections), step):
        members = (venue.seats.section == s).nonzero()[0]
        if len(members):
            i = int(members[len(members) // 2])
            out.append((float(venue.seats.x[i]), float(venue.seats.y[i])))
    return out[:count]


def report(figures: dict[str, Any], info: dict[str, Any]) -> str:
    """The figures as a plain table."""
    full, lite = figures["full"], figures["lite"]
    w, c = figures["pan_webgl"], figures["pan_canvas2d"]
    kb = 1024
    lines = [
        f"viewer benchmark: {info['seats']:,} seats, {info['sections']} sections, "
        f"headless Chromium (SwiftShader WebGL), {VIEWPORT['width']}x{VIEWPORT['height']}",
        "",
        f"{'first tiles painted (full)':44} {full['first_tiles_ms']:8.0f} ms from navigation",
        f"{'first tiles painted (lite)':44} {lite['first_tiles_ms']:8.0f} ms from navigation",
        f"{'first view, full':44} {full['bytes'] / kb:8.1f} KB in {full['requests']} requests",
        f"{'first view, lite':44} {lite['bytes'] / kb:8.1f} KB in {lite['requests']} requests",
    ]
    for name, fv in (("full", full), ("lite", lite)):
        parts = ", ".join(
            f"{k} {v['bytes'] / kb:.1f} KB/{v['requests']}" for k, v in fv["by_kind"].items()
        )
        lines.append(f"{'  ' + name + ' by kind':44} {parts}")
    d = figures["seats_drawn_after_detail_ms"]
    lines += [
        f"{'WebGL seats drawn after reaching detail':44} {d['median']:8.0f} ms median, "
        f"{d['max']:.0f} ms max ({len(d['runs'])} fresh areas)",
        f"{'pan frame, WebGL (' + str(w['seats_loaded']) + ' seats loaded)':44} "
        f"{w['median_ms']:8.2f} ms median, {w['p95_ms']:.2f} ms p95 "
        f"(~{w['seats_drawn_median']:.0f} seats in range per frame)",
        f"{'pan frame, Canvas 2D baseline':44} {c['median_ms']:8.2f} ms median, "
        f"{c['p95_ms']:.2f} ms p95 "
        f"(~{c['seats_drawn_median']:.0f} seats drawn per frame)",
        f"{'  main-thread part (pan + submit, no wait)':44} {w['script_median_ms']:8.2f} ms WebGL, "
        f"{c['script_median_ms']:.2f} ms Canvas 2D (median)",
        f"{'Canvas 2D / WebGL':44} {figures['pan_median_ratio']:8.1f}x median, "
        f"{figures['pan_p95_ratio']:.1f}x p95",
    ]
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seats", type=int, default=100_000)
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--places", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with backends() as b:
        settings = Settings(
            database_url=b.database_url,
            redis_url=b.redis_url,
            data_dir=DATA_DIR,
            api_key=secrets.token_hex(16),
            session_secret=secrets.token_hex(16),
            redis_prefix=b.redis_prefix,
            log_json=False,
        )
        event_id, info = asyncio.run(prepare_event(settings, args.seats))
        places = detail_places(args.seats, args.places)
        with server(settings) as base:
            figures = measure(base, event_id, args.frames, places)
    figures["setup"] = info
    print(report(figures, info))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
