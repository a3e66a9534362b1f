"""Tile pyramid geometry: which pixels, tiles and levels of detail a venue has.

Zoom 0 fits the whole venue in one 256 px tile; each zoom doubles the scale.
Tile (z, x, y) covers pixels [256x, 256x+256) x [256y, 256y+256) of the venue
drawn at `scale(z)` pixels per venue unit, origin top-left, y down. A `@2x`
tile covers the same area with 512 px. Both services use this module: the tile
server to draw, the lock service to say which tiles a change makes dirty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from seatmap.model import Venue

TILE_PX = 256
# Seat diameter in pixels at which each level of detail begins. The detail LOD
# (where a click holds a seat) begins where a seat number can be 9 px high; the
# deepest zoom is where seats are a finger (44 px) apart, so a tap can hold
# without the map ever enlarging tiles past the pyramid.
SEAT_LOD_MIN_DIAMETER_PX = 4.0
DETAIL_LOD_MIN_DIAMETER_PX = 20.0
MAX_ZOOM_MIN_DIAMETER_PX = 44.0
# Beyond this many dirty tiles in one zoom, a message names their bounding range.
MAX_LISTED_DIRTY_TILES = 64
# Extra pixels around a seat's disc touched by anti-aliasing and its outline.
SEAT_PAD_PX = 2.0

TileRect = tuple[int, int, int, int]  # x0, y0, x1, y1 inclusive


class Lod(StrEnum):
    """Level of detail drawn at a zoom."""

    SECTION = "section"
    SEAT = "seat"
    DETAIL = "detail"


@dataclass(frozen=True, slots=True)
class TileGrid:
    """The pyramid of one venue: its zoom range, LOD boundaries and tile math."""

    width: float
    height: float
    seat_diameter: float
    seat_lod_zoom: int
    detail_lod_zoom: int
    max_zoom: int

    @property
    def scale0(self) -> float:
        """Pixels per venue unit at zoom 0."""
        return float(TILE_PX / max(self.width, self.height))

    def scale(self, z: int) -> float:
        """Pixels per venue unit at zoom z (for 1x tiles)."""
        return math.ldexp(self.scale0, z)

    def world_px(self, z: int) -> tuple[int, int]:
        """Size of the whole venue in pixels at zoom z."""
        s = self.scale(z)
        return max(1, math.ceil(self.width * s)), max(1, math.ceil(self.height * s))

    def tile_count(self, z: int) -> tuple[int, int]:
        """Number of tiles across and down at zoom z."""
        w, h = self.world_px(z)
        return math.ceil(w / TILE_PX), math.ceil(h / TILE_PX)

    def has_tile(self, z: int, x: int, y: int) -> bool:
        """True when (z, x, y) lies inside the pyramid."""
        if not 0 <= z <= self.max_zoom:
            return False
        nx, ny = self.tile_count(z)
        return 0 <= x < nx and 0 <= y < ny

    def lod(self, z: int) -> Lod:
        """The level of detail drawn at zoom z."""
        if z >= self.detail_lod_zoom:
            return Lod.DETAIL
        if z >= self.seat_lod_zoom:
            return Lod.SEAT
        return Lod.SECTION

    def tile_bounds(self, z: int, x: int, y: int) -> tuple[float, float, float, float]:
        """The venue-unit box (x0, y0, x1, y1) a tile covers."""
        s = self.scale(z)
        return (x * TILE_PX / s, y * TILE_PX / s, (x + 1) * TILE_PX / s, (y + 1) * TILE_PX / s)

    def tiles_touching(
        self, z: int, x0: float, y0: float, x1: float, y1: float, pad_px: float = SEAT_PAD_PX
    ) -> TileRect:
        """The inclusive tile range at zoom z touched by a venue-unit box plus padding."""
        s = self.scale(z)
        nx, ny = self.tile_count(z)
        tx0 = max(0, math.floor((x0 * s - pad_px) / TILE_PX))
        ty0 = max(0, math.floor((y0 * s - pad_px) / TILE_PX))
        tx1 = min(nx - 1, math.floor((x1 * s + pad_px) / TILE_PX))
        ty1 = min(ny - 1, math.floor((y1 * s + pad_px) / TILE_PX))
        return tx0, ty0, tx1, ty1


def grid_for(venue: Venue) -> TileGrid:
    """Choose the zoom range of a venue so a seat is at least 44 px wide at max zoom."""
    diameter = float(np.median(venue.seats.radius)) * 2.0 if venue.seat_count else 1.0
    diameter = max(diameter, 1e-6)
    scale0 = TILE_PX / max(venue.width, venue.height)

    def first_zoom_reaching(px: float) -> int:
        return max(0, math.ceil(math.log2(px / (diameter * scale0))))

    seat_lod = first_zoom_reaching(SEAT_LOD_MIN_DIAMETER_PX)
    detail_lod = max(seat_lod + 1, first_zoom_reaching(DETAIL_LOD_MIN_DIAMETER_PX))
    max_zoom = max(detail_lod, first_zoom_reaching(MAX_ZOOM_MIN_DIAMETER_PX))
    return TileGrid(
        width=venue.width,
        height=venue.height,
        seat_diameter=diameter,
        seat_lod_zoom=seat_lod,
        detail_lod_zoom=detail_lod,
        max_zoom=max_zoom,
    )


def dirty_tiles(
    venue: Venue, grid: TileGrid, seat_indices: npt.NDArray[np.int64] | list[int]
) -> dict[int, list[TileRect]]:
    """For each zoom, the tiles whose pixels may change when these seats change.

    At section LOD a seat changes its section's fill, so every tile of the
    section's outline is dirty; at seat and detail LOD only the seat's own tiles.
    A zoom with more than MAX_LISTED_DIRTY_TILES tiles is given as one range.
    """
    seats = np.asarray(seat_indices, dtype=np.int64)
    out: dict[int, list[TileRect]] = {}
    if seats.size == 0:
        return out
    xs = venue.seats.x[seats]
    ys = venue.seats.y[seats]
    rs = venue.seats.radius[seats]
    section_boxes = [_outline_box(venue, int(sec)) for sec in np.unique(venue.seats.section[seats])]
    for z in range(grid.max_zoom + 1):
        if grid.lod(z) is Lod.SECTION:
            boxes = section_boxes
        else:
            boxes = [
                (float(x - r), float(y - r), float(x + r), float(y + r))
                for x, y, r in zip(xs, ys, rs, strict=True)
            ]
        rects = [grid.tiles_touching(z, *box) for box in boxes]
        out[z] = _merge_rects(rects)
    return out


def _outline_box(venue: Venue, section_index: int) -> tuple[float, float, float, float]:
    section = venue.sections[section_index]
    seats_in = venue.seats.section == section_index
    xs = [p[0] for p in section.outline]
    ys = [p[1] for p in section.outline]
    if seats_in.any():
        r = float(venue.seats.radius[seats_in].max())
        xs += [float(venue.seats.x[seats_in].min() - r), float(venue.seats.x[seats_in].max() + r)]
        ys += [float(venue.seats.y[seats_in].min() - r), float(venue.seats.y[seats_in].max() + r)]
    return min(xs), min(ys), max(xs), max(ys)


def _merge_rects(rects: list[TileRect]) -> list[TileRect]:
    """List every tile of the rects, or their bounding range when there are too many."""
    total = sum((x1 - x0 + 1) * (y1 - y0 + 1) for x0, y0, x1, y1 in rects)
    if total > MAX_LISTED_DIRTY_TILES:
        return [
            (
                min(r[0] for r in rects),
                min(r[1] for r in rects),
                max(r[2] for r in rects),
                max(r[3] for r in rects),
            )
        ]
    tiles = {
        (tx, ty) for x0, y0, x1, y1 in rects for tx in range(x0, x1 + 1) for ty in range(y0, y1 + 1)
    }
    return [(x, y, x, y) for x, y in sorted(tiles)]
