"""The lock service as buyers and the box office use it in the fault tests, over real HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from seatmap.model import Venue

API_KEY = "ops-operator-key"


class Api:
    """The lock service as buyers and the box office use it, over real HTTP."""

    def __init__(self, http: httpx.AsyncClient, event_id: int) -> None:
        self.http = http
        self.event_id = event_id

    async def session(self) -> tuple[str, str]:
        """A new buyer session: (token, buyer id); fails the test unless 201."""
        response = await self.http.post("/sessions", json={})
        assert response.status_code == 201, response.text
        body = response.json()
        return body["token"], body["buyer_id"]

    async def hold(self, token: str, seats: list[str]) -> httpx.Response:
        """POST a hold of these seat ids."""
        return await self.http.post(
            f"/events/{self.event_id}/holds",
            json={"seats": seats},
            headers={"Authorization": f"Bearer {token}"},
        )

    async def held(self, token: str, seats: list[str]) -> str:
        """Hold these seat ids for the buyer of `token`; the hold token (the test fails unless
        the answer is 201)."""
        response = await self.hold(token, seats)
        assert response.status_code == 201, response.text
        hold_token: str = response.json()["hold_token"]
        return hold_token

    async def confirm(self, hold_token: str, idempotency_key: str) -> httpx.Response:
        """Confirm a hold as a sale with the operator key."""
        return await self.http.post(
            f"/events/{self.event_id}/holds/{hold_token}/confirm",
            json={},
            headers={"X-API-Key": API_KEY, "Idempotency-Key": idempotency_key},
        )

    async def tile_paths(self, max_tiles: int = 12) -> list[str]:
        """Paths of real tiles of the event (from its TileJSON), low zooms first."""
        response = await self.http.get(f"/events/{self.event_id}/tiles.json")
        assert response.status_code == 200, response.text
        doc = response.json()
        template = httpx.URL(doc["tiles"][0]).path
        paths: list[str] = []
        for z in range(int(doc.get("minzoom", 0)), int(doc["maxzoom"]) + 1):
            for x in range(2**z):
                for y in range(2**z):
                    if len(paths) < max_tiles:
                        path = template.replace("{z}", str(z)).replace("{x}", str(x))
                        paths.append(path.replace("{y}", str(y)))
        return paths


@contextlib.asynccontextmanager
async def open_api(
    url: str, event_id: int, timeout_s: float = 10, limits: httpx.Limits | None = None
) -> AsyncIterator[Api]:
    """An `Api` for the event on a new HTTP client to `url` (httpx's default connection
    limits unless given), closed when the block is left."""
    client = (
        httpx.AsyncClient(base_url=url, timeout=timeout_s)
        if limits is None
        else httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits)
    )
    async with client as http:
        yield Api(http, event_id)


def seat_index(venue: Venue, seat_id: str) -> int:
    """The index of a seat id the venue is known to have."""
    index = venue.seat_index_of(seat_id)
    assert index is not None, seat_id
    return index


def seat_pairs(venue: Venue) -> list[list[str]]:
    """Disjoint pairs of adjacent standard seats, row by row."""
    from seatmap.model import NO_NEIGHBOUR, SeatType

    seats = venue.seats
    pairs: list[list[str]] = []
    for row in venue.rows:
        chosen: list[int] = []
        for index in row.seat_indices:
            if seats.seat_type[index] != SeatType.STANDARD:
                chosen = []
                continue
            chosen.append(index)
            if len(chosen) == 2:
                pairs.append([seats.external_ids[i] for i in chosen])
                chosen = []
            elif seats.right[index] == NO_NEIGHBOUR:
                chosen = []
    return pairs
