"""The operator API's contract: venue import and event creation, as msgspec types.

`seatmap_app.adminroutes` parses requests with these and declares its routes
with the operations below, which is what `/openapi.json` documents.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from httpkit.contract import OPERATOR, PRINTABLE_PATTERN, Id, Operation, json_reply

HoldSeconds = Annotated[int, Meta(ge=10, le=24 * 3600)]
Title = Annotated[str, Meta(min_length=1, max_length=200, pattern=PRINTABLE_PATTERN)]
# ISO 8601 date and time as datetime.fromisoformat reads it; a date that does not
# exist (month 13) has the right shape and is a 422.
ISO_TIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
            r"(Z|[+-][0-9]{2}:[0-9]{2})?)?$")
StartsAt = Annotated[str, Meta(pattern=ISO_TIME, extra_json_schema={"format": "date-time"})]


class VenueImportQuery(Struct):
    """How to read an uploaded venue file, and an optional name for it."""

    format: Literal["auto", "seatmap", "pretix"] = "auto"
    name: Title | None = None


class EventSettings(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Hold rules of an event; each one left out takes the deployment's default."""

    max_seats_per_buyer: Annotated[int, Meta(ge=1, le=100)] | msgspec.UnsetType = msgspec.UNSET
    no_orphans: bool | msgspec.UnsetType = msgspec.UNSET
    contiguous_in_row: bool | msgspec.UnsetType = msgspec.UNSET
    restrict_accessible: bool | msgspec.UnsetType = msgspec.UNSET
    hold_ttl_s: HoldSeconds | msgspec.UnsetType = msgspec.UNSET
    max_hold_s: HoldSeconds | msgspec.UnsetType = msgspec.UNSET
    # Where the viewer's "Continue" takes the buyer, with event= and hold= added.
    checkout_url: (
        Annotated[str, Meta(max_length=2000, pattern=r"^https?://\S+$")] | msgspec.UnsetType
    ) = msgspec.UNSET


class EventRequest(Struct, forbid_unknown_fields=False):
    """An event to open on an imported venue."""

    venue_id: Id
    title: Title
    starts_at: StartsAt | None = None
    settings: EventSettings = msgspec.field(default_factory=EventSettings)


class VenueSummary(Struct):
    """An imported venue."""

    id: int
    name: str
    seat_count: int


class EventReply(Struct):
    """An event with its rules."""

    id: int
    venue_id: int
    title: str
    starts_at: str | None
    settings: dict[str, Any]


IMPORT_VENUE = Operation(
    "POST", "/venues", "Operator: import a venue file (seatmap JSON or pretix seating plan).",
    "operators", {201: json_reply(VenueSummary, "Imported.")}, (400, 401, 413, 422, 503),
    query=VenueImportQuery, body=dict[str, Any], security=OPERATOR,
)
LIST_VENUES = Operation(
    "GET", "/venues", "Operator: every venue.", "operators",
    {200: json_reply(list[VenueSummary])}, (401, 503), security=OPERATOR,
)
CREATE_EVENT = Operation(
    "POST", "/events", "Operator: open an event on a venue (live state, pre-rendered tiles).",
    "operators", {201: json_reply(EventReply, "Opened.")}, (400, 401, 404, 413, 422, 503),
    body=EventRequest, security=OPERATOR,
)
LIST_EVENTS = Operation(
    "GET", "/events", "Every event.", "events", {200: json_reply(list[EventReply])}, (503,),
)
