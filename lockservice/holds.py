"""Holds: take, read, extend, release and expire them; mark them for sale; block seats.

Every change is one Lua script (`lockservice.scripts`); this module checks
arguments, calls the script with the event's keys, and turns its reply into a
`Hold` or a lock-service error. Times are Redis's own (`TIME` in the scripts);
`ctx.clock.pinned_ms()` lets tests fix them. A script that finds the event
without its epoch (Redis lost its data) makes the event be rebuilt from
PostgreSQL at once and is sent again; while that cannot finish, callers get 503.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from redis.commands.core import AsyncScript

from lockservice import rules as hold_rules
from lockservice.adminscripts import Scripts
from lockservice.blocks import RowOrder, row_order
from lockservice.errors import ConfirmInProgress, HoldConflict, HoldGone, NotHoldOwner
from lockservice.fastredis import ScriptRunner
from lockservice.holdrecord import Hold, hold_from_fields, ints, new_hold_token, text, valid_token
from lockservice.keys import TOMBSTONE_TTL_MS, EventKeys, event_keys
from lockservice.luashared import NO_EPOCH
from lockservice.ratelimit import WINDOW_MS, Budget, rate_limited
from lockservice.reconcile import Rebuilds
from seatmap.context import EventView, ServiceContext
from seatmap.errors import Unprocessable
from seatmap.livekeys import STREAM_MAXLEN
from seatmap.model import Venue

# How long a hold may stay "confirming" before the sweeper asks PostgreSQL what happened.
CONFIRM_GRACE_MS = 120_000
SWEEP_BATCH = 500
# The hold script's reply -> the `outcome` label of the hold metrics (anything else: "rule").
HOLD_OUTCOMES = {"ok": "ok", "rate_limited": "rate_limited", "seats_taken": "conflict"}
NO_EPOCH_REPLY = NO_EPOCH.encode()


class Holds:
    """The hold lifecycle of every event, against the context's Redis."""

    def __init__(
        self, ctx: ServiceContext, scripts: Scripts, runner: ScriptRunner | None = None
    ) -> None:
        self._ctx = ctx
        self._scripts = scripts
        self._runner = runner
        self._layouts: dict[str, RowOrder] = {}
        self.rebuilds = Rebuilds(ctx, scripts)
        outcomes = ("ok", "conflict", "rule", "rate_limited")
        self._count = {o: ctx.metrics.holds.labels(o) for o in outcomes}
        self._latency = {o: ctx.metrics.hold_seconds.labels(o) for o in outcomes}

    def keys(self, event_id: int) -> EventKeys:
        """Key names of an event."""
        return event_keys(self._ctx.settings.redis_prefix, event_id)

    def layout(self, venue: Venue) -> RowOrder:
        """The venue's rows laid out for block search, computed once per venue."""
        found = self._layouts.get(venue.content_hash)
        if found is None:
            found = self._layouts[venue.content_hash] = row_order(venue)
        return found

    def clock(self) -> int:
        """The `clock` argument of the scripts: 0 for Redis's TIME, or the pinned test time."""
        return self._ctx.clock.pinned_ms()

    async def now_ms(self) -> int:
        """The time the scripts run at: Redis's clock, or the pinned test time."""
        pinned = self.clock()
        if pinned:
            return pinned
        seconds, micros = await self._ctx.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def statuses(self, event_id: int) -> npt.NDArray[np.uint8]:
        """The event's status bytes as Redis has them now (a copy)."""
        raw: Any = await self._ctx.redis.get(self.keys(event_id).status)
        if raw is None:
            await self.rebuilds.restore(event_id)
            raw = await self._ctx.redis.get(self.keys(event_id).status) or b""
        return np.frombuffer(raw, dtype=np.uint8).copy()

    async def _call(
        self, event_id: int, script: AsyncScript, keys: list[str], args: list[Any]
    ) -> list[Any]:
        """Run a script; if the event has no epoch, rebuild it from PostgreSQL and run again."""
        reply = await self._eval(script, keys, args)
        if reply and reply[0] == NO_EPOCH_REPLY:
            await self.rebuilds.restore(event_id)
            reply = await self._eval(script, keys, args)
            if reply and reply[0] == NO_EPOCH_REPLY:
                raise self.rebuilds.unavailable()
        return reply

    async def _eval(self, script: AsyncScript, keys: list[str], args: list[Any]) -> list[Any]:
        if self._runner is not None:
            return list(await self._runner.run(script, keys, args))
        return list(await script(keys=keys, args=args))

    async def hold(
        self,
        view: EventView,
        buyer_id: str,
        seats: Sequence[int],
        accessible: bool = False,
        suggest: bool = True,
        budget: Budget | None = None,
        address: str = "",
    ) -> Hold:
        """Hold these seats for the buyer, all or nothing; raises on conflict or broken rule.

        With a `budget`, the attempt is charged to those rate buckets in the same step;
        with the client's `address`, the seats held from it at once are capped.
        """
        venue, event_rules, event_id = view.venue, view.event.rules, view.event.id
        if not seats or len(set(seats)) != len(seats):
            raise Unprocessable("seats must be a non-empty list without repeats")
        if len(seats) > min(event_rules.max_seats_per_buyer, hold_rules.MAX_SEATS_PER_REQUEST):
            raise hold_rules.violation(hold_rules.MAX_SEATS_PER_BUYER, venue, event_rules)
        token = new_hold_token()
        k = self.keys(event_id)
        budget = budget or Budget([k.rate("-", "-"), k.rate("-", "-")], [0, 0])
        address_cap = self._ctx.settings.max_seats_per_address if address else 0
        seat_args = " ".join(map(str, hold_rules.hold_args(venue, seats)))
        args = [buyer_id, token, self.clock(), *hold_rules.rule_args(event_rules)]
        args += [int(accessible), STREAM_MAXLEN, *budget.intervals_ms, WINDOW_MS, seat_args]
        args += [address, address_cap]
        keys = [k.epoch, k.status, k.hold(token), k.expiry, k.buyers, k.fencing, k.log]
        keys += [k.addresses, *budget.keys]
        started = time.perf_counter()
        reply = await self._call(event_id, self._scripts.hold, keys, args)
        outcome = text(reply[0])
        counted_as = HOLD_OUTCOMES.get(outcome, "rule")
        self._count[counted_as].inc()
        self._latency[counted_as].observe(time.perf_counter() - started)
        if outcome == "ok":
            fields = {"buyer": buyer_id, "fencing": text(reply[1]), "created_ms": text(reply[4])}
            fields.update(expires_ms=text(reply[2]), max_expires_ms=text(reply[5]))
            fields.update(seats=",".join(map(str, seats)), accessible=str(int(accessible)))
            return hold_from_fields(token, event_id, fields, "held")
        if outcome == "rate_limited":
            raise rate_limited(int(reply[1]), "hold attempts")
        if outcome == "seats_taken":
            raise HoldConflict([venue.full_label(s) for s in ints(reply[1:])])
        rule = text(reply[1])
        counted = rule in hold_rules.COUNT_RULES
        involved = [] if counted else ints(reply[2:])
        held = int(reply[2]) if counted else 0
        alternative = None
        if suggest and not counted:
            status = await self.statuses(event_id)
            layout = self.layout(venue)
            alternative = hold_rules.suggest(venue, layout, status, seats, event_rules, accessible)
        raise hold_rules.violation(
            rule, venue, event_rules, involved, held, alternative, address_cap=address_cap
        )

    async def get(self, event_id: int, buyer_id: str, token: str) -> Hold:
        """The buyer's hold; 404 if unknown or someone else's, 410 if it has ended."""
        k = self.keys(event_id)
        if not valid_token(token):
            raise NotHoldOwner()
        async with self._ctx.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(k.hold(token))
            pipe.zscore(k.expiry, token)
            pipe.get(k.epoch)
            raw, due, epoch = await pipe.execute()
        fields = {text(a): text(b) for a, b in raw.items()}
        if not fields or fields.get("buyer") != buyer_id:
            raise NotHoldOwner()
        state = fields["state"]
        void = epoch is None or fields.get("epoch") != text(epoch)  # from before a Redis loss
        if state in ("held", "confirming") and void:
            state = "expired"
        if state == "held" and (int(fields["expires_ms"]) <= await self.now_ms() or due is None):
            state = "expired"
        if state not in ("held", "confirming"):
            raise HoldGone(state)
        return hold_from_fields(token, event_id, fields, state)

    def _refused(self, reply: list[Any]) -> None:
        """Raise the error for a refused extend/release/confirm reply."""
        outcome = text(reply[0])
        if outcome == "missing":
            raise NotHoldOwner()
        if outcome == "busy":
            raise ConfirmInProgress("the hold is being confirmed")
        if outcome == "gone":
            raise HoldGone(text(reply[1]))

    async def extend(self, view: EventView, buyer_id: str, token: str) -> Hold:
        """Push the hold's expiry out by the event's hold time, up to its maximum."""
        event_id = view.event.id
        if not valid_token(token):
            raise NotHoldOwner()
        k = self.keys(event_id)
        args = [buyer_id, token, self.clock(), view.event.rules.hold_ttl_s * 1000]
        keys = [k.epoch, k.hold(token), k.expiry]
        reply = await self._call(event_id, self._scripts.extend, keys, args)
        self._refused(reply)
        return await self.get(event_id, buyer_id, token)

    async def release(
        self, view: EventView, buyer_id: str, token: str, seats: Sequence[int] | None = None
    ) -> int:
        """Release the hold, or only `seats` of it; returns how many seats it still holds."""
        venue, event_id = view.venue, view.event.id
        if not valid_token(token):
            raise NotHoldOwner()
        if seats is not None and (not seats or len(set(seats)) != len(seats)):
            raise Unprocessable("seats must be a non-empty list without repeats")
        k = self.keys(event_id)
        no_orphans = int(view.event.rules.no_orphans)
        args = [buyer_id, token, self.clock(), STREAM_MAXLEN, no_orphans, TOMBSTONE_TTL_MS]
        if seats is not None:
            args += hold_rules.release_args(venue, seats)
        keys = [k.epoch, k.status, k.hold(token), k.expiry, k.buyers, k.log, k.addresses]
        reply = await self._call(event_id, self._scripts.release, keys, args)
        self._refused(reply)
        outcome = text(reply[0])
        if outcome == "not_in_hold":
            raise Unprocessable(
                "some seats are not part of this hold",
                seats=[venue.full_label(s) for s in ints(reply[1:])],
            )
        if outcome == "rule":
            raise hold_rules.violation(text(reply[1]), venue, view.event.rules, ints(reply[2:]))
        return int(reply[1])

    async def end(self, event_id: int, token: str, force: bool, kind: str = "expire") -> str:
        """Run EXPIRE on one hold; returns its outcome ("ended", "not_due", "confirming"...)."""
        k = self.keys(event_id)
        args = [token, self.clock(), STREAM_MAXLEN, TOMBSTONE_TTL_MS, int(force), kind]
        keys = [k.epoch, k.status, k.hold(token), k.expiry, k.buyers, k.log, k.addresses]
        reply = await self._eval(self._scripts.expire, keys, args)
        return text(reply[0])

    async def sweep(self, event_id: int, due_tokens: Sequence[bytes]) -> list[str]:
        """Expire these due holds; returns the tokens of due holds stuck in "confirming"."""
        stuck: list[str] = []
        for raw in due_tokens:
            token = text(raw)
            if await self.end(event_id, token, force=False) == "confirming":
                stuck.append(token)
        return stuck

    async def mark_confirming(
        self, event_id: int, token: str, buyer_id: str, idempotency_key: str
    ) -> tuple[str, int, list[int]]:
        """Freeze a hold for its sale; returns (buyer, fencing, seats).

        Also succeeds for a hold already frozen under the same idempotency key (an
        earlier attempt that died); callers serialise attempts per key.
        """
        if not valid_token(token):
            raise NotHoldOwner()
        k = self.keys(event_id)
        args = [buyer_id, token, self.clock(), CONFIRM_GRACE_MS, idempotency_key, STREAM_MAXLEN]
        keys = [k.epoch, k.status, k.hold(token), k.expiry, k.log]
        reply = await self._call(event_id, self._scripts.mark_confirming, keys, args)
        self._refused(reply)
        seats = [int(s) for s in text(reply[3]).split(",") if s]
        return text(reply[1]), int(reply[2]), seats

    async def mark_sold(self, event_id: int, token: str, fencing: int) -> bool:
        """Mark a confirming hold's seats sold; False if the hold is no longer confirming."""
        k = self.keys(event_id)
        keys = [k.epoch, k.status, k.hold(token), k.expiry, k.log, k.addresses]
        args: list[Any] = [token, fencing, STREAM_MAXLEN, TOMBSTONE_TTL_MS]
        reply = await self._eval(self._scripts.mark_sold, keys, args)
        return text(reply[0]) == "ok"

    async def set_blocked(self, view: EventView, seats: Sequence[int], block: bool) -> int:
        """Block available seats (all or nothing) or unblock blocked ones; returns changes."""
        k = self.keys(view.event.id)
        args: list[Any] = [STREAM_MAXLEN, "block" if block else "unblock", *seats]
        keys = [k.epoch, k.status, k.log]
        reply = await self._call(view.event.id, self._scripts.block, keys, args)
        if text(reply[0]) == "seats_taken":
            raise HoldConflict([view.venue.full_label(s) for s in ints(reply[1:])])
        return int(reply[2])
