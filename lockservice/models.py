"""The lock service's contract: parameters, bodies and replies of every route, as msgspec types.

`lockservice.routes`, `lockservice.operator` and `lockservice.httpshapes` parse
requests with these types, and `/openapi.json` is generated from the operations
declared in `lockservice.operations`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from httpkit.contract import Id
from lockservice.rules import MAX_SEATS_PER_REQUEST

MAX_IDEMPOTENCY_KEY_CHARS = 200
MAX_LISTED_HOLDS = 10_000
Timestamp = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
SeatName = (
    Annotated[str, Meta(max_length=200)] | Annotated[int, Meta(ge=0, le=2**31 - 1)]
)
SeatNames = Annotated[
    list[SeatName],
    Meta(
        min_length=1,
        max_length=MAX_SEATS_PER_REQUEST,
        description='Seat ids, full labels like "112-F-7", or seat indices.',
    ),
]


class HoldPath(Struct):
    """A hold of an event named in the path."""

    event_id: Id
    hold_token: Annotated[
        str, Meta(min_length=1, max_length=200, description="The secret token of the hold.")
    ]


class HoldsQuery(Struct):
    """How many holds an operator listing returns."""

    limit: Annotated[int, Meta(ge=1, le=MAX_LISTED_HOLDS)] = 1000


class ConfirmHeaders(Struct, rename={"idempotency_key": "Idempotency-Key"}):
    """The key that makes a confirm safe to retry: the same key returns the same order."""

    idempotency_key: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=MAX_IDEMPOTENCY_KEY_CHARS,
            pattern=r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
        ),
    ]


class StreamQuery(Struct):
    """Where a first connection resumes (browsers send Last-Event-ID on reconnects).

    Any text is accepted: an id the log cannot resume from gets a `reset` event.
    """

    last_event_id: str | None = None


class StreamHeaders(Struct, rename={"last_event_id": "Last-Event-ID"}):
    """Where a reconnecting client resumes."""

    last_event_id: str | None = None


class StreamMessage(Struct, omit_defaults=True):
    """One server-sent event: a change (`data` JSON), a `reset`, or a retry hint."""

    id: str | None = None
    event: str | None = None
    data: str | None = None
    retry: int | None = None


class HoldRequest(Struct, forbid_unknown_fields=False):
    """Seats to hold, all or nothing."""

    seats: SeatNames
    accessible: bool = False


class SeatsRequest(Struct, forbid_unknown_fields=False):
    """Seats to block or unblock."""

    seats: SeatNames


class ReleaseRequest(Struct, forbid_unknown_fields=True):
    """What to release: the seats named, or (`all: true`) the whole hold.

    A body must say one or the other, so that a misspelt field never releases
    every seat; a DELETE with no body at all releases the whole hold.
    """

    seats: SeatNames | None = None
    all: Annotated[bool, Meta(description="Release every seat of the hold.")] = False


class BestAvailableRequest(Struct, forbid_unknown_fields=False):
    """How many seats, and optionally where: the best block that fits is held."""

    count: Annotated[int, Meta(ge=1, le=MAX_SEATS_PER_REQUEST)]
    category: Annotated[str, Meta(description="Category id or name.")] | None = None
    section: Annotated[str, Meta(description="Section id or name.")] | None = None
    accessible: bool = False


ConfirmRequest = dict[str, Any]


class SessionRequest(Struct, forbid_unknown_fields=False):
    """Optionally, the buyer's account as the partner's checkout vouches for it."""

    partner_account: (
        Annotated[
            str,
            Meta(
                max_length=256,
                description="`<account id>.<expiry, unix s>.<HMAC-SHA256 signature>` "
                "(see docs/operations.md); every session of the account is one buyer.",
            ),
        ]
        | None
    ) = None


class Session(Struct):
    """A buyer session: the token for `Authorization: Bearer`."""

    token: str
    buyer_id: str
    expires_at: Timestamp


class SeatRef(Struct):
    """A seat as replies name it."""

    index: int
    id: str
    label: str


class HoldReply(Struct, omit_defaults=True):
    """A hold as its owner sees it."""

    fencing: int
    state: Literal["held", "confirming"]
    seats: list[SeatRef]
    created_at: Timestamp
    expires_at: Timestamp
    max_expires_at: Timestamp
    accessible: bool
    hold_token: str | msgspec.UnsetType = msgspec.UNSET


class Order(Struct):
    """A confirmed sale."""

    order_id: int
    event_id: int
    buyer_id: str
    fencing: int
    seats: list[SeatRef]
    total_cents: int
    created_at: Timestamp


class HoldSummary(Struct):
    """An active hold in an operator listing (named by fencing; tokens stay secret)."""

    fencing: int
    buyer_id: str
    state: str
    seats: list[SeatRef]
    created_at: Timestamp
    expires_at: Timestamp


class HoldList(Struct):
    """An event's active holds, soonest expiry first."""

    holds: list[HoldSummary]


class BlockResult(Struct):
    """How many seats changed state, and which were named."""

    changed: int
    seats: list[SeatRef]


class Counts(Struct):
    """Seats per status."""

    available: int
    held: int
    sold: int
    blocked: int
    confirming: int


class GroupCounts(Struct):
    """Seats per status in one section or category."""

    index: int
    name: str
    counts: Counts


class Stats(Struct):
    """An event's seat counts and sales."""

    event_id: int
    seat_count: int
    by_status: Counts
    by_section: list[GroupCounts]
    by_category: list[GroupCounts]
    active_holds: int
    orders: int
    revenue_cents: int
