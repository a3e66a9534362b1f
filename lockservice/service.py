"""The lock service over HTTP: buyer and operator routes and the live stream."""

from __future__ import annotations

from starlette.routing import BaseRoute

from httpkit.contract import declared
from httpkit.cors import CorsPaths
from lockservice.engine import DEFAULT_HEARTBEAT_S, LockEngine
from lockservice.operations import STREAM
from lockservice.operator import operator_routes
from lockservice.reports_routes import report_routes
from lockservice.routes import buyer_routes
from lockservice.sse import EventStream
from lockservice.webhooks_routes import webhook_routes
from lockservice.webhooks_runner import WebhookRunner
from seatmap.context import ServiceContext

__all__ = ["CORS_PATHS", "DEFAULT_HEARTBEAT_S", "LockService"]

# Public reads (any origin) and the buyer API (SEATMAP_CORS_ORIGINS only); operator routes
# and confirm get no CORS at all. /openapi.json is public in every app (httpkit.compose).
CORS_PATHS = CorsPaths(
    public=(
        "/events/{event_id:int}/stream",
        "/events/{event_id:int}/status.bin",
    ),
    buyer=(
        "/sessions",
        "/events/{event_id:int}/holds",
        "/events/{event_id:int}/holds/{token}",
        "/events/{event_id:int}/holds/{token}/extend",
        "/events/{event_id:int}/best-available",
    ),
)


class LockService(LockEngine):
    """Holds, sales, operator tools and live updates over HTTP."""

    def __init__(self, ctx: ServiceContext, sse_heartbeat_s: float = DEFAULT_HEARTBEAT_S) -> None:
        super().__init__(ctx, sse_heartbeat_s)
        # The stream parses its own path; the int convertor keeps non-digits off it.
        stream = declared(EventStream(ctx, self.hub), STREAM, path="/events/{event_id:int}/stream")
        self.routes: list[BaseRoute] = [
            *buyer_routes(self),
            *operator_routes(self),
            *webhook_routes(ctx),
            *report_routes(self),
            stream,
        ]
        self.webhooks = WebhookRunner(ctx)

    async def startup(self) -> None:
        """Start the engine's background work, then the webhook feed and deliveries."""
        await super().startup()
        self.webhooks.start()

    async def shutdown(self) -> None:
        """Stop the webhook work, then the engine's."""
        await self.webhooks.stop()
        await super().shutdown()
