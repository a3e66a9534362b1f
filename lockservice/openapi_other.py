"""The parts of /openapi.json that other packages serve: tiles and maps, operator
venue and event routes, the viewer, health and metrics."""

from __future__ import annotations

from typing import Any

from lockservice.openapi_schemas import err, json_body, ref

Json = dict[str, Any]

EVENT_ID: Json = {
    "name": "event_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
JSON = "application/json"
JSON_OBJECT: Json = {JSON: {"schema": {"type": "object"}}}
NOT_MODIFIED: Json = {"304": {"description": "Not modified (If-None-Match)."}}
CACHED: Json = {
    "ETag": {"schema": {"type": "string"}},
    "Cache-Control": {"schema": {"type": "string"}},
}


def _q(name: str, schema: Json, description: str = "") -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _binary(media: str, description: str, headers: Json | None = None) -> Json:
    return {
        "description": description,
        "headers": headers or CACHED,
        "content": {media: {"schema": {"type": "string", "format": "binary"}}},
    }


def _get(summary: str, responses: Json, **extra: Any) -> Json:
    return {"get": {"summary": summary, "responses": responses, **extra}}


SHOWN = [
    _q("section", {"type": "string"}, "Only this section (name, id or index)."),
    _q("bbox", {"type": "string"}, "x0,y0,x1,y1 in venue units."),
    _q("highlight", {"type": "string"}, "Comma-separated seat ids or labels to mark."),
]
MAP_QUERY = [
    _q("width", {"type": "integer", "minimum": 1, "maximum": 4096}),
    _q("height", {"type": "integer", "minimum": 1, "maximum": 4096}),
    _q("scale", {"type": "integer", "enum": [1, 2]}),
    _q("format", {"type": "string", "enum": ["png", "webp"]}),
    *SHOWN,
]
PRINT_QUERY = [
    _q("paper", {"type": "string", "enum": ["a4", "letter"]}),
    _q("orientation", {"type": "string", "enum": ["portrait", "landscape"]}),
    _q("title", {"type": "string", "maxLength": 200}),
    *SHOWN,
]
MAP_MEDIA = {
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "svg": "image/svg+xml",
}


def _tile_paths() -> Json:
    base = "/events/{event_id}"
    paths: Json = {}
    for name, media in (
        ("{y}.png", "image/png"),
        ("{y}@2x.png", "image/png"),
        ("{y}.webp", "image/webp"),
        ("{y}@2x.webp", "image/webp"),
    ):
        paths[f"{base}/tiles/{{z}}/{{x}}/{name}"] = {
            "parameters": [EVENT_ID]
            + [
                {
                    "name": p,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                }
                for p in ("z", "x", "y")
            ],
            **_get(
                "A map tile with live availability (@2x: 512 px).",
                {"200": _binary(media, "The tile."), **NOT_MODIFIED, **err(400, 404, 503)},
                tags=["tiles"],
            ),
        }
    for fmt, media in MAP_MEDIA.items():
        query = MAP_QUERY if fmt in ("png", "webp") else PRINT_QUERY
        paths[f"{base}/map.{fmt}"] = {
            "parameters": [EVENT_ID],
            **_get(
                f"The whole venue or a part of it as one {fmt.upper()} "
                "(static map, or vector print).",
                {"200": _binary(media, "The map."), **NOT_MODIFIED, **err(400, 404, 503)},
                tags=["tiles"],
                parameters=query,
            ),
        }
    paths[f"{base}/tiles.json"] = {
        "parameters": [EVENT_ID],
        **_get(
            "TileJSON 3.0.0 of the event, plus what the viewer needs.",
            {"200": json_body("TileJSON"), **NOT_MODIFIED, **err(404, 503)},
            tags=["tiles"],
        ),
    }
    paths[f"{base}/seats.bin"] = {
        "parameters": [EVENT_ID],
        **_get(
            "Seats in a box with positions and current statuses, binary (see docs).",
            {
                "200": _binary(
                    "application/octet-stream",
                    "Seat records.",
                    {"X-Status-Version": {"schema": {"type": "string"}}},
                ),
                **err(400, 404, 503),
            },
            tags=["tiles"],
            parameters=[SHOWN[1]],
        ),
    }
    paths[f"{base}/seats/at"] = {
        "parameters": [EVENT_ID],
        **_get(
            "The seat nearest a point, within a radius (venue units).",
            {"200": json_body("SeatInfo"), **err(400, 404, 503)},
            tags=["tiles"],
            parameters=[
                {"name": "x", "in": "query", "required": True, "schema": {"type": "number"}},
                {"name": "y", "in": "query", "required": True, "schema": {"type": "number"}},
                _q("r", {"type": "number", "exclusiveMinimum": 0}),
            ],
        ),
    }
    paths[f"{base}/seats/{{seat_index}}"] = {
        "parameters": [
            EVENT_ID,
            {
                "name": "seat_index",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            },
        ],
        **_get(
            "One seat with its current status.",
            {"200": json_body("SeatInfo"), **err(404, 503)},
            tags=["tiles"],
        ),
    }
    return paths


def _media(description: str, media: str, schema: Json) -> Json:
    return {"description": description, "content": {media: {"schema": schema}}}


def _int_path(name: str) -> Json:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }


def _admin_paths() -> Json:
    operator: list[Json] = [{"apiKey": []}]
    listing = {"type": "array", "items": ref("VenueSummary")}
    import_query = [
        _q("format", {"type": "string", "enum": ["auto", "seatmap", "pretix"]}),
        _q("name", {"type": "string"}),
    ]
    return {
        "/venues": {
            "post": {
                "summary": "Operator: import a venue file (seatmap JSON or pretix seating plan).",
                "security": operator,
                "tags": ["operators"],
                "parameters": import_query,
                "requestBody": {"required": True, "content": JSON_OBJECT},
                "responses": {"201": json_body("VenueSummary"), **err(400, 401, 413, 422, 503)},
            },
            **_get(
                "Operator: every venue.",
                {"200": _media("Venues.", JSON, listing), **err(401, 503)},
                security=operator,
                tags=["operators"],
            ),
        },
        "/events": {
            "post": {
                "summary": "Operator: open an event on a venue (live state, pre-rendered tiles).",
                "security": operator,
                "tags": ["operators"],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("EventRequest")}},
                },
                "responses": {"201": json_body("Event"), **err(400, 401, 404, 413, 503)},
            },
            **_get(
                "Every event.",
                {
                    "200": _media("Events.", JSON, {"type": "array", "items": ref("Event")}),
                    **err(503),
                },
                tags=["events"],
            ),
        },
    }


def _viewer_paths() -> Json:
    html = _media("An HTML page.", "text/html", {"type": "string"})
    missing = _media("No such event (a page, or JSON for a bad path).", "text/html", {})
    missing["content"][JSON] = {"schema": ref("Error")}
    pages: Json = {"200": html, **NOT_MODIFIED, "404": missing}
    data: Json = {"200": _media("JSON for the viewer.", JSON, {}), **NOT_MODIFIED}
    data.update(err(400, 404, 503))
    api = "/viewer/api/events/{event_id}"
    seats = {
        "name": "seats",
        "in": "query",
        "required": True,
        "schema": {"type": "string"},
        "description": "1-100 comma-separated seat indices.",
    }
    event_query = _q("event", {"type": "integer", "minimum": 0}, "The event to show.")
    return {
        "/viewer/": _get("The seat map viewer.", pages, tags=["viewer"], parameters=[event_query]),
        "/embed/{event_id}": {
            "parameters": [EVENT_ID],
            **_get("The embeddable viewer page.", pages, tags=["viewer"]),
        },
        f"{api}/sections.json": {
            "parameters": [EVENT_ID],
            **_get("Sections with bounds and seat counts.", data, tags=["viewer"]),
        },
        f"{api}/sections/{{section}}.json": {
            "parameters": [EVENT_ID, _int_path("section")],
            **_get("A section's rows and seats (list view).", data, tags=["viewer"]),
        },
        f"{api}/places.json": {
            "parameters": [EVENT_ID],
            **_get(
                "Where some seats are ([index, x, y, radius] each).",
                data,
                tags=["viewer"],
                parameters=[seats],
            ),
        },
    }


def other_paths() -> Json:
    """Every path the lock service does not serve itself."""
    status = _media(
        "Status.",
        JSON,
        {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
    )
    metrics = _media("Prometheus text format.", "text/plain", {"type": "string"})
    return {
        **_tile_paths(),
        **_admin_paths(),
        **_viewer_paths(),
        "/healthz": _get("The process is up.", {"200": status}, tags=["operations"]),
        "/readyz": _get(
            "PostgreSQL and Redis are reachable.", {"200": status, **err(503)}, tags=["operations"]
        ),
        "/metrics": _get("Prometheus metrics.", {"200": metrics, **err(503)}, tags=["operations"]),
        "/openapi.json": _get(
            "This document.",
            {"200": _media("OpenAPI 3.1.", JSON, {"type": "object"})},
            tags=["operations"],
        ),
    }
