"""The buyer-facing HTTP API: sessions, holds, best available, confirm, status snapshot.

HTTP only: parse and validate, call `holds`/`sales`, shape JSON. Bodies are read
with a size limit and parsed with orjson; malformed JSON is a 400, a
well-formed request that names unknown seats or breaks a rule is a 422.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockservice import sales
from lockservice.bestavailable import SeatFilter, hold_best_available
from lockservice.errors import UnknownSeats
from lockservice.holdrecord import Hold
from lockservice.ratelimit import client_ip
from lockservice.rules import MAX_SEATS_PER_BUYER, MAX_SEATS_PER_REQUEST, violation
from lockservice.sessions import bearer_token, issue_token, require_buyer, verify_token
from lockservice.sse import status_bin
from seatmap.adminroutes import json_body, json_response, read_body, require_operator
from seatmap.context import EventView
from seatmap.errors import BadRequest, NotFound, Unprocessable

if TYPE_CHECKING:
    from lockservice.service import LockService

MAX_EVENT_ID = 2**63 - 1
MAX_IDEMPOTENCY_KEY_CHARS = 200


def iso_ms(ms: int) -> str:
    """Milliseconds since the epoch as an ISO 8601 UTC time."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def event_view(service: LockService, request: Request) -> EventView:
    """The event named in the path; 404 if there is none."""
    event_id = int(request.path_params["event_id"])
    if event_id > MAX_EVENT_ID:
        raise NotFound(f"event {event_id} does not exist")
    view = await service.ctx.catalog.get(event_id)
    service.events.add(event_id)
    return view


def seat_indices(view: EventView, raw: object, field: str = "seats") -> list[int]:
    """Map a JSON list of seat ids, labels ("112-F-7") or indices to seat indices."""
    if not isinstance(raw, list) or not raw:
        raise BadRequest(f"{field} must be a non-empty list of seat ids or labels", field=field)
    if len(raw) > MAX_SEATS_PER_REQUEST:
        raise Unprocessable(
            f"at most {MAX_SEATS_PER_REQUEST} seats per request",
            field=field,
            limit=MAX_SEATS_PER_REQUEST,
        )
    venue = view.venue
    found: list[int] = []
    unknown: list[str] = []
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise BadRequest(f"{field} must hold strings (seat ids or labels)", field=field)
        if isinstance(item, int):
            index = item if 0 <= item < venue.seat_count else None
        else:
            index = venue.seat_index_of(item) if len(item) <= 200 else None
        if index is None:
            unknown.append(str(item)[:200])
        else:
            found.append(index)
    if unknown:
        raise UnknownSeats(unknown)
    if len(set(found)) != len(found):
        raise Unprocessable("a seat is named twice", field=field)
    return found


def seats_json(view: EventView, seats: list[int] | tuple[int, ...]) -> list[dict[str, Any]]:
    """Seats as `{index, id, label}` objects."""
    ids = view.venue.seats.external_ids
    return [{"index": s, "id": ids[s], "label": view.venue.full_label(s)} for s in seats]


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


def buyer_routes(service: LockService) -> list[BaseRoute]:
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
