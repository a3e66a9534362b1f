"""Request parsing and reply shapes shared by the buyer and operator routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from httpkit.contract import EventPath, decode_body, parse_params
from lockservice.engine import LockEngine
from lockservice.errors import UnknownSeats
from lockservice.models import HoldPath, ReleaseRequest
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


def release_selection(view: EventView, raw: bytes) -> list[int] | None:
    """The seats a release body names, or None for the whole hold.

    An empty body, or `{"all": true}`, releases everything. Any other body must
    name `seats`: unknown fields, `{}` and `{"all": false}` are a 422, so a
    misspelt field never releases every seat.
    """
    if not raw.strip():
        return None
    fields = decode_body(dict[str, Any], raw)
    unknown = sorted(set(fields) - set(ReleaseRequest.__struct_fields__))
    if unknown:
        raise Unprocessable(
            f"unknown field(s) {', '.join(unknown)}: a release names `seats`, or `all: true`",
            field=unknown[0],
        )
    body = decode_body(ReleaseRequest, raw)
    if body.all and body.seats is not None:
        raise Unprocessable("name `seats` or send `all: true`, not both", field="all")
    if body.all:
        return None
    if body.seats is None:
        raise Unprocessable(
            "a release body must name `seats` (or send `all: true`, or no body, to release"
            " the whole hold)", field="seats",
        )
    return seat_indices(view, body.seats)


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
