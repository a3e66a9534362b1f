"""Decode tiles and look at pixels where seats are, at every seat-level zoom and both scales."""

from __future__ import annotations

import asyncio
import time

import httpx
import numpy as np
import pytest

from seatmap.context import ServiceContext
from seatmap.status import SeatStatus
from tests.tileserver.conftest import (
    EventFactory,
    Hall,
    decode,
    hex_rgb,
    seat_pixel,
    set_status,
    tile_url,
)
from tileserver.render import style


def colour_at(rgba: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    r, g, b, _ = (int(v) for v in rgba[y, x])
    return (r, g, b)


def distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(np.linalg.norm(np.subtract(a, b)))


async def wait_for_change(client: httpx.AsyncClient, url: str, old_etag: str) -> httpx.Response:
    """Fetch `url` until its ETag differs from `old_etag` (at most 1 s)."""
    deadline = time.monotonic() + 1.0
    while True:
        resp = await client.get(url)
        if resp.headers["etag"] != old_etag or time.monotonic() > deadline:
            return resp
        await asyncio.sleep(0.02)


def seat_zooms(hall: Hall) -> list[int]:
    return list(range(hall.grid.seat_lod_zoom, hall.grid.max_zoom + 1))


def probe(
    hall: Hall, seat: int, z: int, density: int, ring: bool = False
) -> tuple[int, int, int, int]:
    """Tile and pixel to sample a seat at: on its ring, or its centre (below its number
    at detail LOD, where the number sits in the middle)."""
    tx, ty, px, py = seat_pixel(hall, seat, z, density)
    r_px = float(hall.venue.seats.radius[seat]) * hall.grid.scale(z) * density
    if ring:
        return tx, ty, px + round(0.8 * r_px), py
    if z >= hall.grid.detail_lod_zoom:
        py += round(0.45 * r_px)
    return tx, ty, px, py


async def test_hall_has_every_level_of_detail(hall: Hall) -> None:
    assert hall.grid.seat_lod_zoom >= 1
    assert hall.grid.detail_lod_zoom > hall.grid.seat_lod_zoom
    assert hall.grid.max_zoom >= hall.grid.detail_lod_zoom


@pytest.mark.parametrize("status, look, ring", [
    (SeatStatus.SOLD, style.SOLD, False),
    (SeatStatus.HELD, style.HELD, True),
    (SeatStatus.BLOCKED, style.BLOCKED_DOT, False),
])
async def test_changed_seat_shows_its_status_colour_at_every_seat_zoom_and_scale(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
    status: SeatStatus, look: str, ring: bool,
) -> None:
    event_id = await new_event()
    seat = 65  # row D of section 101, away from row ends
    category = hex_rgb(hall.venue.categories[int(hall.venue.seats.category[seat])].color)
    before = {}
    for z in seat_zooms(hall):
        for density in (1, 2):
            tx, ty, px, py = probe(hall, seat, z, density)
            resp = await client.get(tile_url(event_id, z, tx, ty, density))
            assert resp.status_code == 200
            rgba = decode(resp.content)
            assert colour_at(rgba, px, py) == category, (z, density)
            before[(z, density)] = resp.headers["etag"]
    await set_status(ctx, event_id, [seat], status)
    expected = hex_rgb(look)
    for z in seat_zooms(hall):
        for density in (1, 2):
            tx, ty, px, py = probe(hall, seat, z, density, ring)
            url = tile_url(event_id, z, tx, ty, density)
            resp = await wait_for_change(client, url, before[(z, density)])
            assert resp.headers["etag"] != before[(z, density)], (z, density)
            got = colour_at(decode(resp.content), px, py)
            # At the smallest seat size the probe may fall on an anti-aliased edge.
            assert distance(got, expected) < 60, (z, density, got, expected)
            assert distance(got, expected) < distance(got, category)


def seat_with_neighbours_in_one_tile(hall: Hall, z: int) -> int:
    seats = hall.venue.seats
    for seat in range(1, hall.venue.seat_count - 1):
        if seats.left[seat] < 0 or seats.right[seat] < 0:
            continue
        tiles = {seat_pixel(hall, s, z, 1)[:2] for s in (seat - 1, seat, seat + 1)}
        if len(tiles) == 1:
            return seat
    raise AssertionError("no such seat")


async def test_available_seats_keep_their_category_colour_next_to_a_sold_one(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    z = hall.grid.max_zoom
    seat = seat_with_neighbours_in_one_tile(hall, z)
    tx, ty, _, _ = seat_pixel(hall, seat, z, 1)
    first = await client.get(tile_url(event_id, z, tx, ty))
    await set_status(ctx, event_id, [seat], SeatStatus.SOLD)
    resp = await wait_for_change(client, tile_url(event_id, z, tx, ty), first.headers["etag"])
    assert resp.headers["etag"] != first.headers["etag"]
    rgba = decode(resp.content)
    for neighbour in (seat - 1, seat + 1):
        _, _, px, py = probe(hall, neighbour, z, 1)
        cat = hall.venue.categories[int(hall.venue.seats.category[neighbour])].color
        assert colour_at(rgba, px, py) == hex_rgb(cat)


async def test_held_seat_is_a_ring_and_sold_seat_a_small_dot(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    """Status is not told by colour alone: the shapes differ too."""
    event_id = await new_event()
    held, sold, free = 70, 72, 74
    z = hall.grid.detail_lod_zoom
    tx, ty, _, _ = seat_pixel(hall, held, z, 2)
    assert {seat_pixel(hall, s, z, 2)[:2] for s in (held, sold, free)} == {(tx, ty)}
    first = await client.get(tile_url(event_id, z, tx, ty, 2))
    await set_status(ctx, event_id, [held], SeatStatus.HELD)
    await set_status(ctx, event_id, [sold], SeatStatus.SOLD)
    deadline = time.monotonic() + 1.0
    while True:  # both changes applied: the tile's ETag is that of the second state
        resp = await client.get(tile_url(event_id, z, tx, ty, 2))
        live = await ctx.feed.statuses(event_id)
        if (live[held], live[sold]) == (SeatStatus.HELD, SeatStatus.SOLD) or \
                time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    resp = await client.get(tile_url(event_id, z, tx, ty, 2))
    assert resp.headers["etag"] != first.headers["etag"]
    rgba = decode(resp.content)
    scale = hall.grid.scale(z) * 2
    r_px = float(hall.venue.seats.radius[held]) * scale
    ring_at = round(r_px * 0.8)
    _, _, hx, hy = seat_pixel(hall, held, z, 2)
    _, _, sx, sy = seat_pixel(hall, sold, z, 2)
    _, _, fx, fy = seat_pixel(hall, free, z, 2)
    bed = colour_at(rgba, fx - round(r_px * 1.25), fy)  # the floor between two seats
    assert distance(colour_at(rgba, hx + ring_at, hy), hex_rgb(style.HELD)) < 30
    assert distance(colour_at(rgba, hx, hy - int(r_px * 0.3)), (255, 255, 255)) < 60
    assert distance(colour_at(rgba, sx, sy), hex_rgb(style.SOLD)) < 30
    assert distance(colour_at(rgba, sx + ring_at, sy), bed) < 30  # nothing outside the dot
    cat = hex_rgb(hall.venue.categories[int(hall.venue.seats.category[free])].color)
    assert colour_at(rgba, fx + ring_at, fy) == cat


async def test_accessible_seat_sits_on_the_accessible_marker(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    seats = hall.venue.seats
    wheelchair = int(np.flatnonzero(seats.accessible)[0])
    z = hall.grid.detail_lod_zoom
    tx, ty, px, py = seat_pixel(hall, wheelchair, z, 1)
    rgba = decode((await client.get(tile_url(event_id, z, tx, ty))).content)
    r_px = float(seats.radius[wheelchair]) * hall.grid.scale(z)
    corner = colour_at(rgba, px + int(r_px * 0.95), py + int(r_px * 0.95))
    assert distance(corner, hex_rgb(style.ACCESSIBLE)) < 40


async def test_section_level_fills_sections_by_share_of_available_seats(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    venue = hall.venue
    section = 1
    z = 0
    scale = hall.grid.scale(z)
    x0, y0, x1, y1 = (min(p[0] for p in venue.sections[section].outline),
                      min(p[1] for p in venue.sections[section].outline),
                      max(p[0] for p in venue.sections[section].outline),
                      max(p[1] for p in venue.sections[section].outline))
    # A point inside the section away from seats' rows would still be its fill at z0.
    px, py = int((x0 + x1) / 2 * scale), int((y0 + 0.2 * (y1 - y0)) * scale)
    first = await client.get(tile_url(event_id, z, 0, 0))
    full = hex_rgb(style.RAMP_COLORS[-1])
    assert colour_at(decode(first.content), px, py) == full
    members = np.flatnonzero(venue.seats.section == section).tolist()
    await set_status(ctx, event_id, members, SeatStatus.SOLD)
    resp = await wait_for_change(client, tile_url(event_id, z, 0, 0), first.headers["etag"])
    assert colour_at(decode(resp.content), px, py) == hex_rgb(style.RAMP_COLORS[0])
