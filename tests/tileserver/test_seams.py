"""Neighbouring tiles line up with no seams, and 1x and 2x tiles agree."""

from __future__ import annotations

import httpx
import numpy as np

from seatmap.grid import Lod
from tests.tileserver.conftest import EventFactory, Hall, decode, tile_url


async def fetch(client: httpx.AsyncClient, event_id: int, z: int, x: int, y: int,
                density: int = 1) -> np.ndarray:
    resp = await client.get(tile_url(event_id, z, x, y, density))
    assert resp.status_code == 200
    return decode(resp.content)


async def mosaic(client: httpx.AsyncClient, event_id: int, z: int, x0: int, y0: int,
                 n: int) -> np.ndarray:
    rows = []
    for y in range(y0, y0 + n):
        rows.append(np.concatenate(
            [await fetch(client, event_id, z, x, y) for x in range(x0, x0 + n)], axis=1))
    return np.concatenate(rows, axis=0)


def seat_disc_mask(hall: Hall, z_scale: float, x0_px: int, y0_px: int, size: int,
                   shrink_px: float) -> np.ndarray:
    """Pixels well inside some seat's disc, in a size x size window at (x0_px, y0_px)."""
    seats = hall.venue.seats
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    mask = np.zeros((size, size), bool)
    cx = seats.x.astype(np.float64) * z_scale - x0_px
    cy = seats.y.astype(np.float64) * z_scale - y0_px
    r = seats.radius.astype(np.float64) * z_scale - shrink_px
    near = np.flatnonzero((cx > -r) & (cx < size + r) & (cy > -r) & (cy < size + r))
    for i in near.tolist():
        mask |= (xx - cx[i]) ** 2 + (yy - cy[i]) ** 2 <= r[i] ** 2
    return mask


async def test_four_tiles_match_the_2x_tile_above_them_at_every_seat_pixel(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    """The 2x tile of zoom z and the 2x2 1x tiles of zoom z+1 share one pixel grid:
    seats cut by the 1x tiles' edges must come out exactly as in the uncut 2x tile."""
    event_id = await new_event()
    grid = hall.grid
    z = grid.seat_lod_zoom
    assert grid.lod(z + 1) is Lod.SEAT
    nx, _ = grid.tile_count(z)
    checked = 0
    for x in range(nx):
        whole = await fetch(client, event_id, z, x, 0, density=2)
        pieces = await mosaic(client, event_id, z + 1, 2 * x, 0, 2)
        inner = seat_disc_mask(hall, grid.scale(z + 1), 512 * x, 0, 512, shrink_px=1.0)
        assert inner.any()
        assert np.array_equal(whole[inner], pieces[inner]), x
        # Edges are anti-aliased with levels chosen per tile (and accessible markers
        # keep their CSS-pixel margin): close, not identical.
        disc = seat_disc_mask(hall, grid.scale(z + 1), 512 * x, 0, 512, shrink_px=-0.5)
        gap = np.abs(whole[disc].astype(int) - pieces[disc].astype(int))
        assert gap.mean() < 2 and np.percentile(gap, 99.5) <= 48, x
        checked += int(inner.sum())
    assert checked > 10_000


async def test_no_seam_between_neighbouring_tiles(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    """Pixels on both sides of every tile edge continue the same drawing: compare the
    jump across the edge with the jumps between neighbouring columns inside tiles."""
    event_id = await new_event()
    z = hall.grid.detail_lod_zoom
    nx, _ = hall.grid.tile_count(z)
    image = np.concatenate([await fetch(client, event_id, z, x, 0) for x in range(nx)], axis=1)
    grey = image[..., :3].astype(np.int32).sum(axis=2)
    jumps = np.abs(np.diff(grey, axis=1)).mean(axis=0)
    edges = jumps[255::256][: nx - 1]
    inside = np.delete(jumps, np.arange(255, jumps.size, 256))
    assert edges.max() <= np.percentile(inside, 99.5)


async def test_1x_and_2x_tiles_agree(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    for z in range(hall.grid.max_zoom + 1):
        nx, ny = hall.grid.tile_count(z)
        x, y = nx // 2, ny // 2
        one = (await fetch(client, event_id, z, x, y)).astype(np.float64)
        two = (await fetch(client, event_id, z, x, y, density=2)).astype(np.float64)
        down = two.reshape(256, 2, 256, 2, 4).mean(axis=(1, 3))
        diff = np.abs(down - one)[..., :3].mean()
        assert diff < 12.0, (z, diff)
        # At seat centres the colours agree closely whatever the drawing size.
        s = hall.grid.scale(z)
        seats = hall.venue.seats
        px = (seats.x * s - 256 * x).astype(int)
        py = (seats.y * s - 256 * y).astype(int)
        inside = (px >= 1) & (px < 255) & (py >= 1) & (py < 255)
        if hall.grid.lod(z) is Lod.SEAT and inside.any():
            a = one[py[inside], px[inside], :3]
            b = down[py[inside], px[inside], :3]
            assert np.median(np.abs(a - b)) < 20, z
