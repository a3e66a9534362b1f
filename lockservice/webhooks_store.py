"""The webhook tables: endpoints, and the outbox rows written with the changes they report.

`enqueue_sale` runs inside a sale's own transaction (`lockservice.sales`), so a
committed sale always has its messages and a rolled-back one has none; an
idempotent repeat of a confirm returns the stored order before reaching it, and
UNIQUE(endpoint_id, message_id) would refuse a second row anyway.
`enqueue_changes` is the same insert for a batch of change-log entries
(`lockservice.webhooks_feed`). An endpoint gets the messages of changes made
after it was registered (by the change's own time), never older ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from lockservice.webhooks_payloads import SALE, sale_body, sale_message_id
from lockservice.webhooks_signing import new_secret
from seatmap.errors import NotFound, Unprocessable
from seatmap.model import Venue

# Rows of one kind for every endpoint that wants it: global ones and the event's own.
_MATCHING = "$1 = ANY(e.kinds) AND (e.event_id IS NULL OR e.event_id = $2)"
SALE_OUTBOX_SQL = f"""
INSERT INTO webhook_deliveries (endpoint_id, message_id, kind, event_id, body)
SELECT e.id, $3, $1, $2, $4 FROM webhook_endpoints e WHERE {_MATCHING}
ON CONFLICT (endpoint_id, message_id) DO NOTHING
"""
CHANGES_OUTBOX_SQL = """
INSERT INTO webhook_deliveries (endpoint_id, message_id, kind, event_id, body)
SELECT e.id, m.message_id, m.kind, $1, m.body
FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS m(message_id, kind, body, at)
JOIN webhook_endpoints e
  ON m.kind = ANY(e.kinds) AND (e.event_id IS NULL OR e.event_id = $1) AND e.created_at <= m.at
ON CONFLICT (endpoint_id, message_id) DO NOTHING
"""
ATTEMPTS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Change:
    """One change-log entry to report: its message id, kind, body and time."""

    message_id: str
    kind: str
    body: str
    at: datetime


async def enqueue_sale(
    conn: asyncpg.Connection,
    venue: Venue,
    *,
    event_id: int,
    order_id: int,
    buyer_id: str,
    fencing: int,
    seats: Sequence[int],
    total_cents: int,
    created_at: datetime,
) -> None:
    """Queue the sale's message for every endpoint that wants sales (in the caller's
    transaction)."""
    body = sale_body(
        venue, event_id=event_id, order_id=order_id, buyer_id=buyer_id, fencing=fencing,
        seats=seats, total_cents=total_cents, created_at=created_at,
    )  # fmt: skip
    await conn.execute(SALE_OUTBOX_SQL, SALE, event_id, sale_message_id(order_id), body)


async def enqueue_changes(
    conn: asyncpg.Connection, event_id: int, changes: Sequence[Change]
) -> None:
    """Queue each change's message for every endpoint that wants its kind (caller's
    transaction)."""
    if not changes:
        return
    await conn.execute(
        CHANGES_OUTBOX_SQL,
        event_id,
        [c.message_id for c in changes],
        [c.kind for c in changes],
        [c.body for c in changes],
        [c.at for c in changes],
    )


async def create_endpoint(
    conn: asyncpg.Connection, url: str, kinds: Sequence[str], event_id: int | None
) -> tuple[asyncpg.Record, str]:
    """Register an endpoint; its row and its new secret (shown this once)."""
    if event_id is not None:
        found = await conn.fetchval("SELECT 1 FROM events WHERE id = $1", event_id)
        if found is None:
            raise Unprocessable(f"no event {event_id}", field="event_id")
    secret = new_secret()
    row = await conn.fetchrow(
        "INSERT INTO webhook_endpoints (url, kinds, event_id, secret) VALUES ($1, $2, $3, $4) "
        "RETURNING id, url, kinds, event_id, created_at",
        url,
        sorted(set(kinds)),
        event_id,
        secret,
    )
    assert row is not None
    return row, secret


async def list_endpoints(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every endpoint (without secrets), oldest first."""
    return list(
        await conn.fetch(
            "SELECT id, url, kinds, event_id, created_at FROM webhook_endpoints ORDER BY id"
        )
    )


async def delete_endpoint(conn: asyncpg.Connection, endpoint_id: int) -> None:
    """Remove an endpoint and its deliveries; NotFound if there is none."""
    deleted = await conn.fetchval(
        "DELETE FROM webhook_endpoints WHERE id = $1 RETURNING id", endpoint_id
    )
    if deleted is None:
        raise NotFound(f"no webhook {endpoint_id}")


async def deliveries_of(
    conn: asyncpg.Connection, endpoint_id: int, limit: int
) -> list[dict[str, Any]]:
    """An endpoint's newest deliveries with their latest attempts; NotFound if no endpoint."""
    if await conn.fetchval("SELECT 1 FROM webhook_endpoints WHERE id = $1", endpoint_id) is None:
        raise NotFound(f"no webhook {endpoint_id}")
    rows = await conn.fetch(
        "SELECT id, message_id, kind, event_id, state, attempts, last_status, last_error, "
        "next_attempt_at, delivered_at, created_at FROM webhook_deliveries "
        "WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2",
        endpoint_id,
        limit,
    )
    attempts = await conn.fetch(
        "SELECT delivery_id, attempt, started_at, duration_ms, status_code, error "
        "FROM webhook_attempts WHERE delivery_id = ANY($1::bigint[]) "
        "ORDER BY delivery_id, attempt DESC",
        [r["id"] for r in rows],
    )
    by_delivery: dict[int, list[asyncpg.Record]] = {}
    for a in attempts:
        by_delivery.setdefault(a["delivery_id"], []).append(a)
    out = []
    for r in rows:
        shown = by_delivery.get(r["id"], [])[:ATTEMPTS_SHOWN]
        out.append({**dict(r), "attempt_log": [dict(a) for a in reversed(shown)]})
    return out
