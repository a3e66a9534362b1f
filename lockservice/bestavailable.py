"""Best available: hold the best-scored block of seats, retrying if it was just taken."""

from __future__ import annotations

from lockservice.blocks import SeatFilter, find_blocks
from lockservice.errors import HoldConflict, NoSeatsAvailable, RuleViolation
from lockservice.holdrecord import Hold
from lockservice.holds import Holds
from lockservice.rules import COUNT_RULES
from seatmap.context import EventView

__all__ = ["SeatFilter", "hold_best_available"]


async def hold_best_available(
    holds: Holds,
    view: EventView,
    buyer_id: str,
    count: int,
    seat_filter: SeatFilter,
    rounds: int = 3,
    per_round: int = 3,
    address: str = "",
) -> Hold:
    """Hold the best block that fits; if it was taken meanwhile, try the next best.

    Each round ranks blocks against the current statuses and tries the best few;
    the HOLD script re-checks everything atomically. Raises NoSeatsAvailable (409)
    when nothing fits, and the buyer- and address-limit RuleViolations as they are.
    """
    venue = view.venue
    layout = holds.layout(venue)
    for _ in range(rounds):
        status = await holds.statuses(view.event.id)
        blocks = find_blocks(venue, layout, status, count, seat_filter, limit=per_round)
        if not blocks:
            break
        for block in blocks:
            try:
                return await holds.hold(
                    view,
                    buyer_id,
                    block,
                    accessible=seat_filter.accessible,
                    suggest=False,
                    address=address,
                )
            except HoldConflict:
                continue
            except RuleViolation as exc:
                if exc.rule in COUNT_RULES:
                    raise
    raise NoSeatsAvailable(f"no block of {count} seats fits this request")
