from __future__ import annotations

import math

from seatmap.grid import MAX_LISTED_DIRTY_TILES, TILE_PX, Lod, dirty_tiles, grid_for
from tests.venues import grid_venue


def test_zoom_zero_fits_the_venue_in_one_tile_and_max_zoom_puts_seats_a_finger_apart() -> None:
    venue = grid_venue(sections=6, rows=20, seats_per_row=30)
    grid = grid_for(venue)
    assert grid.tile_count(0) == (1, 1)
    assert max(grid.world_px(0)) == TILE_PX
    assert grid.seat_diameter * grid.scale(grid.max_zoom) >= 44
    assert (
        grid.seat_diameter * grid.scale(grid.max_zoom - 1) < 44
        or grid.max_zoom == grid.detail_lod_zoom
    )
    # The detail zoom (numbers drawn, a click holds) has seats wide enough for them.
    assert grid.seat_diameter * grid.scale(grid.detail_lod_zoom) >= 20
    assert grid.seat_diameter * grid.scale(grid.detail_lod_zoom - 1) < 20
    assert grid.lod(0) is Lod.SECTION or grid.seat_lod_zoom == 0
    assert grid.lod(grid.max_zoom) is Lod.DETAIL
    for z in range(grid.max_zoom + 1):
        nx, ny = grid.tile_count(z)
        w, h = grid.world_px(z)
        assert nx == math.ceil(w / TILE_PX) and ny == math.ceil(h / TILE_PX)
        assert grid.has_tile(z, nx - 1, ny - 1) and not grid.has_tile(z, nx, 0)


def test_dirty_tiles_contain_the_seat_pixel_at_every_zoom() -> None:
    venue = grid_venue(sections=6, rows=20, seats_per_row=30)
    grid = grid_for(venue)
    seat = 777
    dirty = dirty_tiles(venue, grid, [seat])
    assert set(dirty) == set(range(grid.max_zoom + 1))
    for z, rects in dirty.items():
        s = grid.scale(z)
        tx = int(venue.seats.x[seat] * s // TILE_PX)
        ty = int(venue.seats.y[seat] * s // TILE_PX)
        assert any(x0 <= tx <= x1 and y0 <= ty <= y1 for x0, y0, x1, y1 in rects), z
        if grid.lod(z) is not Lod.SECTION:
            assert sum((r[2] - r[0] + 1) * (r[3] - r[1] + 1) for r in rects) <= 4


def test_many_dirty_tiles_collapse_to_one_range() -> None:
    venue = grid_venue(sections=6, rows=20, seats_per_row=30)
    grid = grid_for(venue)
    dirty = dirty_tiles(venue, grid, list(range(venue.seat_count)))
    deepest = dirty[grid.max_zoom]
    nx, ny = grid.tile_count(grid.max_zoom)
    if nx * ny > MAX_LISTED_DIRTY_TILES:
        assert len(deepest) == 1
    assert dirty_tiles(venue, grid, []) == {}
