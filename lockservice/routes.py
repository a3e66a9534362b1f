"""The buyer-facing HTTP API: sessions, holds, best available, confirm, status snapshot.

HTTP only: parse and validate, call `holds`/`sales`, shape JSON. Bodies are read
with a size limit and parsed with orjson; malformed JSON is a 400, a
well-formed request that names unknown seats or breaks a rule is a 422.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from httpkit.auth import require_operator
from httpkit.bodies import json_body, json_response, read_body
from lockservice import sales
from lockservice.bestavailable import SeatFilter, hold_best_available
from lockservice.engine import LockEngine
from lockservice.holdrecord import Hold
from lockservice.httpshapes import event_view, iso_ms, seat_indices, seats_json
from lockservice.ratelimit import client_ip
from lockservice.rules import MAX_SEATS_PER_BUYER, MAX_SEATS_PER_REQUEST, violation
from lockservice.sessions import bearer_token, issue_token, require_buyer, verify_token
from lockservice.sse import status_bin
from seatmap.context import EventView
from seatmap.errors import BadRequest, Unprocessable

MAX_IDEMPOTENCY_KEY_CHARS = 200


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
        await read_body(request, limit)  # the body is unused, but never unbounded
        await service.limiter.session_created(request)
        token, session = issue_token(
            ctx.settings.session_secret, ctx.clock.now_ms(), ctx.settings.session_ttl_s
        )
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
        body = await json_body(request, limit)
        accessible = body.get("accessible", False)
        if not isinstance(accessible, bool):
            raise BadRequest("accessible must be true or false", field="accessible")
        seats = seat_indices(view, body.get("seats"))
        budget = service.limiter.hold_budget(view.event.id, buyer_id, client_ip(request))
        hold = await holds.hold(view, buyer_id, seats, accessible, budget=budget)
        return json_response(hold_json(view, hold), 201)

    async def get_hold(request: Request) -> Response:
        view = await event_view(service, request)
        hold = await holds.get(view.event.id, buyer(request), request.path_params["token"])
        return json_response(hold_json(view, hold))

    async def extend_hold(request: Request) -> Response:
        view = await event_view(service, request)
        hold = await holds.extend(view, buyer(request), request.path_params["token"])
        return json_response(hold_json(view, hold))

    async def release_hold(request: Request) -> Response:
        view = await event_view(service, request)
        buyer_id = buyer(request)
        token = request.path_params["token"]
        body = await json_body(request, limit, required=False)
        seats = seat_indices(view, body["seats"]) if "seats" in body else None
        remaining = await holds.release(view, buyer_id, token, seats)
        if remaining == 0:
            return Response(status_code=204)
        return json_response(hold_json(view, await holds.get(view.event.id, buyer_id, token)))

    async def best_available(request: Request) -> Response:
        view = await event_view(service, request)
        buyer_id = buyer(request)
        await service.limiter.hold_attempt(request, view.event.id, buyer_id)
        body = await json_body(request, limit)
        seat_filter, count = best_available_request(view, body)
        hold = await hold_best_available(holds, view, buyer_id, count, seat_filter)
        return json_response(hold_json(view, hold), 201)

    async def confirm(request: Request) -> Response:
        require_operator(request, ctx)
        view = await event_view(service, request)
        token = bearer_token(request)
        owner = None
        if token is not None:
            owner = verify_token(ctx.settings.session_secret, token, ctx.clock.now_ms()).buyer_id
        key = request.headers.get("idempotency-key", "")
        if not key or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isprintable():
            raise BadRequest(
                f"an Idempotency-Key header of 1..{MAX_IDEMPOTENCY_KEY_CHARS} printable "
                "characters is required",
                field="Idempotency-Key",
            )
        body = await json_body(request, limit, required=False)
        order = await sales.confirm(
            ctx, holds, view, request.path_params["token"], key, body, owner
        )
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
        return await status_bin(ctx, await event_view(service, request), request)

    base = "/events/{event_id:int}"
    return [
        Route("/sessions", create_session, methods=["POST"]),
        Route(f"{base}/holds", create_hold, methods=["POST"]),
        Route(f"{base}/holds/{{token}}", get_hold, methods=["GET"]),
        Route(f"{base}/holds/{{token}}", release_hold, methods=["DELETE"]),
        Route(f"{base}/holds/{{token}}/extend", extend_hold, methods=["POST"]),
        Route(f"{base}/holds/{{token}}/confirm", confirm, methods=["POST"]),
        Route(f"{base}/best-available", best_available, methods=["POST"]),
        Route(f"{base}/status.bin", status_snapshot, methods=["GET"]),
    ]


def best_available_request(view: EventView, body: dict[str, Any]) -> tuple[SeatFilter, int]:
    """Validate a best-available body into a seat filter and a count."""
    count = body.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise BadRequest("count must be a positive integer", field="count")
    rules = view.event.rules
    if count > min(rules.max_seats_per_buyer, MAX_SEATS_PER_REQUEST):
        raise violation(MAX_SEATS_PER_BUYER, view.venue, rules)
    accessible = body.get("accessible", False)
    if not isinstance(accessible, bool):
        raise BadRequest("accessible must be true or false", field="accessible")
    category = _lookup(body.get("category"), "category", view.venue.categories)
    section = _lookup(body.get("section"), "section", view.venue.sections)
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


def _lookup(raw: object, field: str, items: tuple[Any, ...]) -> int | None:
    """Index of a category/section named by external id or name; None when not given."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadRequest(f"{field} must be a string (id or name)", field=field)
    for item in items:
        if raw in (item.external_id, item.name):
            return int(item.index)
    raise Unprocessable(f"unknown {field} {raw[:100]!r}", field=field)
