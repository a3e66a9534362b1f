"""Operator HTTP API for venues and events (X-API-Key required)."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from httpkit.auth import require_operator
from httpkit.bodies import json_body, json_response, read_body
from seatmap.context import ServiceContext
from seatmap.errors import BadRequest
from seatmap.events import EventRules, list_events
from seatmap.venuestore import list_venues
from seatmap_app.operations import FileFormat, import_venue_file, open_event

# Venue files are large (a 100k-seat venue is ~15 MB of JSON); other bodies are small.
MAX_VENUE_BYTES = 64 * 1024 * 1024
FORMATS: dict[str, FileFormat] = {"auto": "auto", "seatmap": "seatmap", "pretix": "pretix"}


def admin_routes(ctx: ServiceContext) -> list[BaseRoute]:
    """Routes: POST/GET /venues, POST/GET /events."""
    async def create_venue(request: Request) -> Response:
        require_operator(request, ctx)
        body = await read_body(request, MAX_VENUE_BYTES)
        raw_format = request.query_params.get("format", "auto")
        if raw_format not in FORMATS:
            raise BadRequest("format must be auto, seatmap or pretix", field="format")
        file_format = FORMATS[raw_format]
        with tempfile.NamedTemporaryFile(suffix=".json") as handle:
            handle.write(body)
            handle.flush()
            venue_id, venue = await import_venue_file(
                ctx, Path(handle.name), file_format, request.query_params.get("name")
            )
        return json_response(
            {"id": venue_id, "name": venue.name, "seat_count": venue.seat_count}, 201
        )

    async def get_venues(request: Request) -> Response:
        require_operator(request, ctx)
        async with ctx.pool.acquire() as conn:
            rows = await list_venues(conn)
        return json_response(
            [{"id": r["id"], "name": r["name"], "seat_count": r["seat_count"]} for r in rows]
        )

    async def create_event(request: Request) -> Response:
        require_operator(request, ctx)
        body = await json_body(request, ctx.settings.max_body_bytes)
        venue_id = body.get("venue_id")
        title = body.get("title")
        if not isinstance(venue_id, int) or isinstance(venue_id, bool):
            raise BadRequest("venue_id must be an integer", field="venue_id")
        if not isinstance(title, str) or not 1 <= len(title) <= 200:
            raise BadRequest("title must be a string of 1..200 characters", field="title")
        starts_at = _time(body.get("starts_at"))
        settings = body.get("settings", {})
        if not isinstance(settings, dict):
            raise BadRequest("settings must be an object", field="settings")
        rules = EventRules.from_json(settings)
        event = await open_event(ctx, venue_id, title, starts_at, rules, render=True)
        return json_response(_event_json(event), 201)

    async def get_events(request: Request) -> Response:
        async with ctx.pool.acquire() as conn:
            events = await list_events(conn)
        return json_response([_event_json(e) for e in events])

    return [
        Route("/venues", create_venue, methods=["POST"]),
        Route("/venues", get_venues, methods=["GET"]),
        Route("/events", create_event, methods=["POST"]),
        Route("/events", get_events, methods=["GET"]),
    ]


def _time(raw: object) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadRequest("starts_at must be an ISO 8601 string", field="starts_at")
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest("starts_at must be an ISO 8601 time", field="starts_at") from None


def _event_json(event: Any) -> dict[str, Any]:
    return {
        "id": event.id,
        "venue_id": event.venue_id,
        "title": event.title,
        "starts_at": event.starts_at.isoformat() if event.starts_at else None,
        "settings": event.rules.to_json(),
    }
