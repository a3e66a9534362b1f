"""Tile server benchmark on a generated 100,000-seat stadium. Prints figures beside targets.

    python benchmarks/tiles.py [--seats 100000] [--duration 8] [--pyramid DIR]

1. Pre-render the whole pyramid (every zoom, 1x and 2x) on 2 cores: time, disk size.
2. Composite+encode of 256 px seat-LOD tiles on one core, against a baseline that
   draws the same tile from scratch with skia and encodes it (same fast deflate).
3. Cached tiles over HTTP: uvicorn serving `tileserver.app` measured with wrk,
   beside nginx serving the same tile bytes as a static file; then cached requests
   while a burst of cache misses runs; the server's RSS with the event loaded.
4. The stadium's print PDF: pages and extractable seat labels.

Needs PostgreSQL and Redis (SEATMAP_BENCH_PG_ADMIN_URL, SEATMAP_BENCH_REDIS_URL;
defaults 127.0.0.1), a throwaway database and Redis prefix are made and removed.
Needs `wrk` and `nginx` (Debian packages) for step 3, `pdftotext` for step 4.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import skia

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seatmap.generator import generate_venue  # noqa: E402
from seatmap.grid import Lod, TileGrid, grid_for  # noqa: E402
from seatmap.model import Venue  # noqa: E402
from tileserver import compose, encode, style  # noqa: E402
from tileserver.prerender import ensure_pyramid  # noqa: E402
from tileserver.pyramid import TileKey, tile_transform  # noqa: E402
from tileserver.record import TileRecord  # noqa: E402
from tileserver.scene import Scene, seats_in_box  # noqa: E402
from tileserver.store import PyramidStore  # noqa: E402

PG_ADMIN = os.environ.get("SEATMAP_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEATMAP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TARGETS = {"prerender_s": 90.0, "tiles_per_s": 1500.0, "speedup": 5.0, "cached_rps": 8000.0,
           "rss_mb": 400.0}


def row(name: str, value: str, target: str = "", note: str = "") -> None:
    print(f"  {name:<44} {value:>16}  {target:<18} {note}", flush=True)


def phase(text: str) -> None:
    """A timestamped progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def random_statuses(venue: Venue, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([0, 0, 0, 0, 0, 0, 1, 2, 2, 3], np.uint8), venue.seat_count)


# -- 1. pre-render -------------------------------------------------------------

def bench_prerender(venue: Venue, pyramid: Path | None) -> Path:
    print("\n1. Pre-render (all zooms, 1x and 2x, 2 workers)")
    if pyramid is not None and (pyramid / "manifest.json").exists():
        row("pre-render", "reused", "", str(pyramid))
        return pyramid
    tiles_dir = Path(tempfile.mkdtemp(prefix="seatmap-bench-tiles-"))
    started = time.monotonic()
    path = ensure_pyramid(venue, tiles_dir, workers=2, progress=True)
    seconds = time.monotonic() - started
    size = sum(p.stat().st_size for p in path.iterdir())
    grid = grid_for(venue)
    tiles = sum(grid.tile_count(z)[0] * grid.tile_count(z)[1] for z in range(grid.max_zoom + 1))
    row("pre-render time", f"{seconds:.1f} s", f"< {TARGETS['prerender_s']:.0f} s",
        f"ratio {seconds / TARGETS['prerender_s']:.2f} of target")
    row("tiles (1x + 2x)", f"{2 * tiles}", "", f"zooms 0..{grid.max_zoom}")
    row("disk size", f"{size / 1e6:.0f} MB", "", str(path))
    return path


# -- 2. composite+encode vs redraw ------------------------------------------------

def sample_tiles(venue: Venue, store: PyramidStore, count: int) -> list[tuple[TileKey, TileRecord]]:
    grid = store.grid
    out = []
    for z in range(grid.seat_lod_zoom, grid.detail_lod_zoom):
        nx, ny = grid.tile_count(z)
        for y in range(ny):
            for x in range(nx):
                key = TileKey(z, x, y, 1)
                rec = store.record(key)
                if rec is not None and not rec.solid and rec.slots.size:
                    out.append((key, rec))
    rng = np.random.default_rng(3)
    picks = rng.choice(len(out), size=min(count, len(out)), replace=False)
    return [out[i] for i in sorted(picks.tolist())]


def redraw(scene: Scene, grid: TileGrid, key: TileKey, classes: np.ndarray,
           looks: list[style.ClassLook]) -> bytes:
    """The baseline: draw the tile from scratch with skia, encode with the same deflate."""
    t = tile_transform(grid, key)
    pixels = np.zeros((t.size_px, t.size_px, 4), np.uint8)
    info = skia.ImageInfo.Make(t.size_px, t.size_px, skia.kRGBA_8888_ColorType,
                               skia.kPremul_AlphaType)
    surface = skia.Surface.MakeRasterDirect(info, pixels)
    canvas = surface.getCanvas()
    canvas.translate(-t.origin_x, -t.origin_y)
    canvas.scale(t.scale, t.scale)
    unit = key.density / t.scale
    box = (t.origin_x / t.scale, t.origin_y / t.scale, (t.origin_x + t.size_px) / t.scale,
           (t.origin_y + t.size_px) / t.scale)
    scene.draw_ground(canvas, box, unit)
    scene.draw_section_fills(canvas, box)
    scene.draw_section_outlines(canvas, box, unit)
    ids = seats_in_box(scene.venue, box)
    scene.draw_accessible(canvas, ids.tolist(), unit)
    scene.draw_seats(canvas, ids, classes, looks, unit)
    del canvas, surface
    return encode.png_rgba(pixels, level=1)


def bench_compose(venue: Venue, path: Path) -> float:
    print("\n2. Composite+encode per 256 px seat-LOD tile, one core")
    grid = grid_for(venue)
    store = PyramidStore(path, grid)
    tiles = sample_tiles(venue, store, 300)
    statuses = random_statuses(venue)
    classes = style.seat_classes(venue, statuses)
    for _, rec in tiles:  # touch the pages once, as a warm server would have them
        compose.scanlines(rec, compose.slot_classes(rec, classes))
    sizes = []
    started = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        for _, rec in tiles:
            raw = compose.scanlines(rec, compose.slot_classes(rec, classes))
            png = encode.png_indexed(256, 256, encode.palette_chunks(rec.palette), raw.tobytes())
            sizes.append(len(png))
    ours = rounds * len(tiles) / (time.perf_counter() - started)
    scene = Scene(venue)
    looks = style.seat_looks(venue)
    base = tiles[: max(20, len(tiles) // 5)]
    redraw(scene, grid, base[0][0], classes, looks)
    started = time.perf_counter()
    for key, _ in base:
        redraw(scene, grid, key, classes, looks)
    baseline = len(base) / (time.perf_counter() - started)
    seats = np.mean([rec.slots.size for _, rec in tiles])
    zooms = sorted({k.z for k, _ in tiles})
    row("composite+encode", f"{ours:,.0f} tiles/s", f">= {TARGETS['tiles_per_s']:,.0f}/s",
        f"{1e3 / ours:.2f} ms/tile, zooms {zooms}, {seats:.0f} seats/tile avg")
    row("redraw baseline (skia draw + encode)", f"{baseline:,.0f} tiles/s", "",
        f"{1e3 / baseline:.2f} ms/tile")
    row("speed-up over redraw", f"{ours / baseline:.1f}x", f">= {TARGETS['speedup']:.0f}x")
    row("mean PNG size", f"{np.mean(sizes) / 1024:.1f} KiB", "", f"deflate: {encode.DEFLATE_NAME}")
    store.close()
    return ours


# -- 3. HTTP: uvicorn vs nginx, misses, RSS ---------------------------------------

async def prepare_event(venue: Venue, dsn: str, prefix: str) -> int:
    import asyncpg
    import redis.asyncio as aioredis

    from seatmap.db import migrate
    from seatmap.events import create_event
    from seatmap.livekeys import status_key
    from seatmap.venuestore import save_venue

    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        venue_id = await save_venue(conn, venue, "generator")
        event = await create_event(conn, venue_id, "Benchmark Final")
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(REDIS_URL)
    await client.set(status_key(prefix, event.id), random_statuses(venue).tobytes())
    await client.aclose()
    return event.id


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": p99_ms, "non2xx": float(errors.group(1)) if errors else 0.0}


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                resp.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process and its children: total, private (anon) and file-backed."""
    out = {"mb": 0.0, "anon": 0.0, "file": 0.0}
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                   text=True).stdout.split()]
    fields = {"VmRSS:": "mb", "RssAnon:": "anon", "RssFile:": "file"}
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            name = line.split(":")[0] + ":"
            if name in fields:
                out[fields[name]] += int(line.split()[1]) / 1024
    return out


def serve_uvicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "tileserver.app:create_app", "--factory",
           "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
           "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve_nginx(folder: Path, port: int) -> subprocess.Popen[bytes]:
    conf = folder / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ image/png png; }}
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {folder}/www;
    }}
}}
""")
    return subprocess.Popen(["nginx", "-c", str(conf), "-p", str(folder)])


def bench_http(venue: Venue, path: Path, seconds: int, connections: int) -> None:
    print(f"\n3. Cached tiles over HTTP (wrk 1 thread, {connections} connections, {seconds} s)")
    if not shutil.which("wrk") or not shutil.which("nginx"):
        row("HTTP", "skipped", "", "needs wrk and nginx")
        return
    import asyncpg

    work = Path(tempfile.mkdtemp(prefix="seatmap-bench-http-"))
    db = f"seatmap_bench_{secrets.token_hex(4)}"
    prefix = f"seatmap-bench-{secrets.token_hex(4)}:"
    base, _, _ = PG_ADMIN.rpartition("/")
    dsn = f"{base}/{db}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{db}"'))
    data_dir = work / "data"
    (data_dir / "tiles").mkdir(parents=True)
    os.symlink(path, data_dir / "tiles" / venue.content_hash)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        event_id = asyncio.run(prepare_event(venue, dsn, prefix))
        env = {**os.environ, "SEATMAP_DATABASE_URL": dsn, "SEATMAP_REDIS_URL": REDIS_URL,
               "SEATMAP_DATA_DIR": str(data_dir), "SEATMAP_REDIS_PREFIX": prefix,
               "SEATMAP_API_KEY": "bench", "SEATMAP_SESSION_SECRET": "bench",
               "SEATMAP_LOG_JSON": "0", "PYTHONPATH": str(ROOT)}
        grid = grid_for(venue)
        z = grid.seat_lod_zoom
        nx, ny = grid.tile_count(z)
        tile_path = f"/events/{event_id}/tiles/{z}/{nx // 2}/{ny // 8}.png"
        results: dict[str, dict[str, float]] = {}
        for workers in (1, 2):
            port = free_port()
            proc = serve_uvicorn(env, port, workers)
            procs.append(proc)
            url = f"http://127.0.0.1:{port}{tile_path}"
            phase(f"uvicorn x{workers}: waiting for the first tile")
            wait_http(url)
            phase("wrk")
            with urllib.request.urlopen(url) as resp:
                body = resp.read()
            results[f"uvicorn x{workers}"] = wrk(url, seconds, connections)
            if workers == 1:
                phase("miss burst")
                results["misses"] = miss_burst(work, port, event_id, grid, url, seconds,
                                               connections)
                phase("touching tiles")
                touch_tiles(port, event_id, grid)
                results["rss"] = rss_mb(proc.pid)
                phase("pdf")
                pdf_check(port, event_id, work, venue)
                results["rss_pdf"] = rss_mb(proc.pid)
            stop(proc)
            procs.remove(proc)
        results["bare"] = bare_asgi(work, body, seconds, connections)
        (work / "www").mkdir()
        (work / "www" / "tile.png").write_bytes(body)
        for folder in (work, work / "www"):  # nginx workers run as an unprivileged user
            folder.chmod(0o755)
        (work / "www" / "tile.png").chmod(0o644)
        port = free_port()
        nginx = serve_nginx(work, port)
        procs.append(nginx)
        nginx_url = f"http://127.0.0.1:{port}/tile.png"
        wait_http(nginx_url)
        results["nginx"] = wrk(nginx_url, seconds, connections)
        stop(nginx)
        procs.remove(nginx)
        ngx = results["nginx"]["rps"]
        for name in ("uvicorn x1", "uvicorn x2"):
            r = results[name]
            row(f"cached tile, {name} worker(s)", f"{r['rps']:,.0f} req/s",
                f">= {TARGETS['cached_rps']:,.0f}/s",
                f"{r['rps'] / ngx:.2f} of nginx, p99 {r['p99_ms']:.1f} ms")
        row("same bytes, nginx static file", f"{ngx:,.0f} req/s", "",
            f"p99 {results['nginx']['p99_ms']:.1f} ms, {len(body)} B tile")
        row("same bytes, bare ASGI app on uvicorn x1", f"{results['bare']['rps']:,.0f} req/s",
            "", "the ceiling of one uvicorn worker here")
        m = results["misses"]
        row("cached tile during a burst of misses", f"{m['cached_rps']:,.0f} req/s", "",
            f"p99 {m['cached_p99_ms']:.1f} ms; misses {m['miss_rps']:,.0f}/s (2x, zoom "
            f"{grid.max_zoom})")
        row("server RSS with the event loaded", f"{results['rss']['mb']:.0f} MB",
            f"< {TARGETS['rss_mb']:.0f} MB",
            f"after 1,000 tiles + the miss burst: {results['rss']['anon']:.0f} MB private, "
            f"{results['rss']['file']:.0f} MB mapped files")
        row("server RSS after printing the stadium PDF", f"{results['rss_pdf']['mb']:.0f} MB",
            f"< {TARGETS['rss_mb']:.0f} MB", f"{results['rss_pdf']['anon']:.0f} MB private")
    finally:
        for proc in procs:
            stop(proc)
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
        shutil.rmtree(work, ignore_errors=True)


def bare_asgi(work: Path, body: bytes, seconds: int, connections: int) -> dict[str, float]:
    """The same bytes from a five-line ASGI app: what uvicorn alone can do on this machine."""
    (work / "bare").mkdir()
    (work / "bare" / "tile.png").write_bytes(body)
    (work / "bare" / "bare.py").write_text(f"""
BODY = open({str(work / "bare" / "tile.png")!r}, "rb").read()
HEADERS = [(b"content-type", b"image/png"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({{"type": "http.response.start", "status": 200, "headers": HEADERS}})
        await send({{"type": "http.response.body", "body": BODY}})
""")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare:app", "--app-dir",
                             str(work / "bare"), "--port", str(port), "--log-level", "warning",
                             "--no-access-log", "--lifespan", "off"])
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_http(url)
        return wrk(url, seconds, connections)
    finally:
        stop(proc)


def miss_burst(work: Path, port: int, event_id: int, grid: TileGrid, cached_url: str,
               seconds: int, connections: int) -> dict[str, float]:
    """wrk on one cached tile while a second wrk walks 2x tiles never asked for before."""
    z = grid.max_zoom
    nx, ny = grid.tile_count(z)
    script = work / "misses.lua"
    script.write_text(f"""
local n = 0
request = function()
  local x = n % {nx}
  local y = math.floor(n / {nx}) % {ny}
  n = n + 1
  return wrk.format("GET", "/events/{event_id}/tiles/{z}/" .. x .. "/" .. y .. "@2x.png")
end
""")
    misses = subprocess.Popen(
        ["wrk", "-t1", "-c4", f"-d{seconds}s", "-s", str(script), f"http://127.0.0.1:{port}/"],
        stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    cached = wrk(cached_url, max(2, seconds - 1), connections)
    out, _ = misses.communicate()
    miss_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"cached_rps": cached["rps"], "cached_p99_ms": cached["p99_ms"], "miss_rps": miss_rps}


def touch_tiles(port: int, event_id: int, grid: TileGrid, count: int = 1000) -> None:
    z = grid.max_zoom
    nx, ny = grid.tile_count(z)
    rng = np.random.default_rng(5)
    for i in rng.choice(nx * ny, size=min(count, nx * ny), replace=False).tolist():
        url = f"http://127.0.0.1:{port}/events/{event_id}/tiles/{z}/{i % nx}/{i // nx}.png"
        with urllib.request.urlopen(url) as resp:
            resp.read()


def pdf_check(port: int, event_id: int, work: Path, venue: Venue) -> None:
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/events/{event_id}/map.pdf",
                                timeout=300) as resp:
        pdf = resp.read()
    seconds = time.monotonic() - started
    path = work / "stadium.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    pages = next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")),
                 "?")
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    width, height = (float(size.group(1)), float(size.group(2))) if size else (842.0, 595.0)
    # pdftotext keeps only part of 100,000 tiny words on one page, but all of them from
    # each quarter of it; -raw skips layout analysis, which would take minutes here.
    digits = 0
    for qx in (0, 1):
        for qy in (0, 1):
            text = subprocess.run(
                ["pdftotext", "-raw", "-x", str(int(qx * width / 2)), "-y",
                 str(int(qy * height / 2)), "-W", str(int(width / 2) + 1), "-H",
                 str(int(height / 2) + 1), str(path), "-"],
                capture_output=True, text=True).stdout
            digits += sum(ch.isdigit() for ch in text)
    drawn = sum(len(label) for label in venue.seats.labels)
    print("\n4. Print PDF of the whole stadium (A4 landscape)")
    row("pages", pages, "1", f"{len(pdf) / 1e6:.1f} MB, rendered in {seconds:.1f} s")
    row("seat-number digits extractable as text", f"{digits:,}", f">= {drawn:,}",
        "(page digits include prices; counted per quarter page)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pyramid", type=Path, default=None,
                        help="reuse an already rendered pyramid folder")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    venue = generate_venue("stadium", args.seats, 1)
    grid = grid_for(venue)
    print(f"Tile benchmark: {venue.name}, {venue.seat_count:,} seats, zooms 0..{grid.max_zoom} "
          f"(seat LOD from {grid.seat_lod_zoom}, detail from {grid.detail_lod_zoom}), "
          f"{os.cpu_count()} CPUs")
    assert grid.lod(grid.seat_lod_zoom) is Lod.SEAT
    path = bench_prerender(venue, args.pyramid)
    bench_compose(venue, path)
    if not args.skip_http:
        bench_http(venue, path, args.duration, args.connections)
    if args.pyramid is None:
        shutil.rmtree(path.parent, ignore_errors=True)
    print(f"\ndone in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
