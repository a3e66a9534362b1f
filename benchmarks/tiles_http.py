"""Step 3 of the tile benchmark: cached tiles over HTTP against nginx, tiles during a burst
of misses, the server's memory; and step 4, the print PDF, taken from the same server."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import asyncpg
import numpy as np
import redis.asyncio as aioredis
import scratch
from tiles_render import random_statuses
from tiles_report import TARGETS, phase, row
from tiles_serving import bare_asgi, miss_burst, nginx_server, tile_server, wrk

from seatmap.db import migrate
from seatmap.events import create_event
from seatmap.grid import TileGrid, grid_for
from seatmap.livekeys import status_key
from seatmap.model import Venue
from seatmap.settings import Settings
from seatmap.venuestore import save_venue

Results = dict[str, dict[str, float]]


async def prepare_event(venue: Venue, settings: Settings) -> int:
    """Store the venue, create an event on it and give its seats random statuses in Redis."""
    assert settings.database_url is not None and settings.redis_url is not None
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn)
        venue_id = await save_venue(conn, venue, "generator")
        event = await create_event(conn, venue_id, "Benchmark Final")
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(settings.redis_url)
    await client.set(status_key(settings.redis_prefix, event.id), random_statuses(venue).tobytes())
    await client.aclose()
    return event.id


def bench_http(venue: Venue, path: Path, seconds: int, connections: int) -> None:
    """Steps 3 and 4 against the pyramid in `path`, on a scratch database and key prefix."""
    print(f"\n3. Cached tiles over HTTP (wrk 1 thread, {connections} connections, {seconds} s)")
    if not shutil.which("wrk") or not shutil.which("nginx"):
        row("HTTP", "skipped", "", "needs wrk and nginx")
        return
    work = Path(tempfile.mkdtemp(prefix="seatmap-bench-http-"))
    try:
        with scratch.database("tiles") as database_url, scratch.key_prefix("tiles") as prefix:
            data_dir = work / "data"
            (data_dir / "tiles").mkdir(parents=True)
            os.symlink(path, data_dir / "tiles" / venue.content_hash)
            settings = Settings(
                database_url=database_url,
                redis_url=scratch.REDIS_URL,
                data_dir=data_dir,
                redis_prefix=prefix,
                api_key="bench",
                session_secret="bench",
            )
            event_id = asyncio.run(prepare_event(venue, settings))
            env = scratch.server_environ(
                settings, SEATMAP_LOG_JSON="0", PYTHONPATH=str(scratch.ROOT)
            )
            results, body = measure(venue, work, env, event_id, seconds, connections)
            print_figures(results, body, grid_for(venue))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(
    venue: Venue, work: Path, env: dict[str, str], event_id: int, seconds: int, connections: int
) -> tuple[Results, bytes]:
    """Run every HTTP measurement; the figures and the tile's bytes."""
    grid = grid_for(venue)
    z = grid.seat_lod_zoom
    nx, ny = grid.tile_count(z)
    tile_path = f"/events/{event_id}/tiles/{z}/{nx // 2}/{ny // 8}.png"
    results: Results = {}
    body = b""
    for workers in (1, 2):
        port = scratch.free_port()
        url = f"http://127.0.0.1:{port}{tile_path}"
        phase(f"uvicorn x{workers}: waiting for the first tile")
        with tile_server(env, port, workers, url) as server:
            phase("wrk")
            with urllib.request.urlopen(url) as resp:
                body = resp.read()
            results[f"uvicorn x{workers}"] = wrk(url, seconds, connections)
            if workers == 1:
                phase("miss burst")
                results["misses"] = miss_burst(
                    work, port, event_id, grid, url, seconds, connections
                )
                phase("touching tiles")
                touch_tiles(port, event_id, grid)
                results["rss"] = rss_mb(server.pid)
                phase("pdf")
                pdf_check(port, event_id, work, venue)
                results["rss_pdf"] = rss_mb(server.pid)
    results["bare"] = bare_asgi(work, body, seconds, connections)
    with nginx_server(work, body, scratch.free_port()) as nginx:
        results["nginx"] = wrk(nginx.ready_url, seconds, connections)
    return results, body


def print_figures(results: Results, body: bytes, grid: TileGrid) -> None:
    """The rows of step 3."""
    ngx = results["nginx"]["rps"]
    for name in ("uvicorn x1", "uvicorn x2"):
        r = results[name]
        row(
            f"cached tile, {name} worker(s)",
            f"{r['rps']:,.0f} req/s",
            f">= {TARGETS['cached_rps']:,.0f}/s",
            f"{r['rps'] / ngx:.2f} of nginx, p99 {r['p99_ms']:.1f} ms",
        )
    row(
        "same bytes, nginx static file",
        f"{ngx:,.0f} req/s",
        "",
        f"p99 {results['nginx']['p99_ms']:.1f} ms, {len(body)} B tile",
    )
    row(
        "same bytes, bare ASGI app on uvicorn x1",
        f"{results['bare']['rps']:,.0f} req/s",
        "",
        "the ceiling of one uvicorn worker here",
    )
    m = results["misses"]
    row(
        "cached tile during a burst of misses",
        f"{m['cached_rps']:,.0f} req/s",
        "",
        f"p99 {m['cached_p99_ms']:.1f} ms; misses {m['miss_rps']:,.0f}/s (2x, zoom "
        f"{grid.max_zoom})",
    )
    row(
        "server RSS with the event loaded",
        f"{results['rss']['mb']:.0f} MB",
        f"< {TARGETS['rss_mb']:.0f} MB",
        f"after 1,000 tiles + the miss burst: {results['rss']['anon']:.0f} MB private, "
        f"{results['rss']['file']:.0f} MB mapped files",
    )
    row(
        "server RSS after printing the stadium PDF",
        f"{results['rss_pdf']['mb']:.0f} MB",
        f"< {TARGETS['rss_mb']:.0f} MB",
        f"{results['rss_pdf']['anon']:.0f} MB private",
    )


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process and its children: total, private (anon) and file-backed."""
    out = {"mb": 0.0, "anon": 0.0, "file": 0.0}
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    pids = [pid] + [int(p) for p in children.split()]
    fields = {"VmRSS:": "mb", "RssAnon:": "anon", "RssFile:": "file"}
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            name = line.split(":")[0] + ":"
            if name in fields:
                out[fields[name]] += int(line.split()[1]) / 1024
    return out


def touch_tiles(port: int, event_id: int, grid: TileGrid, count: int = 1000) -> None:
    """Ask for `count` distinct tiles of the deepest zoom, as a day of browsing would."""
    z = grid.max_zoom
    nx, ny = grid.tile_count(z)
    rng = np.random.default_rng(5)
    for i in rng.choice(nx * ny, size=min(count, nx * ny), replace=False).tolist():
        url = f"http://127.0.0.1:{port}/events/{event_id}/tiles/{z}/{i % nx}/{i // nx}.png"
        with urllib.request.urlopen(url) as resp:
            resp.read()


def pdf_check(port: int, event_id: int, work: Path, venue: Venue) -> None:
    """Step 4: fetch the event's print PDF; its pages, size, time and extractable seat labels."""
    started = time.monotonic()
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/events/{event_id}/map.pdf", timeout=300
    ) as resp:
        pdf = resp.read()
    seconds = time.monotonic() - started
    path = work / "stadium.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    pages = next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    width, height = (float(size.group(1)), float(size.group(2))) if size else (842.0, 595.0)
    # pdftotext keeps only part of 100,000 tiny words on one page, but all of them from
    # each quarter of it; -raw skips layout analysis, which would take minutes here.
    digits = 0
    for qx in (0, 1):
        for qy in (0, 1):
            quarter = ["-x", str(int(qx * width / 2)), "-y", str(int(qy * height / 2)),
                       "-W", str(int(width / 2) + 1), "-H", str(int(height / 2) + 1)]  # fmt: skip
            command = ["pdftotext", "-raw", *quarter, str(path), "-"]
            text = subprocess.run(command, capture_output=True, text=True).stdout
            digits += sum(ch.isdigit() for ch in text)
    drawn = sum(len(label) for label in venue.seats.labels)
    print("\n4. Print PDF of the whole stadium (A4 landscape)")
    row("pages", pages, "1", f"{len(pdf) / 1e6:.1f} MB, rendered in {seconds:.1f} s")
    row(
        "seat-number digits extractable as text",
        f"{digits:,}",
        f">= {drawn:,}",
        "(page digits include prices; counted per quarter page)",
    )
