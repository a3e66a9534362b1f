"""Steps 1 and 2 of the tile benchmark: pre-rendering, and composite+encode against a redraw."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import skia
from tiles_report import TARGETS, row

from seatmap.grid import TileGrid, grid_for
from seatmap.model import Venue
from tileserver import compose, encode
from tileserver.pyramid import TileKey, tile_transform
from tileserver.record import TileRecord
from tileserver.render import style
from tileserver.render.geometry import seats_in_box
from tileserver.render.prerender import ensure_pyramid
from tileserver.render.scene import Scene
from tileserver.store import PyramidStore


def random_statuses(venue: Venue, seed: int = 7) -> np.ndarray:
    """A seat status per seat, mostly available, the same for the same seed."""
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([0, 0, 0, 0, 0, 0, 1, 2, 2, 3], np.uint8), venue.seat_count)


def bench_prerender(venue: Venue, pyramid: Path | None) -> Path:
    """Step 1: render the whole pyramid (or reuse `pyramid`); its folder."""
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
    row(
        "pre-render time",
        f"{seconds:.1f} s",
        f"< {TARGETS['prerender_s']:.0f} s",
        f"ratio {seconds / TARGETS['prerender_s']:.2f} of target",
    )
    row("tiles (1x + 2x)", f"{2 * tiles}", "", f"zooms 0..{grid.max_zoom}")
    row("disk size", f"{size / 1e6:.0f} MB", "", str(path))
    return path


def sample_tiles(venue: Venue, store: PyramidStore, count: int) -> list[tuple[TileKey, TileRecord]]:
    """Up to `count` seat-LOD tiles with seats on them, picked the same way every run."""
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


def redraw(
    scene: Scene, grid: TileGrid, key: TileKey, classes: np.ndarray, looks: list[style.ClassLook]
) -> bytes:
    """The baseline: draw the tile from scratch with skia, encode with the same deflate."""
    t = tile_transform(grid, key)
    pixels = np.zeros((t.size_px, t.size_px, 4), np.uint8)
    info = skia.ImageInfo.Make(
        t.size_px, t.size_px, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType
    )
    surface = skia.Surface.MakeRasterDirect(info, pixels)
    canvas = surface.getCanvas()
    canvas.translate(-t.origin_x, -t.origin_y)
    canvas.scale(t.scale, t.scale)
    unit = key.density / t.scale
    box = (
        t.origin_x / t.scale,
        t.origin_y / t.scale,
        (t.origin_x + t.size_px) / t.scale,
        (t.origin_y + t.size_px) / t.scale,
    )
    scene.draw_ground(canvas, box, unit)
    scene.draw_section_fills(canvas, box)
    scene.draw_section_outlines(canvas, box, unit)
    ids = seats_in_box(scene.venue, box)
    scene.draw_accessible(canvas, ids.tolist(), unit)
    scene.draw_seats(canvas, ids, classes, looks, unit)
    del canvas, surface
    return encode.png_rgba(pixels, level=1)


def bench_compose(venue: Venue, path: Path) -> float:
    """Step 2: composite+encode against the skia redraw; tiles per second of ours."""
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
    row(
        "composite+encode",
        f"{ours:,.0f} tiles/s",
        f">= {TARGETS['tiles_per_s']:,.0f}/s",
        f"{1e3 / ours:.2f} ms/tile, zooms {zooms}, {seats:.0f} seats/tile avg",
    )
    row(
        "redraw baseline (skia draw + encode)",
        f"{baseline:,.0f} tiles/s",
        "",
        f"{1e3 / baseline:.2f} ms/tile",
    )
    row("speed-up over redraw", f"{ours / baseline:.1f}x", f">= {TARGETS['speedup']:.0f}x")
    row("mean PNG size", f"{np.mean(sizes) / 1024:.1f} KiB", "", f"deflate: {encode.DEFLATE_NAME}")
    store.close()
    return ours
