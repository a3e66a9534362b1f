"""The roof's app (every service) started in the test's event loop, behind an httpx client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette

from seatmap.context import ServiceContext
from seatmap_app.app import create_app


@contextlib.asynccontextmanager
async def whole_app(ctx: ServiceContext) -> AsyncIterator[tuple[httpx.AsyncClient, Starlette]]:
    """A client of the whole app on the run's backends, and the app itself."""
    app = create_app(ctx=ctx)
    transport = httpx.ASGITransport(app=app, client=("10.9.1.1", 40000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as client,
    ):
        yield client, app


async def openapi_of(ctx: ServiceContext) -> dict[str, Any]:
    """The whole app's generated /openapi.json."""
    async with whole_app(ctx) as (client, _):
        document: dict[str, Any] = (await client.get("/openapi.json")).json()
        return document
