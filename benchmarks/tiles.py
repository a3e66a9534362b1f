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

Steps 1-2 are in tiles_render.py, 3-4 in tiles_http.py (servers and wrk in
tiles_serving.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tiles_http import bench_http
from tiles_render import bench_compose, bench_prerender

from seatmap.generator import generate_venue
from seatmap.grid import Lod, grid_for


def main() -> None:
    """Run every step and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--pyramid", type=Path, default=None, help="reuse an already rendered pyramid folder"
    )
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    venue = generate_venue("stadium", args.seats, 1)
    grid = grid_for(venue)
    print(
        f"Tile benchmark: {venue.name}, {venue.seat_count:,} seats, zooms 0..{grid.max_zoom} "
        f"(seat LOD from {grid.seat_lod_zoom}, detail from {grid.detail_lod_zoom}), "
        f"{os.cpu_count()} CPUs"
    )
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
