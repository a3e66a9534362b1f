"""Composing services into one Starlette app with health, readiness and metrics.

`compose_app(factories, ...)` connects on startup (embedded servers when no URLs
are set) unless a ready `ServiceContext` is passed, builds each service from the
context and mounts its routes. The whole app (`seatmap_app.app`) and each
service's own app (`tileserver.app`, `lockservice.app`) are built with it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from httpkit.bodies import json_response
from httpkit.contract import Operation, Reply, declared, json_reply
from httpkit.cors import CorsPaths, PartnerCorsMiddleware
from httpkit.errors import exception_handlers, json_error
from httpkit.middleware import RequestContextMiddleware
from httpkit.openapi import openapi_route
from seatmap.context import ServiceContext
from seatmap.metrics import metrics_endpoint
from seatmap.runtime import SchemaPolicy, open_context
from seatmap.settings import Settings, load_settings


class Service(Protocol):
    """What a mounted service offers the composition root."""

    routes: list[BaseRoute]

    async def startup(self) -> None:
        """Start background work (followers, sweepers)."""
        ...

    async def shutdown(self) -> None:
        """Stop background work and close streams cleanly."""
        ...


ServiceFactory = Callable[[ServiceContext], Service]


class Status(msgspec.Struct):
    """A health answer."""

    status: str


HEALTHZ = Operation(
    "GET", "/healthz", "The process is up.", "operations", {200: json_reply(Status)}
)
READYZ = Operation(
    "GET", "/readyz", "PostgreSQL and Redis are reachable.", "operations",
    {200: json_reply(Status)}, (503,),
)
METRICS = Operation(
    "GET", "/metrics", "Prometheus metrics.", "operations",
    {200: Reply("Prometheus text format.", media=("text/plain",))}, (503,),
)


def _health_routes(ctx_ref: dict[str, ServiceContext]) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        return json_response(Status("ok"))

    async def readyz(request: Request) -> Response:
        ctx = ctx_ref.get("ctx")
        if ctx is None:
            return json_error(503, "not_ready", "starting up", retry_after_s=1)
        problems: dict[str, str] = {}
        try:
            async with ctx.pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1")
        except Exception as exc:  # any failure means "not ready"
            problems["postgres"] = type(exc).__name__
        try:
            await ctx.redis.ping()
        except Exception as exc:
            problems["redis"] = type(exc).__name__
        if problems:
            return json_error(503, "not_ready", "backing services unreachable", **problems)
        return json_response(Status("ready"))

    async def metrics(request: Request) -> Response:
        ctx = ctx_ref.get("ctx")
        if ctx is None:
            return json_error(503, "not_ready", "starting up", retry_after_s=1)
        endpoint = metrics_endpoint(ctx.metrics)
        return await endpoint(request)  # type: ignore[operator, no-any-return]

    return [
        declared(healthz, HEALTHZ),
        declared(readyz, READYZ),
        declared(metrics, METRICS),
        openapi_route(),
    ]


def compose_app(
    factories: list[ServiceFactory],
    settings: Settings | None = None,
    ctx: ServiceContext | None = None,
    extra_routes: Callable[[ServiceContext], list[BaseRoute]] | None = None,
    cors: CorsPaths | None = None,
) -> Starlette:
    """An app serving the given services; connects at startup unless `ctx` is given.

    `cors` names the public-read and buyer-API paths of the services; the
    origins allowed to use the buyer API and the trusted proxies come from the
    settings (those of `ctx` when given).
    """
    if ctx is not None:
        settings = ctx.settings
    elif settings is None:
        settings = load_settings()
    ctx_ref: dict[str, ServiceContext] = {}
    services: list[Service] = []
    app_routes: list[BaseRoute] = _health_routes(ctx_ref)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            live = ctx
            if live is None:
                policy: SchemaPolicy = "migrate" if settings.migrate_on_start else "check"
                live = await stack.enter_async_context(open_context(settings, schema=policy))
            ctx_ref["ctx"] = live
            app.state.ctx = live
            for factory in factories:
                service = factory(live)
                services.append(service)
                app.router.routes.extend(service.routes)
            if extra_routes is not None:
                app.router.routes.extend(extra_routes(live))
            for service in services:
                await service.startup()
            # What exists now (modules, models, scripts) lives as long as the process: keep
            # it out of the collector's full passes, which would otherwise stall the event
            # loop for a long moment when a burst of requests (a reconnect storm) allocates.
            gc.freeze()
            try:
                yield
            finally:
                for service in reversed(services):
                    await service.shutdown()

    app = Starlette(
        routes=app_routes,
        lifespan=lifespan,
        exception_handlers=exception_handlers(),  # type: ignore[arg-type]
    )
    # Added first, so it sits inside the request context: preflights are logged and counted.
    paths = CorsPaths(public=("/openapi.json",)) + (cors or CorsPaths())
    app.add_middleware(PartnerCorsMiddleware, paths=paths,
                       buyer_origins=settings.cors_origins,
                       trusted_proxies=settings.trusted_proxies)
    app.add_middleware(RequestContextMiddleware, ctx_ref=ctx_ref)
    return app


