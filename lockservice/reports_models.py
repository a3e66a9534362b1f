"""The operator reports' contract: query parameters, reply shapes and declared operations.

Every report answers JSON or CSV: the `format` query parameter decides, and
without it an Accept header that asks for text/csv (and not JSON) does. A CSV
report has the same columns as the JSON rows, in the same order, followed by
one totals row whose key columns are empty (its name column says TOTAL).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from httpkit.contract import OPERATOR, EventPath, Operation, Reply
from lockservice.models import Timestamp
from lockservice.reports_groups import GroupBy

CSV = "text/csv"
ReportFormat = Literal["json", "csv"]
Format = Annotated[
    ReportFormat | None,
    Meta(description="json or csv; without it, an Accept of text/csv gives CSV, else JSON."),
]
REPORT_ERRORS = (400, 401, 404, 503)


class ReportQuery(Struct, forbid_unknown_fields=False):
    """How a grouped report groups the event's seats, and in what format it answers."""

    by: Annotated[GroupBy, Meta(description="Group seats by section, category or price.")] = (
        "section"
    )
    format: Format = None


class SoldSeatsQuery(Struct, forbid_unknown_fields=False):
    """The format of the sold-seat listing."""

    format: Format = None


class GroupKey(Struct, kw_only=True, omit_defaults=True):
    """The key of one report group: only the fields of the grouping are present.

    Keyword-only, so a row's own figures come first in JSON and in CSV columns.
    """

    section_index: int | None = None
    section: str | None = None
    category_index: int | None = None
    category: str | None = None
    price_cents: int | None = None
    price: str | None = None
    categories: str | None = None


class StatusRow(GroupKey, omit_defaults=True):
    """Seats per status in one group, followed by the group's key fields."""

    seats: int
    available: int
    held: int
    sold: int
    blocked: int
    confirming: int


class StatusTotals(Struct):
    """Seats per status over the whole event."""

    seats: int
    available: int
    held: int
    sold: int
    blocked: int
    confirming: int


class StatusReport(Struct):
    """Live seat status (Redis) per group, and totals."""

    event_id: int
    by: GroupBy
    groups: list[StatusRow]
    totals: StatusTotals


class SalesRow(GroupKey, omit_defaults=True):
    """Seats sold and their revenue in one group (revenue: exact decimal text)."""

    seats_sold: int
    revenue_cents: int
    revenue: str


class SalesTotals(Struct):
    """Seats sold and revenue over the whole event, summed by PostgreSQL."""

    seats_sold: int
    revenue_cents: int
    revenue: str


class SalesReport(Struct):
    """Sales (PostgreSQL) per group, and totals."""

    event_id: int
    by: GroupBy
    groups: list[SalesRow]
    totals: SalesTotals


class SoldSeat(Struct):
    """One sold seat: its order, place, category, price and when it was sold."""

    order_id: int
    buyer_id: str
    seat_index: int
    seat_id: str
    label: str
    section: str
    row: str
    seat: str
    category: str
    price_cents: int
    price: str
    sold_at: Timestamp


class SoldSeatList(Struct):
    """Every sold seat of the event, by order then seat."""

    event_id: int
    seats: list[SoldSeat]


def _report_reply(model: type, what: str) -> Reply:
    return Reply(what, model, ("application/json",), text_media=(CSV,))


REPORT = "/events/{event_id}/reports"
STATUS_REPORT = Operation(
    "GET", f"{REPORT}/status",
    "Operator: live seat counts per status, by section, category or price, with totals.",
    "reports", {200: _report_reply(StatusReport, "The report (JSON or CSV).")}, REPORT_ERRORS,
    path_params=EventPath, query=ReportQuery, security=OPERATOR,
)
SALES_REPORT = Operation(
    "GET", f"{REPORT}/sales",
    "Operator: seats sold and revenue, by section, category or price, with totals.",
    "reports", {200: _report_reply(SalesReport, "The report (JSON or CSV).")}, REPORT_ERRORS,
    path_params=EventPath, query=ReportQuery, security=OPERATOR,
)
SOLD_SEATS_REPORT = Operation(
    "GET", f"{REPORT}/sold-seats",
    "Operator: every sold seat with its order, label, category, price and time (streamed).",
    "reports", {200: _report_reply(SoldSeatList, "The listing (JSON or CSV), streamed.")},
    REPORT_ERRORS, path_params=EventPath, query=SoldSeatsQuery, security=OPERATOR,
)
