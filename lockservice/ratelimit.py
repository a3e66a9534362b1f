"""Rate limits in Redis (GCRA), shared by every process: per buyer and per client IP.

Each subject may burst up to its per-minute limit, then gets one request per
(60 s / limit). A refused request raises RateLimited, answered 429 with a
Retry-After in whole seconds. A limit of 0 or less switches that check off.
Hold attempts are limited per event (the buckets share the event's hash tag),
so the HOLD script charges them in the same step as the hold itself. Both the
RATE and HOLD scripts are built on the one GCRA of `lockservice.luashared`, on
Redis's clock. The client address is `httpkit.proxies.client_address`: the
peer, or behind trusted proxies the address they report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from redis.commands.core import AsyncScript
from starlette.requests import Request

from httpkit.proxies import client_address
from lockservice.keys import event_keys, rate_key
from seatmap.context import ServiceContext
from seatmap.errors import RateLimited

WINDOW_MS = 60_000
# Many buyers can share one address (mobile carriers, offices): an IP may make this
# many times the per-buyer hold attempts.
IP_SHARE_FACTOR = 10


@dataclass(frozen=True, slots=True)
class Budget:
    """Rate buckets one request is charged to, with each bucket's interval (0 = no limit)."""

    keys: list[str]
    intervals_ms: list[int]


def interval_ms(per_min: int) -> int:
    """The GCRA emission interval of a per-minute limit; 0 for no limit."""
    return 0 if per_min <= 0 else max(1, WINDOW_MS // per_min)


def rate_limited(wait_ms: int, what: str) -> RateLimited:
    """The 429 error for a refused request."""
    retry_after_s = max(1, math.ceil(wait_ms / 1000))
    return RateLimited(f"too many {what}; retry later", retry_after_s=retry_after_s)


class RateLimiter:
    """Checks request budgets; one instance per service, sharing state through Redis."""

    def __init__(self, ctx: ServiceContext, script: AsyncScript) -> None:
        self._ctx = ctx
        self._script = script

    def address(self, request: Request) -> str:
        """The client's address, through the configured trusted proxies only."""
        return client_address(request, self._ctx.settings.trusted_proxies)

    def hold_budget(self, event_id: int, buyer_id: str, address: str) -> Budget:
        """The buckets a hold attempt in an event is charged to."""
        per_min = self._ctx.settings.rate_limit_holds_per_min
        keys = event_keys(self._ctx.settings.redis_prefix, event_id)
        return Budget(
            [keys.rate("buyer", buyer_id), keys.rate("ip", address)],
            [interval_ms(per_min), interval_ms(per_min * IP_SHARE_FACTOR)],
        )

    async def spend(self, budget: Budget, what: str) -> None:
        """Charge one request to every bucket (all or none); raise RateLimited if out."""
        if not any(budget.intervals_ms):
            return
        args: list[Any] = [self._ctx.clock.pinned_ms(), WINDOW_MS, *budget.intervals_ms]
        wait_ms = int(await self._script(keys=budget.keys, args=args))
        if wait_ms > 0:
            raise rate_limited(wait_ms, what)

    async def session_created(self, request: Request) -> None:
        """Limit session creation per client IP."""
        key = rate_key(self._ctx.settings.redis_prefix, "sessions-ip", self.address(request))
        per_min = self._ctx.settings.rate_limit_sessions_per_min
        await self.spend(Budget([key], [interval_ms(per_min)]), "new sessions")

    async def hold_attempt(self, request: Request, event_id: int, buyer_id: str) -> None:
        """Charge a hold attempt that is not made by one HOLD script (best available)."""
        try:
            await self.spend(
                self.hold_budget(event_id, buyer_id, self.address(request)), "hold attempts"
            )
        except RateLimited:
            self._ctx.metrics.holds.labels("rate_limited").inc()
            raise
