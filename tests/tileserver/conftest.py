"""Fixtures of the tile-server tests: a rendered test hall, events on it, an in-process app.

The hall is big enough to have all three levels of detail (sections at zooms
0-1, seats at 2-3, detail at 4-5). Its pyramid is rendered once per run into
the run's data dir; every test that changes statuses makes its own event.
Statuses are set the way the lock service sets them: the status bytes in
Redis plus one change-log entry (XADD) per change.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import pytest
import pyvips

from seatmap.context import ServiceContext
from seatmap.grid import TileGrid, grid_for
from seatmap.livekeys import status_key, stream_key
from seatmap.model import Venue
from tests.venues import grid_venue, store_event
from tileserver.app import create_app
from tileserver.render.prerender import ensure_pyramid


@dataclass(frozen=True)
class Hall:
    """The shared test venue, its grid and where its pyramid lives."""

    venue: Venue
    grid: TileGrid
    pyramid: Path


@pytest.fixture(scope="session")
def hall(settings: object) -> Hall:
    """Six sections of 10 rows x 20 seats, pre-rendered once."""
    venue = grid_venue(sections=6, rows=10, seats_per_row=20, name="Tile Hall")
    tiles_dir = settings.tiles_dir  # type: ignore[attr-defined]
    path = ensure_pyramid(venue, tiles_dir, workers=1, progress=False)
    return Hall(venue, grid_for(venue), path)


EventFactory = Callable[[], Awaitable[int]]


@pytest.fixture
def new_event(ctx: ServiceContext, hall: Hall) -> EventFactory:
    """Make a fresh event on the hall (all seats available)."""

    async def make() -> int:
        return await store_event(ctx, hall.venue, title="Tile Night")

    return make


@pytest.fixture(scope="session")
async def client(ctx: ServiceContext) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the tile app in-process, lifespan started."""
    app = create_app(ctx=ctx)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tiles.test") as c:
            yield c


async def set_status(ctx: ServiceContext, event_id: int, seats: list[int], status: int) -> None:
    """Write status bytes and log the change, exactly as the lock service does."""
    prefix = ctx.settings.redis_prefix
    async with ctx.redis.pipeline(transaction=True) as pipe:
        for seat in seats:
            pipe.setrange(status_key(prefix, event_id), seat, bytes([status]))
        pipe.xadd(stream_key(prefix, event_id), {
            "kind": "hold" if status == 1 else "sold" if status == 2 else "block",
            "status": str(status),
            "seats": ",".join(str(s) for s in seats),
        })
        await pipe.execute()


async def set_status_and_wait(
    ctx: ServiceContext, event_id: int, seats: list[int], status: int, timeout_s: float = 1.0
) -> None:
    """`set_status`, then return once this process's change feed shows the last of the seats
    in its new status; fails the test if that takes longer than `timeout_s`."""
    await set_status(ctx, event_id, seats, status)
    deadline = time.monotonic() + timeout_s
    while (await ctx.feed.statuses(event_id))[seats[-1]] != status:
        assert time.monotonic() < deadline, f"change not applied within {timeout_s} s"
        await asyncio.sleep(0.01)


def decode(body: bytes) -> npt.NDArray[np.uint8]:
    """A PNG or WebP as an (H, W, 4) RGBA array."""
    image = pyvips.Image.new_from_buffer(body, "")
    if image.bands == 3:
        image = image.bandjoin(255)
    if image.bands == 2:  # grey + alpha
        image = image[0].bandjoin([image[0], image[0], image[1]])
    data = np.frombuffer(image.write_to_memory(), dtype=np.uint8)
    return data.reshape(image.height, image.width, image.bands)


def hex_rgb(color: str) -> tuple[int, int, int]:
    """"#rrggbb" as a tuple."""
    value = color.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def seat_pixel(hall: Hall, seat: int, z: int, density: int) -> tuple[int, int, int, int]:
    """(tile x, tile y, pixel x, pixel y) of a seat's centre at zoom z and density."""
    scale = hall.grid.scale(z) * density
    size = 256 * density
    px = float(hall.venue.seats.x[seat]) * scale
    py = float(hall.venue.seats.y[seat]) * scale
    tx, ty = int(px // size), int(py // size)
    return tx, ty, int(px - tx * size), int(py - ty * size)


def tile_url(event_id: int, z: int, x: int, y: int, density: int = 1, fmt: str = "png") -> str:
    """The URL of one tile."""
    suffix = "@2x" if density == 2 else ""
    return f"/events/{event_id}/tiles/{z}/{x}/{y}{suffix}.{fmt}"
