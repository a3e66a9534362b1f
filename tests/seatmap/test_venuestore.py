from __future__ import annotations

import json

import asyncpg
import numpy as np
import pytest

from seatmap.context import ServiceContext
from seatmap.errors import NotFound
from seatmap.formats import parse_pretix
from seatmap.model import NO_NEIGHBOUR, compute_content_hash
from seatmap.venuestore import load_venue, save_venue
from tests.formats.helpers import PRETIX_SMALL
from tests.venues import grid_venue


async def test_saved_venue_loads_back_identical(ctx: ServiceContext) -> None:
    venue = grid_venue(sections=3, rows=5, seats_per_row=10)
    async with ctx.pool.acquire() as conn:
        venue_id = await save_venue(conn, venue, "test")
        loaded = await load_venue(conn, venue_id)
    assert loaded.id == venue_id
    assert loaded.seat_count == venue.seat_count == 150
    assert loaded.content_hash == venue.content_hash
    for column in ("x", "y", "radius", "section", "row", "category", "left", "right"):
        np.testing.assert_array_equal(getattr(loaded.seats, column), getattr(venue.seats, column))
    assert loaded.seats.external_ids == venue.seats.external_ids
    assert [r.seat_indices for r in loaded.rows] == [r.seat_indices for r in venue.rows]
    assert loaded.areas == venue.areas
    assert loaded.sections == venue.sections
    assert loaded.categories == venue.categories


async def test_failed_import_writes_nothing(ctx: ServiceContext) -> None:
    venue = grid_venue(sections=1, rows=2, seats_per_row=4, name="Half written")
    async with ctx.pool.acquire() as conn:
        before = await conn.fetchval("SELECT count(*) FROM seats")
        await conn.execute("ALTER TABLE seats ADD CONSTRAINT test_reject CHECK (x < 0) NOT VALID")
        try:
            with pytest.raises(asyncpg.CheckViolationError):
                await save_venue(conn, venue, "test")
        finally:
            await conn.execute("ALTER TABLE seats DROP CONSTRAINT test_reject")
        assert await conn.fetchval("SELECT count(*) FROM seats") == before
        assert await conn.fetchval("SELECT count(*) FROM venues WHERE name = 'Half written'") == 0


async def test_unknown_venue_is_not_found(ctx: ServiceContext) -> None:
    async with ctx.pool.acquire() as conn:
        with pytest.raises(NotFound):
            await load_venue(conn, 987_654_321)


def test_aisle_breaks_row_adjacency() -> None:
    venue = grid_venue(sections=1, rows=1, seats_per_row=8, aisle_after=4)
    left, right = venue.seats.left, venue.seats.right
    assert right[3] == NO_NEIGHBOUR and left[4] == NO_NEIGHBOUR
    assert right[2] == 3 and left[3] == 2
    assert left[0] == NO_NEIGHBOUR and right[7] == NO_NEIGHBOUR
    for i in range(venue.seat_count):
        if right[i] != NO_NEIGHBOUR:
            assert left[right[i]] == i


def test_seat_lookup_by_id_and_label() -> None:
    venue = grid_venue(sections=2, rows=3, seats_per_row=5, aisle_after=None)
    index = venue.seat_index_of("102-C-4")
    assert index is not None
    assert venue.seat_index_of(venue.seats.external_ids[index]) == index
    assert venue.full_label(index) == "102-C-4"
    assert venue.seat_index_of("999-Z-1") is None


async def test_repeated_source_guids_are_stored_and_loaded(ctx: ServiceContext) -> None:
    doc = json.loads(PRETIX_SMALL.read_text("utf-8"))
    for row in doc["zones"][2]["rows"]:
        for seat in row["seats"]:
            seat["seat_guid"] = seat["seat_guid"].replace("B-", "P-")
    venue = parse_pretix(doc)
    async with ctx.pool.acquire() as conn:
        loaded = await load_venue(conn, await save_venue(conn, venue, "pretix"))
    assert loaded.seats.source_ids == venue.seats.source_ids
    assert loaded.seats.source_ids.count("P-1-1") == 2
    assert loaded.seats.external_ids == venue.seats.external_ids
    assert compute_content_hash(loaded) == venue.content_hash
