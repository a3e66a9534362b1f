"""The schemas of /openapi.json, and helpers to refer to them."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

STATUS_TEXT = {
    400: "Malformed request: bad JSON, a missing or ill-typed field.",
    401: "Missing, invalid or expired credential (buyer token or X-API-Key).",
    404: "No such event, seat or hold (someone else's hold is 404 too).",
    409: "Conflict: seats taken, no block available, or a sale in progress.",
    410: "The hold has ended: expired, released or sold.",
    413: "The request body is too large.",
    422: "Well-formed but refused: a broken rule (with an alternative), unknown seats.",
    429: "Rate limited; see Retry-After.",
    503: "A backing service is unavailable; see Retry-After.",
}
RETRY_AFTER: Json = {"Retry-After": {"schema": {"type": "string"}}}


def ref(name: str) -> Json:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(name: str, description: str = "OK") -> Json:
    """A response with a JSON body of a component schema."""
    return {"description": description, "content": {"application/json": {"schema": ref(name)}}}


def err(*codes: int) -> Json:
    """Error responses: JSON `{"error", "detail", ...}`, with Retry-After on 429 and 503."""
    out: Json = {}
    for code in codes:
        response = json_body("Error", STATUS_TEXT[code])
        if code in (429, 503):
            response["headers"] = RETRY_AFTER
        out[str(code)] = response
    return out


def _obj(required: list[str], **properties: Json) -> Json:
    return {"type": "object", "required": required, "properties": properties}


INT: Json = {"type": "integer"}
STR: Json = {"type": "string"}
BOOL: Json = {"type": "boolean"}
NUM: Json = {"type": "number"}
TIME: Json = {"type": "string", "format": "date-time"}
SEAT_NAMES: Json = {
    "type": "array",
    "minItems": 1,
    "maxItems": 100,
    "items": {"type": ["string", "integer"]},
    "description": 'Seat ids, full labels like "112-F-7", or seat indices.',
}
COUNTS: Json = _obj(
    ["available", "held", "sold", "blocked", "confirming"],
    available=INT,
    held=INT,
    sold=INT,
    blocked=INT,
    confirming=INT,
)
GROUP_COUNTS: Json = {
    "type": "array",
    "items": _obj(["index", "name", "counts"], index=INT, name=STR, counts=ref("Counts")),
}

SCHEMAS: Json = {
    "Error": _obj(["error", "detail"], error=STR, detail=STR),
    "Session": _obj(["token", "buyer_id", "expires_at"], token=STR, buyer_id=STR, expires_at=TIME),
    "SeatRef": _obj(["index", "id", "label"], index=INT, id=STR, label=STR),
    "Hold": _obj(
        ["hold_token", "fencing", "state", "seats", "expires_at"],
        hold_token=STR,
        fencing=INT,
        state={"type": "string", "enum": ["held", "confirming"]},
        seats={"type": "array", "items": ref("SeatRef")},
        created_at=TIME,
        expires_at=TIME,
        max_expires_at=TIME,
        accessible=BOOL,
    ),
    "HoldRequest": _obj(["seats"], seats=SEAT_NAMES, accessible=BOOL),
    "SeatsRequest": _obj(["seats"], seats=SEAT_NAMES),
    "BestAvailableRequest": _obj(
        ["count"],
        count={"type": "integer", "minimum": 1},
        category={"type": "string", "description": "Category id or name."},
        section={"type": "string", "description": "Section id or name."},
        accessible=BOOL,
    ),
    "Order": _obj(
        ["order_id", "event_id", "buyer_id", "fencing", "seats", "total_cents", "created_at"],
        order_id=INT,
        event_id=INT,
        buyer_id=STR,
        fencing=INT,
        seats={"type": "array", "items": ref("SeatRef")},
        total_cents=INT,
        created_at=TIME,
    ),
    "HoldList": _obj(
        ["holds"],
        holds={
            "type": "array",
            "items": _obj(
                ["fencing", "buyer_id", "state", "seats", "created_at", "expires_at"],
                fencing=INT,
                buyer_id=STR,
                state=STR,
                seats={"type": "array", "items": ref("SeatRef")},
                created_at=TIME,
                expires_at=TIME,
            ),
        },
    ),
    "BlockResult": _obj(
        ["changed", "seats"], changed=INT, seats={"type": "array", "items": ref("SeatRef")}
    ),
    "Counts": COUNTS,
    "Stats": _obj(
        [
            "event_id",
            "seat_count",
            "by_status",
            "by_section",
            "by_category",
            "active_holds",
            "orders",
            "revenue_cents",
        ],
        event_id=INT,
        seat_count=INT,
        by_status=ref("Counts"),
        by_section=GROUP_COUNTS,
        by_category=GROUP_COUNTS,
        active_holds=INT,
        orders=INT,
        revenue_cents=INT,
    ),
    "SeatInfo": _obj(
        [
            "index",
            "id",
            "label",
            "section",
            "row",
            "seat",
            "category",
            "price_cents",
            "status",
            "x",
            "y",
        ],
        index=INT,
        id=STR,
        label=STR,
        section=STR,
        row=STR,
        seat=STR,
        category=STR,
        category_index=INT,
        color=STR,
        price_cents=INT,
        status=STR,
        accessible=BOOL,
        seat_type=STR,
        x=NUM,
        y=NUM,
        radius=NUM,
    ),
    "TileJSON": _obj(
        ["tilejson", "tiles", "minzoom", "maxzoom"],
        tilejson=STR,
        tiles={"type": "array", "items": STR},
        minzoom=INT,
        maxzoom=INT,
        bounds={"type": "array", "items": NUM},
        center={"type": "array", "items": NUM},
    ),
    "Event": _obj(
        ["id", "venue_id", "title", "settings"],
        id=INT,
        venue_id=INT,
        title=STR,
        starts_at={"type": ["string", "null"]},
        settings={"type": "object"},
    ),
    "EventRequest": _obj(
        ["venue_id", "title"],
        venue_id=INT,
        title={"type": "string", "minLength": 1, "maxLength": 200},
        starts_at={"type": "string", "format": "date-time"},
        settings={"type": "object", "description": "Hold rules, e.g. max_seats_per_buyer."},
    ),
    "VenueSummary": _obj(["id", "name", "seat_count"], id=INT, name=STR, seat_count=INT),
}
