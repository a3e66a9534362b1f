"""Request parsing and reply shapes shared by the buyer and operator routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from httpkit.contract import EventPath, parse_params
from lockservice.engine import LockEngine
from lockservice.errors import UnknownSeats
from lockservice.models import HoldPath
from lockservice.rules import MAX_SEATS_PER_REQUEST
from seatmap.context import EventView
from seatmap.errors import BadRequest, Unprocessable


def iso_ms(ms: int) -> str:
    """Milliseconds since the epoch as an ISO 8601 UTC time."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def event_view(service: LockEngine, request: Request) -> EventView:
    """The event named in the path; 400 for a malformed id, 404 if there is none."""
    event_id = parse_params(EventPath, request.path_params).event_id
    view = await service.ctx.catalog.get(event_id)
    service.events.add(event_id)
    return view


def hold_token(request: Request) -> str:
    """The hold token named in the path (checked against its declared bounds)."""
    return parse_params(HoldPath, request.path_params).hold_token


def seat_indices(view: EventView, raw: object, field: str = "seats") -> list[int]:
    """Map a JSON list of seat ids, labels ("112-F-7") or indices to seat indices."""
    if not isinstance(raw, list) or not raw:
        raise BadRequest(f"{field} must be a non-empty list of seat ids or labels", field=field)
    if len(raw) > MAX_SEATS_PER_REQUEST:
        raise Unprocessable(
            f"at most {MAX_SEATS_PER_REQUEST} seats per request",
            field=field,
            limit=MAX_SEATS_PER_REQUEST,
        )
    venue = view.venue
    found: list[int] = []
    unknown: list[str] = []
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise BadRequest(f"{field} must hold strings (seat ids or labels)", field=field)
        if isinstance(item, int):
            index = item if 0 <= item < venue.seat_count else None
        else:
            index = venue.seat_index_of(item) if len(item) <= 200 else None
        if index is None:
            unknown.append(str(item)[:200])
        else:
            found.append(index)
    if unknown:
        raise UnknownSeats(unknown)
    if len(set(found)) != len(found):
        raise Unprocessable("a seat is named twice", field=field)
    return found


def seats_json(view: EventView, seats: list[int] | tuple[int, ...]) -> list[dict[str, Any]]:
    """Seats as `{index, id, label}` objects."""
    ids = view.venue.seats.external_ids
    return [{"index": s, "id": ids[s], "label": view.venue.full_label(s)} for s in seats]
