"""The server process of `benchmarks/holds.py`: the lock service plus a baseline.

The baseline, `POST /baseline/events/{event_id}/holds`, takes the same request
through the same front half (buyer token, JSON body, seat lookup) and then
holds the seats with PostgreSQL row locks: in one transaction it locks the
buyer's row and the requested seats with their neighbours (SELECT ... FOR
UPDATE, in index order so transactions never deadlock), checks the same rules
(taken, per-buyer maximum, no orphan seat), and writes the hold.

Run by the benchmark with SEATMAP_* variables set; not meant to be started by hand.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from httpkit.bodies import json_body, json_response
from httpkit.compose import compose_app
from lockservice.errors import HoldConflict
from lockservice.routes import seat_indices
from lockservice.rules import hold_args, violation
from lockservice.service import LockService
from lockservice.sessions import require_buyer
from seatmap.context import ServiceContext
from seatmap.settings import load_settings

BASELINE_SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_seats (
    event_id bigint, seat_index int, status smallint NOT NULL DEFAULT 0, hold_id bigint,
    PRIMARY KEY (event_id, seat_index));
CREATE TABLE IF NOT EXISTS bench_buyers (
    event_id bigint, buyer_id text, seats int NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, buyer_id));
CREATE TABLE IF NOT EXISTS bench_holds (
    id bigserial PRIMARY KEY, event_id bigint, token text, buyer_id text, seats int[],
    expires_at timestamptz);
"""


def baseline_routes(ctx: ServiceContext) -> list[BaseRoute]:
    """The row-lock hold endpoint."""

    async def hold(request: Request) -> Response:
        view = await ctx.catalog.get(int(request.path_params["event_id"]))
        now_ms = ctx.clock.now_ms()
        buyer = require_buyer(request, ctx.settings.session_secret, now_ms).buyer_id
        body = await json_body(request, ctx.settings.max_body_bytes)
        seats = seat_indices(view, body.get("seats"))
        rules, venue, event_id = view.event.rules, view.venue, view.event.id
        args = hold_args(venue, seats)
        groups = [args[i : i + 6] for i in range(0, len(args), 6)]
        if rules.restrict_accessible and not body.get("accessible") and any(g[5] for g in groups):
            raise violation("accessible_only", venue, rules, seats)
        locked = sorted({x for g in groups for x in g[:5] if x >= 0})
        chosen = set(seats)
        async with ctx.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO bench_buyers VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
                event_id,
                buyer,
            )
            have = await conn.fetchval(
                "SELECT seats FROM bench_buyers WHERE event_id = $1 AND buyer_id = $2 FOR UPDATE",
                event_id,
                buyer,
            )
            rows = await conn.fetch(
                "SELECT seat_index, status FROM bench_seats WHERE event_id = $1 "
                "AND seat_index = ANY($2::int[]) ORDER BY seat_index FOR UPDATE",
                event_id,
                locked,
            )
            status = {r[0]: r[1] for r in rows}
            taken = [s for s in seats if status[s] != 0]
            if taken:
                raise HoldConflict([venue.full_label(s) for s in taken])
            if have + len(seats) > rules.max_seats_per_buyer:
                raise violation("max_seats_per_buyer", venue, rules, held_already=have)

            def free(i: int) -> bool:
                return i >= 0 and i not in chosen and status[i] == 0

            orphans = [
                g[o] for g in groups for o, t in ((1, 2), (3, 4)) if free(g[o]) and not free(g[t])
            ]
            if orphans and rules.no_orphans:
                raise violation("orphan_seat", venue, rules, orphans)
            token = secrets.token_urlsafe(24)
            hold_id = await conn.fetchval(
                "INSERT INTO bench_holds (event_id, token, buyer_id, seats, expires_at) "
                "VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING id",
                event_id,
                token,
                buyer,
                seats,
                float(rules.hold_ttl_s),
            )
            await conn.execute(
                "UPDATE bench_seats SET status = 1, hold_id = $3 WHERE event_id = $1 "
                "AND seat_index = ANY($2::int[])",
                event_id,
                seats,
                hold_id,
            )
            await conn.execute(
                "UPDATE bench_buyers SET seats = seats + $3 WHERE event_id = $1 AND buyer_id = $2",
                event_id,
                buyer,
                len(seats),
            )
        return json_response({"hold_token": token, "fencing": hold_id, "seats": seats}, 201)

    return [Route("/baseline/events/{event_id:int}/holds", hold, methods=["POST"])]


def create_bench_app() -> Starlette:
    """The lock service plus the baseline route, configured from SEATMAP_* variables."""
    return compose_app([LockService], load_settings(), extra_routes=baseline_routes)


def main() -> None:
    """Serve on SEATMAP_PORT with SEATMAP_WORKERS uvicorn workers."""
    uvicorn.run(
        "holds_server:create_bench_app",
        factory=True,
        app_dir=str(Path(__file__).resolve().parent),
        host="127.0.0.1",
        port=int(os.environ["SEATMAP_PORT"]),
        workers=int(os.environ.get("SEATMAP_WORKERS", "1")),
        log_level="warning",
        backlog=4096,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
