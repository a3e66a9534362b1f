"""The `seatmap create-event` options that set an event's rules, and the rules they give."""

from __future__ import annotations

import argparse

from seatmap.errors import BadRequest, SeatmapError
from seatmap.events import EventRules
from seatmap.settings import Settings

# create-event options that set an event rule, by rule name.
RULE_OPTIONS = (
    "hold_ttl_s",
    "max_hold_s",
    "max_seats_per_buyer",
    "no_orphans",
    "contiguous_in_row",
    "restrict_accessible",
)


def event_rules(args: argparse.Namespace, settings: Settings) -> EventRules:
    """The rules given as options, over the settings' defaults, checked as over HTTP."""
    given = {name: getattr(args, name) for name in RULE_OPTIONS if getattr(args, name) is not None}
    try:
        return EventRules.from_json(given, EventRules.defaults(settings))
    except BadRequest as exc:
        option = "--" + str(exc.extra.get("field", "")).replace("_", "-")
        raise SeatmapError(f"{option}: {exc.detail}") from None


def add_rule_options(p: argparse.ArgumentParser) -> None:
    """Options for the event's rules; those not given take SEATMAP_* or built-in defaults."""
    rules = p.add_argument_group("event rules (default: SEATMAP_HOLD_TTL_S etc., else built-in)")
    on_off = argparse.BooleanOptionalAction
    rules.add_argument(
        "--hold-ttl-s",
        dest="hold_ttl_s",
        type=int,
        metavar="SECONDS",
        help="how long a hold lasts before it is extended (10..max hold)",
    )
    rules.add_argument(
        "--max-hold-s",
        dest="max_hold_s",
        type=int,
        metavar="SECONDS",
        help="longest a hold may last with extensions (up to 86400)",
    )
    rules.add_argument(
        "--max-seats-per-buyer",
        dest="max_seats_per_buyer",
        type=int,
        metavar="N",
        help="seats one buyer may hold at once (1..100)",
    )
    rules.add_argument(
        "--orphan-rule",
        dest="no_orphans",
        action=on_off,
        help="refuse holds that leave a single free seat in a row",
    )
    rules.add_argument(
        "--contiguous",
        dest="contiguous_in_row",
        action=on_off,
        help="a buyer's seats in one row must be side by side",
    )
    rules.add_argument(
        "--restrict-accessible",
        dest="restrict_accessible",
        action=on_off,
        help="wheelchair and companion places only for accessible holds",
    )
