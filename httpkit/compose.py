"""Composing services into one Starlette app with health, readiness and metrics.

`compose_app(factories, ...)` connects on startup (embedded servers when no URLs
are set) unless a ready `ServiceContext` is passed, builds each service from the
context and mounts its routes. The whole app (`seatmap_app.app`) and each
service's own app (`tileserver.app`, `lockservice.app`) are built with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from httpkit.errors import exception_handlers, json_error
from httpkit.middleware import RequestContextMiddleware
from seatmap.context import ServiceContext
from seatmap.metrics import metrics_endpoint
from seatmap.runtime import open_context
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


def _health_routes(ctx_ref: dict[str, ServiceContext]) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

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
        return JSONResponse({"status": "ready"})

    async def metrics(request: Request) -> Response:
        ctx = ctx_ref.get("ctx")
        if ctx is None:
            return json_error(503, "not_ready", "starting up", retry_after_s=1)
        endpoint = metrics_endpoint(ctx.metrics)
        return await endpoint(request)  # type: ignore[operator, no-any-return]

    return [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]


def compose_app(
    factories: list[ServiceFactory],
    settings: Settings | None = None,
    ctx: ServiceContext | None = None,
    extra_routes: Callable[[ServiceContext], list[BaseRoute]] | None = None,
) -> Starlette:
    """An app serving the given services; connects at startup unless `ctx` is given."""
    ctx_ref: dict[str, ServiceContext] = {}
    services: list[Service] = []
    app_routes: list[BaseRoute] = _health_routes(ctx_ref)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            live = ctx
            if live is None:
                live = await stack.enter_async_context(open_context(settings or load_settings()))
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
    app.add_middleware(RequestContextMiddleware, ctx_ref=ctx_ref)
    return app


