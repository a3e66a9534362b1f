"""The lock service over HTTP: buyer and operator routes, the live stream, the contract."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockservice.engine import DEFAULT_HEARTBEAT_S, LockEngine
from lockservice.openapi import openapi_json
from lockservice.operator import operator_routes
from lockservice.routes import buyer_routes
from lockservice.sse import EventStream
from seatmap.context import ServiceContext

__all__ = ["DEFAULT_HEARTBEAT_S", "LockService"]


class LockService(LockEngine):
    """Holds, sales, operator tools and live updates over HTTP."""

    def __init__(self, ctx: ServiceContext, sse_heartbeat_s: float = DEFAULT_HEARTBEAT_S) -> None:
        super().__init__(ctx, sse_heartbeat_s)

        async def openapi(request: Request) -> Response:
            return Response(openapi_json(), media_type="application/json")

        self.routes: list[BaseRoute] = [
            *buyer_routes(self),
            *operator_routes(self),
            Route("/events/{event_id:int}/stream", EventStream(ctx, self.hub), methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ]
