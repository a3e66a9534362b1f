"""Hold rules, decided inside the HOLD/RELEASE scripts against the live statuses.

The grid venue: sections 101 and 102, rows A-F, seats 1-12 with an aisle between
seats 6 and 7; 101-A-1 is a wheelchair place and 101-A-2 its companion seat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from lockservice.adminscripts import register_scripts
from lockservice.errors import HoldConflict, RuleViolation
from lockservice.holds import Holds
from lockservice.keys import rate_key
from lockservice.luashared import GCRA
from lockservice.ratelimit import Budget, RateLimiter, interval_ms
from seatmap.context import EventView, ServiceContext
from seatmap.errors import RateLimited
from seatmap.events import EventRules
from seatmap.status import SeatStatus
from tests.lockservice.conftest import clocked, new_event


def seats(view: EventView, row: str, *numbers: int, section: str = "101") -> list[int]:
    """Seat indices of seats in one row."""
    found = [view.venue.seat_index_of(f"{section}-{row}-{n}") for n in numbers]
    assert None not in found
    return [s for s in found if s is not None]


async def rule_of(holds: Holds, view: EventView, buyer: str, wanted: list[int]) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        await holds.hold(view, buyer, wanted)
    return caught.value


async def test_hold_that_leaves_single_seat_at_row_end_is_rejected(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx)
    err = await rule_of(holds, view, "b1", seats(view, "C", 2, 3, 4))
    assert err.rule == "orphan_seat" and err.status_code == 422
    assert err.extra["seats"] == ["101-C-1"]
    status = await holds.statuses(view.event.id)
    assert not status.any(), "a refused hold must take nothing"


async def test_hold_that_leaves_single_seat_at_aisle_is_rejected(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx)
    # 101-C-7 is the first seat after the aisle: holding 8-10 would strand it.
    err = await rule_of(holds, view, "b1", seats(view, "C", 8, 9, 10))
    assert err.extra["seats"] == ["101-C-7"]
    # On the other side of the aisle, 6 is the last seat before it.
    err = await rule_of(holds, view, "b1", seats(view, "C", 3, 4, 5))
    assert err.extra["seats"] == ["101-C-6"]


async def test_orphan_rule_checks_both_sides_at_once(ctx: ServiceContext, holds: Holds) -> None:
    view = await new_event(ctx)
    err = await rule_of(holds, view, "b1", seats(view, "D", 2, 3, 4, 5))
    assert sorted(err.extra["seats"]) == ["101-D-1", "101-D-6"]


async def test_hold_that_leaves_gap_of_one_next_to_another_hold_is_rejected(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx)
    await holds.hold(view, "b1", seats(view, "E", 1, 2))
    err = await rule_of(holds, view, "b2", seats(view, "E", 4, 5, 6))
    assert err.extra["seats"] == ["101-E-3"]
    # A gap of two is fine.
    await holds.hold(view, "b2", seats(view, "E", 5, 6))


async def test_rejected_hold_suggests_a_nearby_block_that_satisfies_the_rules(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx)
    err = await rule_of(holds, view, "b1", seats(view, "C", 2, 3, 4))
    alternative = err.extra["alternative"]
    assert len(alternative) == 3
    indices = [view.venue.seat_index_of(label) for label in alternative]
    hold = await holds.hold(view, "b1", indices)  # type: ignore[arg-type]
    assert hold.fencing > 0


async def test_two_buyers_cannot_each_leave_half_a_gap(ctx: ServiceContext, holds: Holds) -> None:
    view = await new_event(ctx, rows=6, sections=2)
    outcomes = []
    for section in ("101", "102"):
        for row in "ABCDEF":
            left = seats(view, row, 1, 2, section=section)
            right = seats(view, row, 4, 5, 6, section=section)
            results = await asyncio.gather(
                holds.hold(view, "left", left, accessible=True),
                holds.hold(view, "right", right),
                return_exceptions=True,
            )
            ok = [r for r in results if not isinstance(r, BaseException)]
            assert len(ok) == 1, results
            assert all(isinstance(r, RuleViolation | HoldConflict) or r in ok for r in results)
            outcomes.append(results)
            # release to keep buyers under their limit
            await holds.release(view, ok[0].buyer_id, ok[0].token)
    assert len(outcomes) == 12


async def test_orphan_rule_can_be_relaxed_per_event(ctx: ServiceContext, holds: Holds) -> None:
    view = await new_event(ctx, EventRules(no_orphans=False))
    hold = await holds.hold(view, "b1", seats(view, "C", 2, 3, 4))
    assert len(hold.seats) == 3


async def test_buyer_cannot_exceed_max_seats_across_holds(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx, EventRules(max_seats_per_buyer=4))
    await holds.hold(view, "b1", seats(view, "C", 1, 2, 3))
    err = await rule_of(holds, view, "b1", seats(view, "D", 1, 2))
    assert err.rule == "max_seats_per_buyer"
    assert err.extra["limit"] == 4 and err.extra["held"] == 3
    # Another buyer is not affected, and releasing frees the budget.
    await holds.hold(view, "b2", seats(view, "D", 1, 2))
    first = await holds.hold(view, "b1", seats(view, "F", 1))
    await holds.release(view, "b1", first.token)
    await holds.hold(view, "b1", seats(view, "F", 1))
    err = await rule_of(holds, view, "b1", seats(view, "B", 1, 2, 3, 4, 5))
    assert err.rule == "max_seats_per_buyer"


async def test_contiguous_rule_wants_neighbours_in_one_row(
    ctx: ServiceContext, holds: Holds
) -> None:
    view = await new_event(ctx, EventRules(contiguous_in_row=True, no_orphans=False))
    for wanted in (
        seats(view, "C", 1, 3),  # gap
        seats(view, "C", 6, 7),  # across the aisle
        seats(view, "C", 3) + seats(view, "D", 3),  # two rows
    ):
        err = await rule_of(holds, view, "b1", wanted)
        assert err.rule == "not_contiguous"
    hold = await holds.hold(view, "b1", seats(view, "C", 4, 2, 3))
    assert sorted(hold.seats) == seats(view, "C", 2, 3, 4)


async def test_accessible_places_need_an_accessible_hold(ctx: ServiceContext, holds: Holds) -> None:
    view = await new_event(ctx)
    for wanted in (seats(view, "A", 1, 2, 3), seats(view, "A", 2, 3, 4)):
        err = await rule_of(holds, view, "b1", wanted)
        assert err.rule == "accessible_only"
    hold = await holds.hold(view, "b1", seats(view, "A", 1, 2, 3), accessible=True)
    assert hold.accessible
    relaxed = await new_event(ctx, EventRules(restrict_accessible=False))
    await holds.hold(relaxed, "b1", seats(relaxed, "A", 1, 2, 3))


async def test_partial_release_may_not_leave_an_orphan(ctx: ServiceContext, holds: Holds) -> None:
    view = await new_event(ctx)
    hold = await holds.hold(view, "b1", seats(view, "C", 1, 2, 3, 4))
    for single in ((2,), (1,)):
        with pytest.raises(RuleViolation) as caught:
            await holds.release(view, "b1", hold.token, seats(view, "C", *single))
        assert caught.value.rule == "orphan_seat"
    remaining = await holds.release(view, "b1", hold.token, seats(view, "C", 3, 4))
    assert remaining == 2
    status = await holds.statuses(view.event.id)
    held = seats(view, "C", 1, 2)
    freed = seats(view, "C", 3, 4)
    assert [status[s] for s in held + freed] == [SeatStatus.HELD] * 2 + [SeatStatus.AVAILABLE] * 2
    assert (await holds.get(view.event.id, "b1", hold.token)).seats == tuple(held)


async def test_hold_attempts_and_session_budgets_share_one_gcra(ctx: ServiceContext) -> None:
    clock, fctx = clocked(ctx)
    scripts = register_scripts(ctx.redis)
    limiter, holds = RateLimiter(fctx, scripts.rate), Holds(fctx, scripts)
    view = await new_event(fctx, EventRules(no_orphans=False, max_seats_per_buyer=100))
    interval = interval_ms(3)  # three per minute
    keys = holds.keys(view.event.id)
    session_budget = Budget([rate_key(ctx.settings.redis_prefix, "gcra-test", "x")], [interval])
    hold_budget = Budget([keys.rate("buyer", "gcra"), keys.rate("ip", "gcra")], [interval, 0])

    async def outcomes(spend: Callable[[int], Awaitable[object]]) -> list[int]:
        """Retry-After of five attempts at once, then one 20 s later (0 = allowed)."""
        found = []
        for n in range(6):
            if n == 5:
                clock.advance(interval)
            try:
                await spend(n)
                found.append(0)
            except RateLimited as refused:
                found.append(refused.retry_after_s)
        return found

    by_session = await outcomes(lambda n: limiter.spend(session_budget, "sessions"))
    by_hold = await outcomes(
        lambda n: holds.hold(view, "gcra", seats(view, "E", n + 1), budget=hold_budget)
    )
    assert by_session == by_hold == [0, 0, 0, 20, 20, 0]
    texts = [str(scripts.rate.script), str(scripts.hold.script)]
    assert (
        [t.count(GCRA) for t in texts] == [t.count("function gcra_wait") for t in texts] == [1, 1]
    )
