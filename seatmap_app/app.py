"""The composition root: one Starlette app mounting the tile server and lock service.

`create_app(settings)` connects on startup (embedded servers when no URLs are
set). Tests and benchmarks pass a ready `ServiceContext` instead. Each service
is also an ASGI app of its own (`tileserver.app`, `lockservice.app`) so the
stateless tile tier and the write path scale separately.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from httpkit.compose import Service, compose_app
from lockservice.service import CORS_PATHS as LOCK_CORS_PATHS
from lockservice.service import LockService
from seatmap.context import ServiceContext
from seatmap.logs import configure_logging
from seatmap.settings import Settings, load_settings
from seatmap_app.adminroutes import admin_routes
from seatmap_app.viewerroutes import viewer_routes
from tileserver.hot import HotTileMiddleware, HotTiles
from tileserver.service import CORS_PATHS as TILE_CORS_PATHS
from tileserver.service import TileService


def _viewer_routes(ctx: ServiceContext) -> list[BaseRoute]:
    async def root(request: Request) -> Response:
        return RedirectResponse("/viewer/")

    return [Route("/", root), *admin_routes(ctx), *viewer_routes(ctx)]


def create_app(settings: Settings | None = None, ctx: ServiceContext | None = None) -> Starlette:
    """The whole seatmap app: tiles, holds and sales, live updates, viewer, health."""
    if ctx is None:
        settings = settings or load_settings()
        configure_logging(settings.log_json, settings.access_log)
    hot = HotTiles()

    def tiles(live: ServiceContext) -> Service:
        return TileService(live, hot=hot)

    app = compose_app([tiles, LockService], settings, ctx, extra_routes=_viewer_routes,
                      cors=TILE_CORS_PATHS + LOCK_CORS_PATHS)
    # Added last, so outermost: repeat tile requests of an unchanged event skip routing.
    app.add_middleware(HotTileMiddleware, hot=hot)
    return app
