"""Deliver the webhook outbox: claim due rows, POST them signed, record every attempt.

Any number of app nodes run this at once. A claim is one statement: due rows are
picked with `FOR UPDATE SKIP LOCKED` (nodes never wait on each other or take the
same row), their attempt count goes up and their next attempt is pushed past a
lease (long enough for every attempt of the batch: `lease_seconds`), and that
commits before any request is sent. So no transaction stays open across HTTP,
and a row whose node died mid-attempt comes due again when its lease runs out.
Receivers may therefore see one message more than once (after a timeout or a lost node), always
with the same `webhook-id`, and must drop repeats by it.

A 2xx reply is delivered. Anything else (another status, a connection error, no
reply within `webhook_timeout_s`) is retried after `retry_delay_s(attempt)`, until
`webhook_max_attempts` attempts, after which the delivery is marked failed.
"""

from __future__ import annotations

import asyncio
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

CLAIM_BATCH = 32
MAX_IN_FLIGHT = 16
LEASE_MARGIN_S = 5.0
MAX_ERROR_CHARS = 500
CLAIM_SQL = """
WITH due AS (
    SELECT id FROM webhook_deliveries
    WHERE state = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
FROM due, webhook_endpoints e
WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.message_id, d.body, d.attempts, e.url, e.secret
"""
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
    """How long a claim keeps its rows from other nodes: a batch is sent MAX_IN_FLIGHT at a
    time, so its last attempt may start only after earlier ones used up their time limit."""
    waves = -(-CLAIM_BATCH // MAX_IN_FLIGHT)
    return timeout_s * waves + LEASE_MARGIN_S


@dataclass(frozen=True, slots=True)
class Claim:
    """One delivery this node is attempting now."""

    delivery_id: int
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
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    async def run_once(self) -> int:
        """Claim up to CLAIM_BATCH due deliveries and attempt each; returns how many."""
        lease_s = lease_seconds(self.ctx.settings.webhook_timeout_s)
        async with asyncio.timeout(PG_CALL_TIMEOUT_S), self.ctx.pool.acquire() as conn:
            rows = await conn.fetch(CLAIM_SQL, CLAIM_BATCH, lease_s)
        claims = [Claim(*row) for row in rows]
        results = await asyncio.gather(*(self._deliver(c) for c in claims), return_exceptions=True)
        for result in results:
            # A lost record leaves the row leased; it comes due again when the lease ends.
            if isinstance(result, BaseException):
                if not is_backend_fault(result):
                    raise result
                log.warning("recording a webhook attempt: %s: %s", type(result).__name__, result)
        return len(claims)

    async def _deliver(self, claim: Claim) -> None:
        async with self._slots:
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
        """Store the attempt and what happens next: delivered, retried later, or failed."""
        settings = self.ctx.settings
        async with (
            asyncio.timeout(PG_CALL_TIMEOUT_S),
            self.ctx.pool.acquire() as conn,
            conn.transaction(),
        ):
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
