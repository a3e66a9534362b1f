"""Seat lookups for the viewer: seats.bin, nearest seat, one seat."""

from __future__ import annotations

import struct

import httpx
import numpy as np
import pytest

from seatmap.context import ServiceContext
from seatmap.status import SeatStatus
from tests.tileserver.conftest import EventFactory, Hall, set_status_and_wait
from tileserver.seatsapi import SEAT_RECORD


async def test_seats_bin_lists_the_seats_in_a_box_with_live_statuses(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    await set_status_and_wait(ctx, event_id, [3], SeatStatus.HELD)
    seats = hall.venue.seats
    box = (0.0, 0.0, 300.0, 200.0)
    resp = await client.get(f"/events/{event_id}/seats.bin?bbox=0,0,300,200")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers["x-status-version"] != "0-0"
    magic, version, count = struct.unpack_from("<4sII", resp.content)
    assert (magic, version) == (b"SEAT", 1)
    records = np.frombuffer(resp.content, dtype=SEAT_RECORD, offset=12)
    assert records.size == count
    inside = np.flatnonzero((seats.x >= box[0]) & (seats.x <= box[2])
                            & (seats.y >= box[1]) & (seats.y <= box[3]))
    assert sorted(records["index"].tolist()) == inside.tolist()
    by_index = {int(r["index"]): r for r in records}
    assert by_index[3]["status"] == SeatStatus.HELD
    assert by_index[4]["status"] == SeatStatus.AVAILABLE
    assert by_index[3]["x"] == pytest.approx(float(seats.x[3]))
    assert by_index[3]["radius"] == pytest.approx(float(seats.radius[3]))
    wheelchair = int(np.flatnonzero(seats.accessible)[0])
    assert by_index[wheelchair]["flags"] & 1 and by_index[wheelchair]["flags"] & 2
    assert by_index[wheelchair + 1]["flags"] & 4  # companion seat


async def test_seats_bin_without_box_lists_every_seat(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    resp = await client.get(f"/events/{event_id}/seats.bin")
    assert struct.unpack_from("<4sII", resp.content)[2] == hall.venue.seat_count
    assert len(resp.content) == 12 + 20 * hall.venue.seat_count


async def test_seat_at_finds_the_nearest_seat_within_r(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    await set_status_and_wait(ctx, event_id, [12], SeatStatus.SOLD)
    seats = hall.venue.seats
    x, y = float(seats.x[12]) + 3, float(seats.y[12]) - 2
    resp = await client.get(f"/events/{event_id}/seats/at?x={x}&y={y}&r=10")
    assert resp.status_code == 200
    seat = resp.json()
    assert seat["index"] == 12
    assert seat["id"] == seats.external_ids[12]
    assert seat["label"] == hall.venue.full_label(12)
    assert seat["status"] == "sold"
    assert seat["section"] == hall.venue.sections[int(seats.section[12])].name
    assert seat["price_cents"] == hall.venue.categories[int(seats.category[12])].price_cents
    assert set(seat) >= {"row", "seat", "category", "accessible", "seat_type"}
    miss = await client.get(f"/events/{event_id}/seats/at?x=1&y=1&r=2")
    assert miss.status_code == 404


async def test_seat_by_index(client: httpx.AsyncClient, hall: Hall,
                             new_event: EventFactory) -> None:
    event_id = await new_event()
    resp = await client.get(f"/events/{event_id}/seats/0")
    assert resp.status_code == 200
    body = resp.json()
    assert body["index"] == 0 and body["status"] == "available"
    assert body["seat_type"] == "wheelchair" and body["accessible"] is True
    assert (await client.get(f"/events/{event_id}/seats/{hall.venue.seat_count}")).status_code \
        == 404
    assert (await client.get(f"/events/{event_id}/seats/xyz")).status_code == 400
    assert (await client.get(f"/events/{event_id}/seats/%C2%B2")).status_code == 400


@pytest.mark.parametrize("path", [
    "seats.bin?bbox=1,2,3",
    "seats.bin?bbox=a,b,c,d",
    "seats/at?x=1",
    "seats/at?x=1&y=nan",
    "seats/at?x=1&y=1&r=-1",
])
async def test_seat_lookups_reject_bad_parameters(
    client: httpx.AsyncClient, new_event: EventFactory, path: str,
) -> None:
    event_id = await new_event()
    resp = await client.get(f"/events/{event_id}/{path}")
    assert resp.status_code == 400
    assert resp.json()["error"] == "bad_request"
