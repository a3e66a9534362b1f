"""Deliver the webhook outbox fairly per endpoint: claim due rows, POST them signed, record
every attempt.

Any number of app nodes run this at once. A claim is one statement: for every endpoint with
room on this node (taken in random order), its oldest due rows, as many as it may still
have under way here (PER_ENDPOINT_IN_FLIGHT less those already sending), are picked with
`FOR UPDATE SKIP LOCKED` (nodes never wait on each other or take the same row); their
attempt count goes up and their next attempt is pushed past a lease (`lease_seconds`), and
that commits before any request is sent. So no transaction stays open across HTTP, and a
row whose node died mid-attempt comes due again when its lease runs out. Receivers may
therefore see one message more than once (after a timeout or a lost node), always with
the same `webhook-id`, and must drop repeats by it.

A node never claims more than it has free slots (MAX_IN_FLIGHT), so every claimed row is
sent at once, in a task of its own, and the lease only has to cover one attempt. The
worker does not wait for a claim's attempts to end: it claims again whenever an attempt
ends (`slot_freed`) or the poll interval passes. An endpoint that hangs or cannot be
reached therefore holds at most PER_ENDPOINT_IN_FLIGHT slots per node, each for at most
`webhook_timeout_s`, while deliveries to every other endpoint go on beside it.

A 2xx reply is delivered. Anything else (another status, a connection error, no reply
within `webhook_timeout_s`, connect to last byte) is retried after
`retry_delay_s(attempt)`, until `webhook_max_attempts` attempts, after which the delivery
is marked failed. Deliveries are not ordered, not even those to one endpoint.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from httpkit.errors import is_backend_fault
from lockservice.pgcalls import PG_CALL_TIMEOUT_S
from lockservice.webhooks_signing import signed_headers
from seatmap.context import ServiceContext

log = logging.getLogger(__name__)

CLAIM_BATCH = 32  # rows per claim at most
MAX_IN_FLIGHT = 32  # attempts under way on one node, all endpoints together
PER_ENDPOINT_IN_FLIGHT = 4  # attempts under way to one endpoint on one node
LEASE_MARGIN_S = 5.0
STOP_GRACE_S = 1.0  # for cancelled attempts to unwind when the worker stops
MAX_ERROR_CHARS = 500
# $1: rows at most; $2: PER_ENDPOINT_IN_FLIGHT; $3, $4: the endpoint ids with attempts
# under way on this node and how many; $5: the lease in seconds.
# Returns the claimed rows (a Claim each), up to $2 less those under way per endpoint.
CLAIM_SQL = """
WITH busy AS (
    SELECT * FROM unnest($3::bigint[], $4::int[]) AS b(endpoint_id, in_flight)
), due AS (
    SELECT w.id
    FROM (
        SELECT e.id, $2::int - coalesce(b.in_flight, 0) AS room
        FROM webhook_endpoints e LEFT JOIN busy b ON b.endpoint_id = e.id
        WHERE coalesce(b.in_flight, 0) < $2::int
        ORDER BY random()
    ) e
    CROSS JOIN LATERAL (
        SELECT id FROM webhook_deliveries
        WHERE endpoint_id = e.id AND state = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT e.room
        FOR UPDATE SKIP LOCKED
    ) w
    LIMIT $1
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $5)
FROM due, webhook_endpoints e
WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, d.message_id, d.body, d.attempts, e.url, e.secret
"""
# Holds the row against removal of its endpoint while the attempt is recorded.
EXISTS_SQL = "SELECT 1 FROM webhook_deliveries WHERE id = $1 FOR KEY SHARE"
DELIVERED_SQL = """
UPDATE webhook_deliveries
SET state = 'delivered', delivered_at = now(), last_status = $2, last_error = NULL
WHERE id = $1 AND state = 'pending'
"""
# Only the latest claim decides what happens next (a newer one may have started).
FAILED_SQL = """
UPDATE webhook_deliveries
SET last_status = $3, last_error = $4,
    state = CASE WHEN $5 THEN 'failed' ELSE 'pending' END,
    next_attempt_at = CASE WHEN $5 THEN next_attempt_at
                           ELSE now() + make_interval(secs => $6) END
WHERE id = $1 AND attempts = $2 AND state = 'pending'
"""
ATTEMPT_SQL = """
INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
"""


def retry_delay_s(attempt: int, base_s: float, cap_s: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): a random time
    between half and all of min(cap, base * 2^(attempt - 1))."""
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt - 1, 62))
    return random.uniform(ceiling / 2, ceiling)


def lease_seconds(timeout_s: float) -> float:
    """How long a claim keeps its rows from other nodes: every claimed row is sent at once
    (a node claims no more than its free slots), so one attempt's time limit plus a margin
    for recording it."""
    return timeout_s + LEASE_MARGIN_S


@dataclass(frozen=True, slots=True)
class Claim:
    """One delivery this node is attempting now."""

    delivery_id: int
    endpoint_id: int
    message_id: str
    body: str
    attempt: int
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: a status code, or an error without one."""

    started_at: datetime
    duration_ms: int
    status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        """A 2xx reply."""
        return self.status is not None and 200 <= self.status < 300


class DeliveryWorker:
    """Claims due deliveries and sends them (see the module docstring)."""

    def __init__(self, ctx: ServiceContext, client: httpx.AsyncClient | None = None) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.client = client or httpx.AsyncClient(
            timeout=settings.webhook_timeout_s, follow_redirects=False
        )
        # Set whenever an attempt ends, so the next claim can fill its slot at once.
        self.slot_freed = asyncio.Event()
        self._in_flight: dict[int, int] = {}  # endpoint id -> attempts under way here
        self._tasks: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    async def run_once(self) -> int:
        """Claim the due deliveries that fit this node's free slots (at most CLAIM_BATCH,
        and at most PER_ENDPOINT_IN_FLIGHT under way per endpoint) and start sending each at
        once, without waiting for any; returns how many were claimed."""
        room = min(CLAIM_BATCH, MAX_IN_FLIGHT - len(self._tasks))
        if room <= 0:
            return 0
        busy = list(self._in_flight.items())
        lease_s = lease_seconds(self.ctx.settings.webhook_timeout_s)
        async with asyncio.timeout(PG_CALL_TIMEOUT_S), self.ctx.pool.acquire() as conn:
            rows = await conn.fetch(
                CLAIM_SQL, room, PER_ENDPOINT_IN_FLIGHT,
                [endpoint for endpoint, _ in busy], [count for _, count in busy], lease_s,
            )  # fmt: skip
        for row in rows:
            self._start(Claim(*row))
        return len(rows)

    async def drain(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for the attempts under way to end and be recorded, then
        cancel the rest: their rows come due again when their leases run out."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=max(timeout_s, 0.0))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=STOP_GRACE_S)

    def _start(self, claim: Claim) -> None:
        self._in_flight[claim.endpoint_id] = self._in_flight.get(claim.endpoint_id, 0) + 1
        task = asyncio.create_task(
            self._deliver(claim), name=f"webhook-delivery-{claim.delivery_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(functools.partial(self._finished, claim.endpoint_id))

    def _finished(self, endpoint_id: int, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        left = self._in_flight.pop(endpoint_id, 1) - 1
        if left > 0:
            self._in_flight[endpoint_id] = left
        self.slot_freed.set()
        if task.cancelled() or (exc := task.exception()) is None:
            return
        # A lost record leaves the row leased; it comes due again when the lease ends.
        if is_backend_fault(exc):
            log.warning("recording a webhook attempt: %s: %s", type(exc).__name__, exc)
        else:
            log.error("webhooks: %s failed", task.get_name(), exc_info=exc)

    async def _deliver(self, claim: Claim) -> None:
        outcome = await self.attempt(claim)
        await self._record(claim, outcome)

    async def attempt(self, claim: Claim) -> Outcome:
        """POST the claim's body, signed, within the time limit; what came of it."""
        timeout_s = self.ctx.settings.webhook_timeout_s
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        headers = signed_headers(claim.secret, claim.message_id, int(time.time()), claim.body)
        status: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(timeout_s):
                reply = await self.client.post(
                    claim.url, content=claim.body.encode(), headers=headers
                )
            status = reply.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (TimeoutError, httpx.TimeoutException):
            error = f"no reply within {timeout_s:g} s"
        except Exception as exc:  # whatever stopped the request, the attempt failed
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        duration_ms = round((time.perf_counter() - started) * 1000)
        return Outcome(started_at, duration_ms, status, error)

    async def _record(self, claim: Claim, outcome: Outcome) -> None:
        """Store the attempt and what happens next: delivered, retried later, or failed
        (nothing when the endpoint was removed meanwhile)."""
        settings = self.ctx.settings
        async with (
            asyncio.timeout(PG_CALL_TIMEOUT_S),
            self.ctx.pool.acquire() as conn,
            conn.transaction(),
        ):
            if await conn.fetchval(EXISTS_SQL, claim.delivery_id) is None:
                return
            await conn.execute(
                ATTEMPT_SQL, claim.delivery_id, claim.attempt, outcome.started_at,
                outcome.duration_ms, outcome.status, outcome.error,
            )  # fmt: skip
            if outcome.delivered:
                await conn.execute(DELIVERED_SQL, claim.delivery_id, outcome.status)
                return
            delay_s = retry_delay_s(
                claim.attempt, settings.webhook_backoff_s, settings.webhook_backoff_cap_s
            )
            await conn.execute(
                FAILED_SQL, claim.delivery_id, claim.attempt, outcome.status, outcome.error,
                claim.attempt >= settings.webhook_max_attempts, delay_s,
            )  # fmt: skip
