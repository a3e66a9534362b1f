"""The webhook routes' contract: bodies, parameters, replies and operations (msgspec types).

`lockservice.webhooks_routes` parses requests with these types and declares the
operations, so `/openapi.json` documents them from the same source.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from httpkit.contract import OPERATOR, Id, Operation, empty_reply, json_reply
from lockservice.models import Timestamp

WebhookKind = Literal["sale", "release", "expiry", "block", "unblock"]
MAX_URL_CHARS = 2000
MAX_LISTED_DELIVERIES = 1000


class WebhookRequest(Struct, forbid_unknown_fields=True):
    """An endpoint to register: where to POST, which kinds, for one event or all."""

    url: Annotated[
        str,
        Meta(
            min_length=8,
            max_length=MAX_URL_CHARS,
            # Printable ASCII only: the same set in JSON Schema's regex dialect and Python's
            # (`\s` differs between them), and what a URL is made of (RFC 3986).
            pattern=r"^https?://[!-~]+$",
            description="An http(s) URL that receives the signed POSTs: printable ASCII "
            "(percent-encode anything else; an international host in its xn-- form).",
        ),
    ]
    events: Annotated[
        list[WebhookKind],
        Meta(min_length=1, max_length=5, description="The kinds of message to receive."),
    ]
    event_id: Annotated[
        Id | None, Meta(description="Only this event's messages; absent or null: every event.")
    ] = None


class Webhook(Struct):
    """A registered endpoint (its secret is shown only when it is created)."""

    id: int
    url: str
    events: list[str]
    event_id: int | None
    created_at: Timestamp


class WebhookCreated(Struct):
    """A new endpoint and its signing secret: keep it, it is not shown again."""

    id: int
    url: str
    events: list[str]
    event_id: int | None
    created_at: Timestamp
    secret: Annotated[str, Meta(description="`whsec_` + base64 of the HMAC-SHA256 key.")]


class WebhookList(Struct):
    """Every registered endpoint."""

    webhooks: list[Webhook]


class WebhookPath(Struct):
    """An endpoint named in the path."""

    webhook_id: Annotated[Id, Meta(description="The endpoint's id.")]


class WebhookDeliveriesQuery(Struct):
    """How many deliveries to list, newest first."""

    limit: Annotated[int, Meta(ge=1, le=MAX_LISTED_DELIVERIES)] = 100


class WebhookAttempt(Struct):
    """One attempt: its HTTP status, or the error that left it without one."""

    attempt: int
    started_at: Timestamp
    duration_ms: int
    status_code: int | None
    error: str | None


class WebhookDelivery(Struct):
    """One message to one endpoint, with its latest attempts (oldest first)."""

    id: int
    message_id: Annotated[str, Meta(description="The webhook-id header, the same on retries.")]
    kind: str
    event_id: int
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    created_at: Timestamp
    attempt_log: list[WebhookAttempt]


class WebhookDeliveryList(Struct):
    """An endpoint's deliveries, newest first."""

    deliveries: list[WebhookDelivery]


CREATE_WEBHOOK = Operation(
    "POST", "/webhooks", "Operator: register a webhook endpoint; the reply holds its secret.",
    "webhooks", {201: json_reply(WebhookCreated, "Registered.")}, (400, 401, 413, 422, 503),
    body=WebhookRequest, security=OPERATOR,
)
LIST_WEBHOOKS = Operation(
    "GET", "/webhooks", "Operator: every registered webhook endpoint (no secrets).", "webhooks",
    {200: json_reply(WebhookList)}, (401, 503), security=OPERATOR,
)
DELETE_WEBHOOK = Operation(
    "DELETE", "/webhooks/{webhook_id}", "Operator: remove an endpoint and its deliveries.",
    "webhooks", {204: empty_reply("Removed.")}, (400, 401, 404, 503),
    path_params=WebhookPath, security=OPERATOR,
)
LIST_DELIVERIES = Operation(
    "GET", "/webhooks/{webhook_id}/deliveries",
    "Operator: an endpoint's deliveries with their attempts, newest first.", "webhooks",
    {200: json_reply(WebhookDeliveryList)}, (400, 401, 404, 503), path_params=WebhookPath,
    query=WebhookDeliveriesQuery, security=OPERATOR,
)
