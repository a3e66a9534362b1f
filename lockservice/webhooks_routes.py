"""Operator routes (X-API-Key) to register, list and remove webhook endpoints and to see
their deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from httpkit.auth import require_operator
from httpkit.bodies import json_response, read_model
from httpkit.contract import declared, parse_params
from lockservice.pgcalls import bounded
from lockservice.webhooks_models import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    LIST_DELIVERIES,
    LIST_WEBHOOKS,
    Webhook,
    WebhookCreated,
    WebhookDeliveriesQuery,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookList,
    WebhookPath,
    WebhookRequest,
)
from lockservice.webhooks_store import (
    create_endpoint,
    delete_endpoint,
    deliveries_of,
    list_endpoints,
)
from seatmap.context import ServiceContext
from seatmap.errors import Unprocessable


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _webhook(row: Any) -> Webhook:
    return Webhook(row["id"], row["url"], list(row["kinds"]), row["event_id"],
                   _iso(row["created_at"]) or "")


def _delivery(row: dict[str, Any]) -> WebhookDelivery:
    fields = {**row, "attempt_log": [
        {**a, "started_at": _iso(a["started_at"])} for a in row["attempt_log"]
    ]}
    for name in ("next_attempt_at", "delivered_at", "created_at"):
        fields[name] = _iso(row[name])
    if row["state"] != "pending":
        fields["next_attempt_at"] = None
    return msgspec.convert(fields, WebhookDelivery)


def _checked_url(url: str) -> str:
    """The URL if it names an http(s) host (and a port that can exist); a 422 naming `url`
    otherwise."""
    try:
        parsed = httpx.URL(url)
        host, port = parsed.host, parsed.port
    except (httpx.InvalidURL, ValueError):  # a bad IDNA host is a UnicodeError
        host, port = "", None
    if not host or (port is not None and not 0 < port < 65536):
        raise Unprocessable("url must name a host (port 1-65535), like https://hooks.example/a",
                            field="url")
    return url


def webhook_routes(ctx: ServiceContext) -> list[BaseRoute]:
    """Routes for operators: register, list and remove endpoints; list deliveries."""

    async def create(request: Request) -> Response:
        require_operator(request, ctx)
        body = await read_model(request, WebhookRequest, ctx.settings.max_body_bytes)
        url = _checked_url(body.url)

        async def run() -> tuple[Any, str]:
            async with ctx.pool.acquire() as conn:
                return await create_endpoint(conn, url, body.events, body.event_id)

        row, secret = await bounded(run)
        made = _webhook(row)
        reply = WebhookCreated(made.id, made.url, made.events, made.event_id, made.created_at,
                               secret)
        return json_response(reply, status=201, headers={"Cache-Control": "no-store"})

    async def list_all(request: Request) -> Response:
        require_operator(request, ctx)

        async def run() -> list[Any]:
            async with ctx.pool.acquire() as conn:
                return await list_endpoints(conn)

        rows = await bounded(run, retry=True)
        return json_response(WebhookList([_webhook(r) for r in rows]))

    async def remove(request: Request) -> Response:
        require_operator(request, ctx)
        webhook_id = parse_params(WebhookPath, request.path_params).webhook_id

        async def run() -> None:
            async with ctx.pool.acquire() as conn:
                await delete_endpoint(conn, webhook_id)

        await bounded(run)
        return Response(status_code=204)

    async def deliveries(request: Request) -> Response:
        require_operator(request, ctx)
        webhook_id = parse_params(WebhookPath, request.path_params).webhook_id
        limit = parse_params(WebhookDeliveriesQuery, request.query_params, "query").limit

        async def run() -> list[dict[str, Any]]:
            async with ctx.pool.acquire() as conn:
                return await deliveries_of(conn, webhook_id, limit)

        rows = await bounded(run, retry=True)
        return json_response(WebhookDeliveryList([_delivery(r) for r in rows]))

    return [
        declared(create, CREATE_WEBHOOK),
        declared(list_all, LIST_WEBHOOKS),
        declared(remove, DELETE_WEBHOOK),
        declared(deliveries, LIST_DELIVERIES),
    ]
