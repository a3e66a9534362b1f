"""ETags: content-addressed, so one seat's change touches exactly the tiles that show it."""

from __future__ import annotations

import httpx
import numpy as np

from seatmap.context import ServiceContext
from seatmap.grid import Lod
from seatmap.status import SeatStatus
from tests.tileserver.conftest import EventFactory, Hall, set_status_and_wait, tile_url


async def all_etags(client: httpx.AsyncClient, hall: Hall, event_id: int,
                    z: int, density: int) -> dict[tuple[int, int], str]:
    nx, ny = hall.grid.tile_count(z)
    out = {}
    for y in range(ny):
        for x in range(nx):
            resp = await client.get(tile_url(event_id, z, x, y, density))
            assert resp.status_code == 200
            out[(x, y)] = resp.headers["etag"]
    return out


def tiles_showing(hall: Hall, seat: int, z: int, inset_px: float) -> set[tuple[int, int]]:
    """Tiles whose pixel area meets the seat's disc grown (or shrunk) by `inset_px`."""
    s = hall.grid.scale(z)
    x, y = float(hall.venue.seats.x[seat]) * s, float(hall.venue.seats.y[seat]) * s
    r = float(hall.venue.seats.radius[seat]) * s + inset_px
    nx, ny = hall.grid.tile_count(z)
    return {
        (tx, ty)
        for tx in range(int((x - r) // 256), int((x + r) // 256) + 1)
        for ty in range(int((y - r) // 256), int((y + r) // 256) + 1)
        if 0 <= tx < nx and 0 <= ty < ny
    }


def seat_on_tile_edge(hall: Hall, z: int) -> int:
    """A seat whose disc crosses a vertical tile edge at zoom z."""
    s = hall.grid.scale(z)
    xs = hall.venue.seats.x.astype(np.float64) * s
    r = hall.venue.seats.radius.astype(np.float64) * s
    frac = xs % 256
    crossing = np.flatnonzero((frac < r * 0.5) | (frac > 256 - r * 0.5))
    assert crossing.size
    return int(crossing[0])


async def test_one_seat_change_changes_exactly_the_tiles_that_show_it(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    zooms = [z for z in range(hall.grid.max_zoom + 1) if hall.grid.lod(z) is not Lod.SECTION]
    seat = seat_on_tile_edge(hall, hall.grid.max_zoom)
    before = {(z, d): await all_etags(client, hall, event_id, z, d)
              for z in zooms for d in (1, 2)}
    await set_status_and_wait(ctx, event_id, [seat], SeatStatus.SOLD)
    for z in zooms:
        for density in (1, 2):
            after = await all_etags(client, hall, event_id, z, density)
            changed = {t for t, tag in after.items() if tag != before[(z, density)][t]}
            # Every tile the disc certainly covers, and none beyond its anti-aliased edge.
            assert tiles_showing(hall, seat, z, -1.0) <= changed, (z, density)
            assert changed <= tiles_showing(hall, seat, z, +1.0), (z, density)
    assert len(tiles_showing(hall, seat, hall.grid.max_zoom, -1.0)) == 2


async def test_section_tiles_change_only_where_the_section_is(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    z = hall.grid.seat_lod_zoom - 1
    section = 0
    members = np.flatnonzero(hall.venue.seats.section == section).tolist()
    before = await all_etags(client, hall, event_id, z, 1)
    await set_status_and_wait(ctx, event_id, members, SeatStatus.SOLD)
    after = await all_etags(client, hall, event_id, z, 1)
    changed = {t for t, tag in after.items() if tag != before[t]}
    outline = hall.venue.sections[section].outline
    s = hall.grid.scale(z)
    x1 = max(p[0] for p in outline) * s
    expected = {(tx, ty) for (tx, ty) in after if tx * 256 <= x1 + 1}
    assert changed and changed <= expected


async def test_etags_agree_across_processes_and_runs(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    """Two events in the same state on the same venue get the same tile ETags."""
    a, b = await new_event(), await new_event()
    await set_status_and_wait(ctx, a, [5, 6], SeatStatus.HELD)
    await set_status_and_wait(ctx, b, [5, 6], SeatStatus.HELD)
    z = hall.grid.max_zoom
    tag_a = (await client.get(tile_url(a, z, 0, 0))).headers["etag"]
    tag_b = (await client.get(tile_url(b, z, 0, 0))).headers["etag"]
    assert tag_a == tag_b


async def test_if_none_match_gives_304_until_the_tile_changes(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    z = hall.grid.detail_lod_zoom
    url = tile_url(event_id, z, 0, 0)
    first = await client.get(url)
    etag = first.headers["etag"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    listed = await client.get(url, headers={"If-None-Match": f'"nope", W/{etag}'})
    assert listed.status_code == 304
    await set_status_and_wait(ctx, event_id, [0], SeatStatus.SOLD)
    changed = await client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.content[:8] == b"\x89PNG\r\n\x1a\n"


async def test_hot_hits_are_all_in_the_metrics_when_scraped(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    url = tile_url(event_id, hall.grid.max_zoom, 1, 0)

    async def hot_count() -> float:
        text = (await client.get("/metrics")).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("seatmap_tile_requests_total{") and 'result="hot"' in line)

    assert (await client.get(url)).status_code == 200  # computed, then remembered
    before = await hot_count()
    for _ in range(7):
        assert (await client.get(url)).status_code == 200
    assert await hot_count() == before + 7
