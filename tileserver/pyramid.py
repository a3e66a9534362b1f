"""Tile math beyond `seatmap.grid`: pixel density, tile transforms and tile lookups.

A tile is named by `TileKey(z, x, y, density)`; density 2 is the `@2x` tile,
which covers the same venue area as the 1x tile with twice the pixels and
draws text and strokes twice as large. Its level of detail is that of zoom z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seatmap.grid import TILE_PX, Lod, TileGrid

DENSITIES = (1, 2)
FORMATS = ("png", "webp")


@dataclass(frozen=True, slots=True)
class TileKey:
    """One tile of the pyramid at one pixel density."""

    z: int
    x: int
    y: int
    density: int = 1

    @property
    def size_px(self) -> int:
        """Width and height of the tile image in pixels."""
        return TILE_PX * self.density


@dataclass(frozen=True, slots=True)
class TileTransform:
    """Venue units to tile pixels: px = u * scale - origin."""

    scale: float
    origin_x: float
    origin_y: float
    size_px: int

    def to_px(self, ux: float, uy: float) -> tuple[float, float]:
        """A venue point in this tile's pixel space."""
        return ux * self.scale - self.origin_x, uy * self.scale - self.origin_y


def pixel_scale(grid: TileGrid, z: int, density: int) -> float:
    """Pixels per venue unit at zoom z and pixel density."""
    return grid.scale(z) * density


def tile_transform(grid: TileGrid, key: TileKey) -> TileTransform:
    """The transform that draws the venue into one tile."""
    size = key.size_px
    return TileTransform(pixel_scale(grid, key.z, key.density), key.x * size, key.y * size, size)


def world_size_px(grid: TileGrid, z: int, density: int = 1) -> tuple[int, int]:
    """The venue's drawn size at zoom z and density, in pixels."""
    s = pixel_scale(grid, z, density)
    return max(1, math.ceil(grid.width * s)), max(1, math.ceil(grid.height * s))


def lod_zooms(grid: TileGrid) -> dict[str, int]:
    """The first zoom of each level of detail."""
    return {Lod.SECTION.value: 0, Lod.SEAT.value: grid.seat_lod_zoom,
            Lod.DETAIL.value: grid.detail_lod_zoom}


def bucket_by_tile(
    grid: TileGrid,
    z: int,
    density: int,
    x0: npt.NDArray[np.float64],
    y0: npt.NDArray[np.float64],
    x1: npt.NDArray[np.float64],
    y1: npt.NDArray[np.float64],
) -> dict[tuple[int, int], npt.NDArray[np.int64]]:
    """Which items (given by pixel boxes at this zoom and density) touch which tile.

    Returns {(tx, ty): item indices}; an item whose box crosses a tile edge is
    listed under every tile it touches.
    """
    size = TILE_PX * density
    nx, ny = grid.tile_count(z)
    tx0 = np.clip(np.floor(x0 / size), 0, nx - 1).astype(np.int64)
    ty0 = np.clip(np.floor(y0 / size), 0, ny - 1).astype(np.int64)
    tx1 = np.clip(np.floor(x1 / size), 0, nx - 1).astype(np.int64)
    ty1 = np.clip(np.floor(y1 / size), 0, ny - 1).astype(np.int64)
    items = np.arange(x0.size, dtype=np.int64)
    tiles: list[npt.NDArray[np.int64]] = []
    owners: list[npt.NDArray[np.int64]] = []
    for dx in range(int((tx1 - tx0).max(initial=0)) + 1):
        for dy in range(int((ty1 - ty0).max(initial=0)) + 1):
            keep = (tx0 + dx <= tx1) & (ty0 + dy <= ty1)
            tiles.append((ty0[keep] + dy) * nx + (tx0[keep] + dx))
            owners.append(items[keep])
    if not tiles:
        return {}
    tile_ids = np.concatenate(tiles)
    item_ids = np.concatenate(owners)
    order = np.argsort(tile_ids, kind="stable")
    tile_ids, item_ids = tile_ids[order], item_ids[order]
    bounds = np.flatnonzero(np.diff(tile_ids)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [tile_ids.size]))
    out: dict[tuple[int, int], npt.NDArray[np.int64]] = {}
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        tid = int(tile_ids[s])
        out[(tid % nx, tid // nx)] = np.sort(item_ids[s:e])
    return out


def parse_tile_name(name: str) -> tuple[int, int, str] | None:
    """Split "12.png", "12@2x.webp" into (y, density, format); None if malformed."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS:
        return None
    density = 1
    if stem.endswith("@2x"):
        density, stem = 2, stem[:-3]
    if not stem.isascii() or not stem.isdigit() or len(stem) > 9:
        return None
    return int(stem), density, fmt
