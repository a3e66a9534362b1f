"""Hold rules: what the Lua scripts need to decide them, and how a broken rule is reported.

The rules themselves are decided inside the HOLD and RELEASE scripts against the
statuses at that moment; this module hands the scripts each requested seat's
neighbours (two to each side along the row, -1 at a row end or an aisle) and its
accessibility, and turns a script's refusal into a `RuleViolation` with a
nearby alternative where one exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from lockservice.blocks import RowOrder, SeatFilter, find_blocks
from lockservice.errors import RuleViolation
from seatmap.events import EventRules
from seatmap.model import NO_NEIGHBOUR, SeatType, Venue

ORPHAN_SEAT = "orphan_seat"
MAX_SEATS_PER_BUYER = "max_seats_per_buyer"
MAX_SEATS_PER_ADDRESS = "max_seats_per_address"
NOT_CONTIGUOUS = "not_contiguous"
ACCESSIBLE_ONLY = "accessible_only"
RULE_CODES = (
    ORPHAN_SEAT,
    MAX_SEATS_PER_BUYER,
    MAX_SEATS_PER_ADDRESS,
    NOT_CONTIGUOUS,
    ACCESSIBLE_ONLY,
)
# Rules about how many seats someone has, not about where the seats are.
COUNT_RULES = (MAX_SEATS_PER_BUYER, MAX_SEATS_PER_ADDRESS)

RESTRICTED_TYPES = (SeatType.WHEELCHAIR.value, SeatType.COMPANION.value)
# No request names more seats than this, whatever the event allows.
MAX_SEATS_PER_REQUEST = 100


def _step(side: npt.NDArray[np.int32], seat: int) -> int:
    return NO_NEIGHBOUR if seat == NO_NEIGHBOUR else int(side[seat])


def hold_args(venue: Venue, seats: Sequence[int]) -> list[int]:
    """Six numbers per seat for HOLD: index, left, left of left, right, right of right,
    restricted (1 for wheelchair, companion or accessible places)."""
    table = venue.seats
    left, right = table.left, table.right
    out: list[int] = []
    for seat in seats:
        l1, r1 = int(left[seat]), int(right[seat])
        restricted = bool(table.accessible[seat]) or int(table.seat_type[seat]) in RESTRICTED_TYPES
        out += [seat, l1, _step(left, l1), r1, _step(right, r1), int(restricted)]
    return out


def release_args(venue: Venue, seats: Sequence[int]) -> list[int]:
    """Three numbers per seat for a partial RELEASE: index, left, right."""
    left, right = venue.seats.left, venue.seats.right
    out: list[int] = []
    for seat in seats:
        out += [seat, int(left[seat]), int(right[seat])]
    return out


def rule_args(rules: EventRules) -> list[int]:
    """HOLD's ARGV 4-9: ttl_ms, max_hold_ms, max seats per buyer and the three rule flags."""
    return [
        rules.hold_ttl_s * 1000,
        rules.max_hold_s * 1000,
        rules.max_seats_per_buyer,
        int(rules.no_orphans),
        int(rules.contiguous_in_row),
        int(rules.restrict_accessible),
    ]


def describe(rule: str, rules: EventRules, held_already: int = 0, address_cap: int = 0) -> str:
    """The human explanation of a broken rule."""
    if rule == ORPHAN_SEAT:
        return "the hold would leave a single empty seat next to it; choose seats that don't"
    if rule == MAX_SEATS_PER_BUYER:
        return (
            f"a buyer may have at most {rules.max_seats_per_buyer} seats in this event "
            f"(you already have {held_already})"
        )
    if rule == MAX_SEATS_PER_ADDRESS:
        return (
            f"at most {address_cap} seats may be held at once from one network address in "
            f"this event ({held_already} are); buy or release some first"
        )
    if rule == NOT_CONTIGUOUS:
        return "seats must be next to each other in one row"
    if rule == ACCESSIBLE_ONLY:
        return "wheelchair and companion places need a hold that asks for accessible seating"
    return "the hold breaks an event rule"


def suggest(
    venue: Venue,
    layout: RowOrder,
    status: npt.NDArray[np.uint8],
    requested: Sequence[int],
    rules: EventRules,
    accessible: bool,
) -> list[str]:
    """Labels of the nearest block of as many seats that satisfies every rule, or []."""
    if not requested:
        return []
    near = (
        float(np.mean(venue.seats.x[list(requested)])),
        float(np.mean(venue.seats.y[list(requested)])),
    )
    seat_filter = SeatFilter(
        accessible=False,
        restrict_accessible=rules.restrict_accessible and not accessible,
        no_orphans=rules.no_orphans,
    )
    blocks = find_blocks(venue, layout, status, len(requested), seat_filter, near=near, limit=1)
    return [venue.full_label(s) for s in blocks[0]] if blocks else []


def violation(
    rule: str,
    venue: Venue,
    rules: EventRules,
    seats: Sequence[int] = (),
    held_already: int = 0,
    alternative: list[str] | None = None,
    address_cap: int = 0,
) -> RuleViolation:
    """The error for a broken rule, naming the seats involved."""
    extra: dict[str, object] = {}
    if seats:
        extra["seats"] = [venue.full_label(s) for s in dict.fromkeys(seats)]
    if rule in COUNT_RULES:
        extra["limit"] = address_cap if rule == MAX_SEATS_PER_ADDRESS else rules.max_seats_per_buyer
        extra["held"] = held_already
    detail = describe(rule, rules, held_already, address_cap)
    return RuleViolation(rule, detail, alternative, **extra)
