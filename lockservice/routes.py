"""The buyer-facing HTTP API: sessions, holds, best available, confirm, status snapshot.

HTTP only: parse and validate, call `holds`/`sales`, shape JSON. Bodies are read
with a size limit and decoded into the types of `lockservice.models`; malformed
JSON or an ill-typed field is a 400, a well-formed request that names unknown
seats or breaks a rule is a 422. Each route declares its operation
(`lockservice.operations`), which is what /openapi.json documents.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from httpkit.auth import require_operator
from httpkit.bodies import json_body, json_response, read_body, read_model
from httpkit.contract import declared, parse_params
from lockservice import operations as ops
from lockservice import sales
from lockservice.bestavailable import SeatFilter, hold_best_available
from lockservice.engine import LockEngine
from lockservice.holdrecord import Hold
from lockservice.httpshapes import (
    event_view,
    hold_token,
    iso_ms,
    release_selection,
    seat_indices,
    seats_json,
)
from lockservice.models import (
    BestAvailableRequest,
    ConfirmHeaders,
    HoldRequest,
    SessionRequest,
)
from lockservice.rules import MAX_SEATS_PER_BUYER, MAX_SEATS_PER_REQUEST, violation
from lockservice.sessions import (
    bearer_token,
    issue_token,
    partner_buyer_id,
    require_buyer,
    verify_token,
)
from lockservice.snapshot import status_bin
from seatmap.context import EventView
from seatmap.errors import Unprocessable


def hold_json(view: EventView, hold: Hold, with_token: bool = True) -> dict[str, Any]:
    """A hold as its owner sees it."""
    out: dict[str, Any] = {"hold_token": hold.token} if with_token else {}
    out.update(
        fencing=hold.fencing,
        state=hold.state,
        seats=seats_json(view, hold.seats),
        created_at=iso_ms(hold.created_ms),
        expires_at=iso_ms(hold.expires_ms),
        max_expires_at=iso_ms(hold.max_expires_ms),
        accessible=hold.accessible,
    )
    return out


def buyer_routes(service: LockEngine) -> list[BaseRoute]:
    """Routes for buyers (Bearer session token) and the public status snapshot."""
    ctx, holds = service.ctx, service.holds
    limit = ctx.settings.max_body_bytes

    def buyer(request: Request) -> str:
        return require_buyer(request, ctx.settings.session_secret, ctx.clock.now_ms()).buyer_id

    async def create_session(request: Request) -> Response:
        body = await read_model(request, SessionRequest, limit, required=False)
        await service.limiter.session_created(request)
        secret, now_ms = ctx.settings.session_secret, ctx.clock.now_ms()
        account = body.partner_account
        buyer_id = (
            partner_buyer_id(secret, ctx.settings.partner_secret, account, now_ms)
            if account is not None
            else None
        )
        token, session = issue_token(secret, now_ms, ctx.settings.session_ttl_s, buyer_id)
        return json_response(
            {
                "token": token,
                "buyer_id": session.buyer_id,
                "expires_at": iso_ms(session.expires_at_s * 1000),
            },
            201,
        )

    async def create_hold(request: Request) -> Response:
        view = await event_view(service, request)
        buyer_id = buyer(request)
        body = await read_model(request, HoldRequest, limit)
        seats = seat_indices(view, body.seats)
        address = service.limiter.address(request)
        budget = service.limiter.hold_budget(view.event.id, buyer_id, address)
        hold = await holds.hold(
            view, buyer_id, seats, body.accessible, budget=budget, address=address
        )
        return json_response(hold_json(view, hold), 201)

    async def get_hold(request: Request) -> Response:
        view = await event_view(service, request)
        hold = await holds.get(view.event.id, buyer(request), hold_token(request))
        return json_response(hold_json(view, hold))

    async def extend_hold(request: Request) -> Response:
        view = await event_view(service, request)
        hold = await holds.extend(view, buyer(request), hold_token(request))
        return json_response(hold_json(view, hold))

    async def release_hold(request: Request) -> Response:
        view = await event_view(service, request)
        buyer_id = buyer(request)
        token = hold_token(request)
        seats = release_selection(view, await read_body(request, limit))
        remaining = await holds.release(view, buyer_id, token, seats)
        if remaining == 0:
            return Response(status_code=204)
        return json_response(hold_json(view, await holds.get(view.event.id, buyer_id, token)))

    async def best_available(request: Request) -> Response:
        view = await event_view(service, request)
        buyer_id = buyer(request)
        await service.limiter.hold_attempt(request, view.event.id, buyer_id)
        body = await read_model(request, BestAvailableRequest, limit)
        seat_filter, count = best_available_request(view, body)
        address = service.limiter.address(request)
        hold = await hold_best_available(holds, view, buyer_id, count, seat_filter, address=address)
        return json_response(hold_json(view, hold), 201)

    async def confirm(request: Request) -> Response:
        require_operator(request, ctx)
        view = await event_view(service, request)
        token = bearer_token(request)
        owner = None
        if token is not None:
            owner = verify_token(ctx.settings.session_secret, token, ctx.clock.now_ms()).buyer_id
        key = parse_params(ConfirmHeaders, request.headers, "header").idempotency_key
        body = await json_body(request, limit, required=False)
        order = await sales.confirm(ctx, holds, view, hold_token(request), key, body, owner)
        payload = {
            "order_id": order.order_id,
            "event_id": order.event_id,
            "buyer_id": order.buyer_id,
            "fencing": order.fencing,
            "seats": seats_json(view, order.seats),
            "total_cents": order.total_cents,
            "created_at": order.created_at.isoformat(),
        }
        return json_response(payload, 200 if order.replayed else 201)

    async def status_snapshot(request: Request) -> Response:
        return await status_bin(service.hub.snapshots, await event_view(service, request), request)

    return [
        declared(create_session, ops.CREATE_SESSION),
        declared(create_hold, ops.CREATE_HOLD),
        declared(get_hold, ops.GET_HOLD),
        declared(release_hold, ops.RELEASE_HOLD),
        declared(extend_hold, ops.EXTEND_HOLD),
        declared(confirm, ops.CONFIRM),
        declared(best_available, ops.BEST_AVAILABLE),
        declared(status_snapshot, ops.STATUS_BIN),
    ]


def best_available_request(view: EventView, body: BestAvailableRequest) -> tuple[SeatFilter, int]:
    """Check a best-available body against the event into a seat filter and a count."""
    count = body.count
    rules = view.event.rules
    if count > min(rules.max_seats_per_buyer, MAX_SEATS_PER_REQUEST):
        raise violation(MAX_SEATS_PER_BUYER, view.venue, rules)
    accessible = body.accessible
    category = _lookup(body.category, "category", view.venue.categories)
    section = _lookup(body.section, "section", view.venue.sections)
    return (
        SeatFilter(
            category=category,
            section=section,
            accessible=accessible,
            restrict_accessible=rules.restrict_accessible,
            no_orphans=rules.no_orphans,
        ),
        count,
    )


def _lookup(raw: str | None, field: str, items: tuple[Any, ...]) -> int | None:
    """Index of a category/section named by external id or name; None when not given."""
    if raw is None:
        return None
    for item in items:
        if raw in (item.external_id, item.name):
            return int(item.index)
    raise Unprocessable(f"unknown {field} {raw[:100]!r}", field=field)
