"""Operator HTTP API for venues and events (X-API-Key required).

Requests are parsed with the types of `seatmap_app.adminmodels`, and each
route declares its operation from there for `/openapi.json`.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from httpkit.auth import require_operator
from httpkit.bodies import json_response, read_body, read_model
from httpkit.contract import declared, parse_params
from seatmap.context import ServiceContext
from seatmap.errors import BadRequest, Unprocessable
from seatmap.events import Event, EventRules, list_events
from seatmap.venuestore import list_venues
from seatmap_app.adminmodels import (
    CREATE_EVENT,
    IMPORT_VENUE,
    LIST_EVENTS,
    LIST_VENUES,
    EventReply,
    EventRequest,
    VenueImportQuery,
    VenueSummary,
)
from seatmap_app.operations import import_venue_bytes, open_event

# Venue files are large (a 100k-seat venue is ~15 MB of JSON); other bodies are small.
MAX_VENUE_BYTES = 64 * 1024 * 1024


def admin_routes(ctx: ServiceContext) -> list[BaseRoute]:
    """Routes: POST/GET /venues, POST/GET /events."""

    async def create_venue(request: Request) -> Response:
        require_operator(request, ctx)
        query = parse_params(VenueImportQuery, request.query_params, "query")
        body = await read_body(request, MAX_VENUE_BYTES)
        venue_id, venue = await import_venue_bytes(ctx, body, query.format, query.name)
        return json_response(VenueSummary(venue_id, venue.name, venue.seat_count), 201)

    async def get_venues(request: Request) -> Response:
        require_operator(request, ctx)
        async with ctx.pool.acquire() as conn:
            rows = await list_venues(conn)
        return json_response([VenueSummary(r["id"], r["name"], r["seat_count"]) for r in rows])

    async def create_event(request: Request) -> Response:
        require_operator(request, ctx)
        body = await read_model(request, EventRequest, ctx.settings.max_body_bytes)
        given = {k: v for k, v in msgspec.structs.asdict(body.settings).items()
                 if v is not msgspec.UNSET}
        try:
            rules = EventRules.from_json(given, EventRules.defaults(ctx.settings))
        except BadRequest as exc:  # each value is in range; together they contradict
            raise Unprocessable(exc.detail, **exc.extra) from None
        event = await open_event(ctx, body.venue_id, body.title, starts_at(body.starts_at), rules,
                                 render=True)
        return json_response(event_reply(event), 201)

    async def get_events(request: Request) -> Response:
        async with ctx.pool.acquire() as conn:
            events = await list_events(conn)
        return json_response([event_reply(e) for e in events])

    return [
        declared(create_venue, IMPORT_VENUE),
        declared(get_venues, LIST_VENUES),
        declared(create_event, CREATE_EVENT),
        declared(get_events, LIST_EVENTS),
    ]


def starts_at(raw: str | None) -> datetime | None:
    """The start time of an event request; a date that cannot exist is a 422."""
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise Unprocessable(f"starts_at {raw!r} is not a real time", field="starts_at") from None


def event_reply(event: Event) -> EventReply:
    """An event as the API shows it."""
    starts_at = event.starts_at.isoformat() if event.starts_at else None
    return EventReply(event.id, event.venue_id, event.title, starts_at, event.rules.to_json())
