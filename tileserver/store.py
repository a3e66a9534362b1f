"""The on-disk pyramid: one folder per venue content hash, memory-mapped when served.

Layout of `<tiles_dir>/<content_hash>/`:

- `manifest.json`: format version, grid, class counts and render statistics;
- `z{z}@{d}x.bin`: the `TileRecord`s of zoom z at density d, back to back;
- `z{z}@{d}x.idx.npy`: one `INDEX_DTYPE` row per tile of the zoom (row-major,
  y * nx + x) giving each record's offset and array lengths.

Readers map the .bin files read-only, so a record costs no memory until its
pages are touched, any number of processes share one page cache, and a
restart re-reads nothing.
"""

from __future__ import annotations

import contextlib
import json
import mmap
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from seatmap.grid import TileGrid
from tileserver.errors import PyramidMissing
from tileserver.pyramid import DENSITIES, TileKey
from tileserver.record import TileRecord, record_from_buffer, record_nbytes

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RECORD_CACHE_SIZE = 20_000

INDEX_DTYPE = np.dtype(
    [
        ("offset", "<u8"),
        ("flags", "u1"),
        ("present", "u1"),
        ("n_palette", "<u2"),
        ("n_classes", "<u2"),
        ("n_slots", "<u4"),
        ("n_runs", "<u4"),
    ]
)


def level_name(z: int, density: int) -> str:
    """File stem of one zoom level at one density."""
    return f"z{z}@{density}x"


def grid_to_json(grid: TileGrid) -> dict[str, Any]:
    """The grid parameters recorded in the manifest."""
    return {
        "width": grid.width,
        "height": grid.height,
        "seat_diameter": grid.seat_diameter,
        "seat_lod_zoom": grid.seat_lod_zoom,
        "detail_lod_zoom": grid.detail_lod_zoom,
        "max_zoom": grid.max_zoom,
    }


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a rendered pyramid, or None if absent, unreadable or outdated."""
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        return None
    return data


class PyramidStore:
    """Read-only access to one rendered pyramid through memory maps."""

    def __init__(self, folder: Path, grid: TileGrid) -> None:
        manifest = read_manifest(folder)
        if manifest is None:
            raise PyramidMissing(f"no pre-rendered pyramid in {folder}")
        self.folder = folder
        self.grid = grid
        self.manifest = manifest
        self._maps: dict[tuple[int, int], tuple[mmap.mmap | bytes, npt.NDArray[Any]]] = {}
        self._records: OrderedDict[TileKey, TileRecord] = OrderedDict()

    def _level(self, z: int, density: int) -> tuple[mmap.mmap | bytes, npt.NDArray[Any]]:
        found = self._maps.get((z, density))
        if found is None:
            stem = level_name(z, density)
            index = np.load(self.folder / f"{stem}.idx.npy")
            with open(self.folder / f"{stem}.bin", "rb") as fh:
                size = fh.seek(0, 2)
                data: mmap.mmap | bytes = (
                    mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
                )
            found = (data, index)
            self._maps[(z, density)] = found
        return found

    def record(self, key: TileKey) -> TileRecord | None:
        """The stored record of a tile inside the grid, or None if nothing was stored."""
        cached = self._records.get(key)
        if cached is not None:
            self._records.move_to_end(key)
            return cached
        if key.density not in DENSITIES or not self.grid.has_tile(key.z, key.x, key.y):
            return None
        data, index = self._level(key.z, key.density)
        nx, _ = self.grid.tile_count(key.z)
        row = index[key.y * nx + key.x]
        if not row["present"]:
            return None
        rec = record_from_buffer(
            data,
            int(row["offset"]),
            key.size_px,
            int(row["flags"]),
            int(row["n_slots"]),
            int(row["n_runs"]),
            int(row["n_palette"]),
            int(row["n_classes"]),
        )
        self._records[key] = rec
        if len(self._records) > RECORD_CACHE_SIZE:
            self._records.popitem(last=False)
        return rec

    def release(self, key: TileKey) -> None:
        """Let the kernel drop a record's pages from this process (they stay in the page
        cache and fault back in on the next use), so RSS tracks live memory only."""
        found = self._maps.get((key.z, key.density))
        if found is None:
            return
        data, index = found
        if not isinstance(data, mmap.mmap):
            return
        nx, _ = self.grid.tile_count(key.z)
        row = index[key.y * nx + key.x]
        start = int(row["offset"])
        end = start + record_nbytes(int(row["n_slots"]), int(row["n_runs"]),
                                    int(row["n_palette"]), int(row["n_classes"]))
        first = start - start % mmap.PAGESIZE
        # Pages are only dropped from this process, never lost: whoever reads them
        # next (this record or a neighbour sharing a page) faults them back in.
        last = end - end % mmap.PAGESIZE
        if last > first:
            with contextlib.suppress(OSError, ValueError):
                data.madvise(mmap.MADV_DONTNEED, first, last - first)

    def close(self) -> None:
        """Drop the record cache and unmap the files."""
        self._records.clear()
        for data, _ in self._maps.values():
            if isinstance(data, mmap.mmap):
                with contextlib.suppress(BufferError):  # views alive: the GC unmaps later
                    data.close()
        self._maps.clear()
