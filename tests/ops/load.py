"""What the fault tests drive the app with while they break something.

The hall they sell from, every answer the clients got (by phase and request
kind), confirms retried the way a box office retries them, and a backend
stopped for a while and started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from seatmap.events import EventRules
from seatmap.model import Venue
from tests.ops.api import Api
from tests.venues import grid_venue

LONG_HOLDS = EventRules(no_orphans=False, hold_ttl_s=900, max_hold_s=1800)

Answer = tuple[str, str, int, str | None]


def fault_venue() -> Venue:
    """800 seats: 4 sections of 10 rows of 20, an aisle mid-row."""
    return grid_venue(sections=4, rows=10, seats_per_row=20, aisle_after=10, name="Fault Hall")


@dataclass
class Observed:
    """Every answer the clients got, by phase and request kind.

    `phase` is the phase answers are recorded in; the test moves it on as the fault
    progresses.
    """

    phase: str = "before"
    answers: list[Answer] = field(default_factory=list)

    def record(self, kind: str, response: httpx.Response) -> None:
        """Remember (phase, kind, status, Retry-After) of one response, in the current phase."""
        self.answers.append(
            (self.phase, kind, response.status_code, response.headers.get("retry-after"))
        )

    def statuses(self, phase: str, kind: str) -> list[int]:
        """Statuses of one kind of request in one phase."""
        return [s for p, k, s, _ in self.answers if p == phase and k == kind]

    def server_errors(self) -> list[Answer]:
        """5xx answers other than 503 with a Retry-After (the readiness probe aside)."""
        return [
            a
            for a in self.answers
            if a[2] >= 500 and not (a[2] == 503 and a[3]) and a[1] != "readyz"
        ]


async def confirm_until_answered(
    api: Api,
    hold_token: str,
    idempotency_key: str,
    observed: Observed,
    give_up_after_s: float,
    retry_after_s: float,
    ride_out_transport_errors: bool = False,
) -> httpx.Response | None:
    """Confirm a hold with one Idempotency-Key, again `retry_after_s` after each 503.

    Returns the first answer that is not a 503, or None if `give_up_after_s` pass
    first. Every answer is recorded as a "confirm". A transport error fails the
    caller, unless `ride_out_transport_errors`: then the confirm is sent again
    0.2 s later, and nothing is recorded for it.
    """
    deadline = time.monotonic() + give_up_after_s
    while time.monotonic() < deadline:
        try:
            response = await api.confirm(hold_token, idempotency_key)
        except httpx.TransportError:
            if not ride_out_transport_errors:
                raise
            await asyncio.sleep(0.2)
            continue
        observed.record("confirm", response)
        if response.status_code != 503:
            return response
        await asyncio.sleep(retry_after_s)
    return None


class Restartable(Protocol):
    """A backend server this test run owns."""

    def stop(self) -> None:
        """Stop the server."""

    def start(self) -> None:
        """Start it again and wait until it serves."""


@contextlib.asynccontextmanager
async def backend_stopped(backend: Restartable) -> AsyncIterator[None]:
    """Stop `backend` for the body of the block, then start it again (even if the body
    fails). Both run in a thread, so the clients on this event loop keep going."""
    await asyncio.to_thread(backend.stop)
    try:
        yield
    finally:
        await asyncio.to_thread(backend.start)
