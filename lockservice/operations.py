"""Every operation the lock service serves: method, path, parameters, body and replies.

Routes are declared with these (`httpkit.contract.declared`), so the OpenAPI
document lists exactly what is mounted, with the types the handlers parse.
"""

from __future__ import annotations

from httpkit.contract import (
    BUYER,
    OPERATOR,
    EventPath,
    Operation,
    Reply,
    binary_reply,
    empty_reply,
    json_reply,
)
from lockservice.models import (
    BestAvailableRequest,
    BlockResult,
    ConfirmHeaders,
    ConfirmRequest,
    HoldList,
    HoldPath,
    HoldReply,
    HoldRequest,
    HoldsQuery,
    Order,
    ReleaseRequest,
    SeatsRequest,
    Session,
    SessionRequest,
    Stats,
    StreamHeaders,
    StreamMessage,
    StreamQuery,
)

EVENT = "/events/{event_id}"
HOLD = f"{EVENT}/holds/{{hold_token}}"
# Errors every event route can answer: a bad id, no such event, a backend down.
EVENT_ERRORS = (400, 404, 503)
BODY_ERRORS = (400, 413, 422)

CREATE_SESSION = Operation(
    "POST", "/sessions", "Start a buyer session: a signed token for the Authorization header.",
    "buyers", {201: json_reply(Session, "Created.")}, (400, 401, 413, 429, 503),
    body=SessionRequest, body_required=False,
)
CREATE_HOLD = Operation(
    "POST", f"{EVENT}/holds", "Hold seats, all or nothing, checking the event's rules.",
    "holds", {201: json_reply(HoldReply, "Held.")},
    (*EVENT_ERRORS, *BODY_ERRORS, 401, 409, 429), path_params=EventPath, body=HoldRequest,
    security=BUYER,
)
LIST_HOLDS = Operation(
    "GET", f"{EVENT}/holds",
    "Operator: the event's active holds, soonest expiry first (no tokens).", "operators",
    {200: json_reply(HoldList)}, (*EVENT_ERRORS, 401), path_params=EventPath, query=HoldsQuery,
    security=OPERATOR,
)
GET_HOLD = Operation(
    "GET", HOLD, "The buyer's hold.", "holds", {200: json_reply(HoldReply)},
    (*EVENT_ERRORS, 401, 410), path_params=HoldPath, security=BUYER,
)
RELEASE_HOLD = Operation(
    "DELETE", HOLD, "Release the hold, or only the seats named in the body.", "holds",
    {200: json_reply(HoldReply, "Released some; the rest is still held."),
     204: empty_reply("Released; nothing left.")},
    (*EVENT_ERRORS, *BODY_ERRORS, 401, 409, 410), path_params=HoldPath, body=ReleaseRequest,
    body_required=False, security=BUYER,
)
EXTEND_HOLD = Operation(
    "POST", f"{HOLD}/extend", "Extend the hold by the event's hold time, up to its maximum.",
    "holds", {200: json_reply(HoldReply)}, (*EVENT_ERRORS, 401, 409, 410),
    path_params=HoldPath, security=BUYER,
)
CONFIRM = Operation(
    "POST", f"{HOLD}/confirm",
    "Operator: sell the hold. The same Idempotency-Key returns the same order.", "sales",
    {201: json_reply(Order, "Sold."), 200: json_reply(Order, "Sold before with this key.")},
    (*EVENT_ERRORS, *BODY_ERRORS, 401, 409, 410), path_params=HoldPath, headers=ConfirmHeaders,
    body=ConfirmRequest, body_required=False, security=(("apiKey",), ("apiKey", "buyerToken")),
)
BEST_AVAILABLE = Operation(
    "POST", f"{EVENT}/best-available", "Hold the best block of seats that fits.", "holds",
    {201: json_reply(HoldReply, "Held.")}, (*EVENT_ERRORS, *BODY_ERRORS, 401, 409, 429),
    path_params=EventPath, body=BestAvailableRequest, security=BUYER,
)
BLOCK = Operation(
    "POST", f"{EVENT}/block", "Operator: take available seats off sale.", "operators",
    {200: json_reply(BlockResult)}, (*EVENT_ERRORS, *BODY_ERRORS, 401, 409),
    path_params=EventPath, body=SeatsRequest, security=OPERATOR,
)
UNBLOCK = Operation(
    "POST", f"{EVENT}/unblock", "Operator: put blocked seats back on sale.", "operators",
    {200: json_reply(BlockResult)}, (*EVENT_ERRORS, *BODY_ERRORS, 401, 409),
    path_params=EventPath, body=SeatsRequest, security=OPERATOR,
)
STATS = Operation(
    "GET", f"{EVENT}/stats", "Operator: seat counts by status, section and category; sales.",
    "operators", {200: json_reply(Stats)}, (*EVENT_ERRORS, 401), path_params=EventPath,
    security=OPERATOR,
)
STATUS_BIN = Operation(
    "GET", f"{EVENT}/status.bin",
    "One public status byte per seat index (0 available, 1 held, 2 sold, 3 blocked). "
    "The ETag is the change-log id it reflects: resume the stream from it.", "live",
    {200: binary_reply("application/octet-stream", description="Status bytes.",
                       headers=("ETag", "X-Last-Event-ID")),
     304: empty_reply("Not modified (If-None-Match).")},
    EVENT_ERRORS, path_params=EventPath,
)
STREAM = Operation(
    "GET", f"{EVENT}/stream",
    "Server-sent events: every seat change with its dirty tiles (see docs/api.md).", "live",
    {200: Reply("An endless event stream.", StreamMessage, ("text/event-stream",))},
    (404, 503), path_params=EventPath, query=StreamQuery, headers=StreamHeaders,
)
