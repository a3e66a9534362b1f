"""The OpenAPI 3.1 document of the whole seatmap API, served at /openapi.json.

It describes the lock service (this package) and, in `lockservice.openapi_other`,
the tile server, the operator and viewer routes and the health endpoints, so
one document covers everything a deployment serves. Schemas state what the
handlers really send; `tests/lockservice/test_openapi.py` checks real replies
against them.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from lockservice.openapi_other import other_paths
from lockservice.openapi_schemas import SCHEMAS, err, json_body, ref

Json = dict[str, Any]

EVENT_ID: Json = {
    "name": "event_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
HOLD_TOKEN: Json = {
    "name": "hold_token",
    "in": "path",
    "required": True,
    "description": "The secret token returned when the hold was made.",
    "schema": {"type": "string", "minLength": 1},
}
BUYER: list[Json] = [{"buyerToken": []}]
OPERATOR: list[Json] = [{"apiKey": []}]


def _op(summary: str, responses: Json, **extra: Any) -> Json:
    return {"summary": summary, "responses": responses, **extra}


def _lock_paths() -> Json:
    hold_reply = json_body("Hold")
    base = "/events/{event_id}"
    return {
        "/sessions": {
            "post": _op(
                "Start a buyer session: a signed token for the Authorization header.",
                {"201": json_body("Session"), **err(429, 503)},
                tags=["buyers"],
            )
        },
        f"{base}/holds": {
            "parameters": [EVENT_ID],
            "post": _op(
                "Hold seats, all or nothing, checking the event's rules.",
                {"201": hold_reply, **err(400, 401, 404, 409, 413, 422, 429, 503)},
                tags=["holds"],
                security=BUYER,
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": ref("HoldRequest")}},
                },
            ),
            "get": _op(
                "Operator: the event's active holds, soonest expiry first (no tokens).",
                {"200": json_body("HoldList"), **err(400, 401, 404, 503)},
                tags=["operators"],
                security=OPERATOR,
                parameters=[
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                    }
                ],
            ),
        },
        f"{base}/holds/{{hold_token}}": {
            "parameters": [EVENT_ID, HOLD_TOKEN],
            "get": _op(
                "The buyer's hold.",
                {"200": hold_reply, **err(401, 404, 410, 503)},
                tags=["holds"],
                security=BUYER,
            ),
            "delete": _op(
                "Release the hold, or only the seats named in the body.",
                {
                    "200": hold_reply,
                    "204": {"description": "Released; nothing left."},
                    **err(400, 401, 404, 409, 410, 413, 422, 503),
                },
                tags=["holds"],
                security=BUYER,
                requestBody={
                    "required": False,
                    "content": {"application/json": {"schema": ref("SeatsRequest")}},
                },
            ),
        },
        f"{base}/holds/{{hold_token}}/extend": {
            "parameters": [EVENT_ID, HOLD_TOKEN],
            "post": _op(
                "Extend the hold by the event's hold time, up to its maximum.",
                {"200": hold_reply, **err(401, 404, 409, 410, 503)},
                tags=["holds"],
                security=BUYER,
            ),
        },
        f"{base}/holds/{{hold_token}}/confirm": {
            "parameters": [
                EVENT_ID,
                HOLD_TOKEN,
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                },
            ],
            "post": _op(
                "Operator: sell the hold. The same Idempotency-Key returns the same order.",
                {
                    "201": json_body("Order"),
                    "200": json_body("Order"),
                    **err(400, 401, 404, 409, 410, 413, 422, 503),
                },
                tags=["sales"],
                security=[{"apiKey": []}, {"apiKey": [], "buyerToken": []}],
                requestBody={
                    "required": False,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
            ),
        },
        f"{base}/best-available": {
            "parameters": [EVENT_ID],
            "post": _op(
                "Hold the best block of seats that fits.",
                {"201": hold_reply, **err(400, 401, 404, 409, 413, 422, 429, 503)},
                tags=["holds"],
                security=BUYER,
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": ref("BestAvailableRequest")}},
                },
            ),
        },
        f"{base}/block": _block("Operator: take available seats off sale."),
        f"{base}/unblock": _block("Operator: put blocked seats back on sale."),
        f"{base}/stats": {
            "parameters": [EVENT_ID],
            "get": _op(
                "Operator: seat counts by status, section and category; sales.",
                {"200": json_body("Stats"), **err(401, 404, 503)},
                tags=["operators"],
                security=OPERATOR,
            ),
        },
        f"{base}/status.bin": {
            "parameters": [EVENT_ID],
            "get": _op(
                "One public status byte per seat index (0 available, 1 held, 2 sold, "
                "3 blocked). The ETag is the change-log id it reflects: resume the "
                "stream from it.",
                {
                    "200": {
                        "description": "Status bytes.",
                        "headers": {"ETag": {"schema": {"type": "string"}}},
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "304": {"description": "Not modified."},
                    **err(404, 503),
                },
                tags=["live"],
            ),
        },
        f"{base}/stream": {
            "parameters": [EVENT_ID],
            "get": _op(
                "Server-sent events: every seat change with its dirty tiles (see docs/api.md).",
                {
                    "200": {
                        "description": "An endless event stream.",
                        "content": {
                            "text/event-stream": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "string"},
                                        "event": {"type": "string"},
                                        "data": {"type": "string"},
                                        "retry": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    **err(404, 503),
                },
                tags=["live"],
                parameters=[
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "last_event_id",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
            ),
        },
    }


def _block(summary: str) -> Json:
    return {
        "parameters": [EVENT_ID],
        "post": _op(
            summary,
            {"200": json_body("BlockResult"), **err(400, 401, 404, 409, 413, 422, 503)},
            tags=["operators"],
            security=OPERATOR,
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": ref("SeatsRequest")}},
            },
        ),
    }


def openapi_document() -> Json:
    """The whole document as a dict."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "seatmap",
            "version": "1.0.0",
            "description": "Seat maps as raster tiles with live availability, and a lock "
            "service that holds and sells seats. Errors are JSON objects "
            '`{"error": code, "detail": text, ...}`.',
        },
        "paths": {**_lock_paths(), **other_paths()},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "buyerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /sessions.",
                },
            },
        },
    }


@functools.cache
def openapi_json() -> bytes:
    """The document as JSON bytes (built once; it never changes while running)."""
    return orjson.dumps(openapi_document())
