"""Pre-render a venue's whole pyramid (every zoom, 1x and 2x) to disk, on every core.

`ensure_pyramid(venue, tiles_dir)` is what the rest of the system calls: it
returns the pyramid folder, rendering it first when it is missing. Work is
split into chunks of tiles of one zoom and density, drawn by a process pool
(skia for the static layers, numpy sprites for the seats) and written by the
parent into one file per zoom and density. The folder appears atomically
(rendered under a temporary name, then renamed), so concurrent renders of
one venue are safe: the first rename wins and the others are discarded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import skia

from seatmap.grid import SEAT_PAD_PX, Lod, TileGrid, grid_for
from seatmap.model import Venue
from tileserver.pyramid import DENSITIES, TileKey, bucket_by_tile, pixel_scale
from tileserver.record import TileRecord, solid_record
from tileserver.render import style
from tileserver.render.progress import Progress
from tileserver.render.tilebuild import build_record
from tileserver.render.tiledraw import TilePainter
from tileserver.store import (
    FORMAT_VERSION,
    INDEX_DTYPE,
    MANIFEST,
    grid_to_json,
    level_name,
    read_manifest,
)

CHUNK_TILES = 48
# Below this many seats a render runs in-process: a pool costs more than it saves.
POOL_MIN_SEATS = 5_000

Rendered = list[tuple[int, int, int, tuple[int, int, int, int], bytes]]


@dataclass(frozen=True, slots=True)
class Job:
    """A chunk of tiles of one zoom and density."""

    z: int
    density: int
    tiles: tuple[tuple[int, int], ...]


class _Worker:
    """Per-process drawing state: the painter and each zoom's seat buckets."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.grid = grid_for(venue)
        self.painter = TilePainter(venue, self.grid)
        self.buckets: dict[tuple[int, int], dict[tuple[int, int], npt.NDArray[np.int64]]] = {}
        self.content = _content_boxes(self.painter)
        self.background = style.rgb(style.BACKGROUND)

    def seats_by_tile(self, z: int, density: int) -> dict[tuple[int, int], npt.NDArray[np.int64]]:
        found = self.buckets.get((z, density))
        if found is None:
            seats = self.venue.seats
            s = pixel_scale(self.grid, z, density)
            x = seats.x.astype(np.float64) * s
            y = seats.y.astype(np.float64) * s
            r = seats.radius.astype(np.float64) * s + SEAT_PAD_PX * density
            found = bucket_by_tile(self.grid, z, density, x - r, y - r, x + r, y + r)
            self.buckets = {(z, density): found}  # jobs come zoom by zoom
        return found

    def render(self, job: Job) -> Rendered:
        seat_lod = self.grid.lod(job.z) is not Lod.SECTION
        buckets = self.seats_by_tile(job.z, job.density) if seat_lod else {}
        out: Rendered = []
        for x, y in job.tiles:
            key = TileKey(job.z, x, y, job.density)
            ids = buckets.get((x, y), np.zeros(0, np.int64))
            record = self._trivial(key, ids)
            if record is None:
                record = build_record(self.painter.layers(key, ids))
            out.append((x, y, record.flags, record.counts(), record.to_bytes()))
        return out

    def _trivial(self, key: TileKey, ids: npt.NDArray[np.int64]) -> TileRecord | None:
        """A flat background record when nothing but the venue canvas lies in the tile."""
        if ids.size:
            return None
        s = pixel_scale(self.grid, key.z, key.density)
        size = key.size_px
        x0, y0 = key.x * size / s, key.y * size / s
        x1, y1 = (key.x + 1) * size / s, (key.y + 1) * size / s
        if x1 > self.grid.width or y1 > self.grid.height:
            return None
        c = self.content
        pad = 4.0 / s
        hit = (c[:, 0] <= x1 + pad) & (c[:, 2] >= x0 - pad) & (c[:, 1] <= y1 + pad) & (
            c[:, 3] >= y0 - pad)
        if hit.any():
            return None
        return solid_record(size, self.background, len(self.painter.seat_looks))


def _content_boxes(painter: TilePainter) -> npt.NDArray[np.float64]:
    scene = painter.scene
    boxes = list(scene.section_boxes) + list(scene.area_boxes)
    if scene.row_labels:
        r = scene.seat_radius * 3
        boxes += [(lb.x - r, lb.y - r, lb.x + r, lb.y + r) for lb in scene.row_labels]
    for area in painter.venue.areas:
        if area.text and area.points:  # text reaches beyond the area's points
            font = skia.Font(scene.bold_face, area.font_size)
            reach = max(font.measureText(area.text) / 2, area.font_size) * 1.2
            xs = [p[0] for p in area.points]
            ys = [p[1] for p in area.points]
            boxes.append((min(xs) - reach, min(ys) - reach, max(xs) + reach, max(ys) + reach))
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


_WORKER: _Worker | None = None


def _init_worker(venue: Venue) -> None:
    global _WORKER
    _WORKER = _Worker(venue)


def _run_job(job: Job) -> tuple[Job, Rendered]:
    assert _WORKER is not None
    return job, _WORKER.render(job)


def plan_jobs(grid: TileGrid, chunk: int = CHUNK_TILES) -> list[Job]:
    """Every tile of the pyramid at both densities, in chunks, deepest zoom first."""
    jobs: list[Job] = []
    for z in range(grid.max_zoom, -1, -1):
        nx, ny = grid.tile_count(z)
        tiles = [(x, y) for y in range(ny) for x in range(nx)]
        for density in sorted(DENSITIES, reverse=True):
            for i in range(0, len(tiles), chunk):
                jobs.append(Job(z, density, tuple(tiles[i : i + chunk])))
    return jobs


class _LevelWriter:
    """Appends records of one zoom and density to its .bin and fills its index."""

    def __init__(self, folder: Path, grid: TileGrid, z: int, density: int) -> None:
        nx, ny = grid.tile_count(z)
        self.nx = nx
        self.stem = level_name(z, density)
        self.index = np.zeros(nx * ny, dtype=INDEX_DTYPE)
        self.file: BinaryIO = open(folder / f"{self.stem}.bin", "wb")  # noqa: SIM115
        self.offset = 0
        self.folder = folder

    def add(self, rendered: Rendered) -> int:
        for x, y, flags, (n_slots, n_runs, n_palette, n_classes), blob in rendered:
            row = self.index[y * self.nx + x]
            row["offset"], row["flags"], row["present"] = self.offset, flags, 1
            row["n_slots"], row["n_runs"] = n_slots, n_runs
            row["n_palette"], row["n_classes"] = n_palette, n_classes
            self.file.write(blob)
            self.offset += len(blob)
        return len(rendered)

    def close(self) -> int:
        self.file.close()
        np.save(self.folder / f"{self.stem}.idx.npy", self.index)
        return self.offset


def _results(venue: Venue, jobs: list[Job], workers: int) -> Iterator[tuple[Job, Rendered]]:
    if workers <= 1 or venue.seat_count < POOL_MIN_SEATS:
        worker = _Worker(venue)
        for job in jobs:
            yield job, worker.render(job)
        return
    # fork is fast and needs no importable __main__; with threads about, spawn is safer.
    context = get_context("fork" if threading.active_count() == 1 else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(venue,)) as pool:
        futures: list[Future[tuple[Job, Rendered]]] = [pool.submit(_run_job, j) for j in jobs]
        for future in as_completed(futures):
            yield future.result()


def render_pyramid(venue: Venue, folder: Path, workers: int = 2, progress: bool = True) -> dict[
        str, Any]:
    """Render every tile of a venue into `folder` (which must not exist); return stats."""
    started = time.monotonic()
    grid = grid_for(venue)
    jobs = plan_jobs(grid)
    folder.mkdir(parents=True)
    writers: dict[tuple[int, int], _LevelWriter] = {
        (z, d): _LevelWriter(folder, grid, z, d)
        for z in range(grid.max_zoom + 1) for d in DENSITIES
    }
    report = Progress(venue.name, sum(len(j.tiles) for j in jobs), progress)
    for job, rendered in _results(venue, jobs, workers):
        report.add(writers[(job.z, job.density)].add(rendered))
    total_bytes = sum(w.close() for w in writers.values())
    stats = {
        "tiles": report.total,
        "bytes": total_bytes,
        "seconds": round(time.monotonic() - started, 3),
        "workers": workers,
    }
    manifest = {
        "format": FORMAT_VERSION,
        "content_hash": venue.content_hash,
        "venue": venue.name,
        "seat_count": venue.seat_count,
        "grid": grid_to_json(grid),
        "densities": list(DENSITIES),
        "seat_classes": style.seat_class_count(venue),
        "section_classes": style.SECTION_CLASS_COUNT,
        "stats": stats,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return stats


def pyramid_path(venue: Venue, tiles_dir: Path) -> Path:
    """Where a venue's pyramid lives (whether or not it is rendered yet)."""
    return Path(tiles_dir) / venue.content_hash


def is_rendered(venue: Venue, tiles_dir: Path) -> bool:
    """True when a current-format pyramid for this venue version and its grid exists."""
    return _is_current(venue, pyramid_path(venue, tiles_dir))


def _is_current(venue: Venue, folder: Path) -> bool:
    """A current-format manifest whose zooms are those the venue gets now."""
    manifest = read_manifest(folder)
    return manifest is not None and manifest.get("grid") == grid_to_json(grid_for(venue))


def ensure_pyramid(venue: Venue, tiles_dir: Path, workers: int = 2, progress: bool = True) -> Path:
    """The venue's pyramid folder, rendered first if missing (a no-op when present).

    Safe to call from several processes at once: each renders into its own
    temporary folder and the first to finish publishes it.
    """
    target = pyramid_path(venue, tiles_dir)
    if _is_current(venue, target):
        return target
    Path(tiles_dir).mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{venue.content_hash}.", dir=tiles_dir))
    try:
        render_pyramid(venue, scratch / "pyramid", workers=workers, progress=progress)
        if target.exists() and not _is_current(venue, target):
            shutil.rmtree(target, ignore_errors=True)  # an outdated format or grid
        try:
            os.rename(scratch / "pyramid", target)
        except OSError:
            if not _is_current(venue, target):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
