"""Operator endpoints (X-API-Key): block and unblock seats, list holds, event stats.

Blocks are durable: PostgreSQL's `blocked_seats` is written and committed first,
then Redis. If Redis refuses (a seat is held or sold), the rows just added are
removed again. The reconciler repairs any step lost in between.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from httpkit.auth import require_operator
from httpkit.bodies import json_response, read_model
from httpkit.contract import declared, parse_params
from lockservice import operations as ops
from lockservice.engine import LockEngine
from lockservice.errors import HoldConflict
from lockservice.httpshapes import event_view, iso_ms, seat_indices, seats_json
from lockservice.models import HoldsQuery, SeatsRequest
from seatmap.context import EventView
from seatmap.status import STATUS_NAMES


def _counts(
    status: np.ndarray[Any, Any], groups: np.ndarray[Any, Any], n: int
) -> list[dict[str, int]]:
    """Seat counts per status name for each of `n` groups."""
    codes = len(STATUS_NAMES)
    table = np.bincount(groups * codes + status, minlength=n * codes).reshape(n, codes)
    return [{STATUS_NAMES[c]: int(row[c]) for c in range(codes)} for row in table]


def operator_routes(service: LockEngine) -> list[BaseRoute]:
    """Routes for operators: block, unblock, holds list, stats."""
    ctx, holds = service.ctx, service.holds

    async def set_blocked(request: Request, block: bool) -> Response:
        require_operator(request, ctx)
        view = await event_view(service, request)
        body = await read_model(request, SeatsRequest, ctx.settings.max_body_bytes)
        seats = seat_indices(view, body.seats)
        event_id = view.event.id
        added: list[Any] = []
        async with ctx.pool.acquire() as conn:
            if block:
                added = await conn.fetch(
                    "INSERT INTO blocked_seats (event_id, seat_index) "
                    "SELECT $1, unnest($2::int[]) ON CONFLICT DO NOTHING RETURNING seat_index",
                    event_id,
                    seats,
                )
            else:
                await conn.execute(
                    "DELETE FROM blocked_seats WHERE event_id = $1 AND seat_index = ANY($2)",
                    event_id,
                    seats,
                )
            try:
                changed = await holds.set_blocked(view, seats, block)
            except HoldConflict:
                await conn.execute(
                    "DELETE FROM blocked_seats WHERE event_id = $1 AND seat_index = ANY($2)",
                    event_id,
                    [r[0] for r in added],
                )
                raise
        return json_response({"changed": changed, "seats": seats_json(view, seats)})

    async def block(request: Request) -> Response:
        return await set_blocked(request, True)

    async def unblock(request: Request) -> Response:
        return await set_blocked(request, False)

    async def list_holds(request: Request) -> Response:
        require_operator(request, ctx)
        view = await event_view(service, request)
        limit = parse_params(HoldsQuery, request.query_params, "query").limit
        return json_response({"holds": await _holds(service, view, limit)})

    async def stats(request: Request) -> Response:
        require_operator(request, ctx)
        view = await event_view(service, request)
        venue = view.venue
        status = (await holds.statuses(view.event.id))[: venue.seat_count].astype(np.int64)
        status = np.clip(status, 0, len(STATUS_NAMES) - 1)
        by_section = _counts(status, venue.seats.section.astype(np.int64), len(venue.sections))
        by_category = _counts(status, venue.seats.category.astype(np.int64), len(venue.categories))
        async with ctx.pool.acquire() as conn:
            orders, revenue = await conn.fetchrow(
                "SELECT count(*), coalesce(sum(total_cents), 0) FROM orders WHERE event_id = $1",
                view.event.id,
            )
        active = await ctx.redis.zcard(holds.keys(view.event.id).expiry)
        return json_response(
            {
                "event_id": view.event.id,
                "seat_count": venue.seat_count,
                "by_status": _counts(status, np.zeros_like(status), 1)[0],
                "by_section": [
                    {"index": s.index, "name": s.name, "counts": by_section[s.index]}
                    for s in venue.sections
                ],
                "by_category": [
                    {"index": c.index, "name": c.name, "counts": by_category[c.index]}
                    for c in venue.categories
                ],
                "active_holds": int(active),
                "orders": int(orders),
                "revenue_cents": int(revenue),
            }
        )

    return [
        declared(block, ops.BLOCK),
        declared(unblock, ops.UNBLOCK),
        declared(list_holds, ops.LIST_HOLDS),
        declared(stats, ops.STATS),
    ]


async def _holds(service: LockEngine, view: EventView, limit: int) -> list[dict[str, Any]]:
    """Active holds, soonest expiry first; tokens stay secret (holds are named by fencing)."""
    keys = service.holds.keys(view.event.id)
    redis = service.ctx.redis
    tokens: Any = await redis.zrange(keys.expiry, 0, limit - 1)
    async with redis.pipeline(transaction=False) as pipe:
        for token in tokens:
            pipe.hgetall(keys.hold(token.decode()))
        records = await pipe.execute()
    out: list[dict[str, Any]] = []
    for raw in records:
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        if not fields:
            continue
        seats = [int(s) for s in fields["seats"].split(",") if s]
        out.append(
            {
                "fencing": int(fields["fencing"]),
                "buyer_id": fields["buyer"],
                "state": fields["state"],
                "seats": seats_json(view, seats),
                "created_at": iso_ms(int(fields["created_ms"])),
                "expires_at": iso_ms(int(fields["expires_ms"])),
            }
        )
    return out
