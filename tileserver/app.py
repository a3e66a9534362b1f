"""The tile server as an ASGI app of its own, so the stateless tile tier scales apart.

`uvicorn --factory tileserver.app:create_app` serves tiles, TileJSON, static
maps, print output and seat lookups (plus /healthz, /readyz, /metrics).
Repeat tile requests whose event has not changed are answered by
`HotTileMiddleware` before routing (see `tileserver.hot`).
"""

from __future__ import annotations

from starlette.applications import Starlette

from httpkit.compose import compose_app
from seatmap.context import ServiceContext
from seatmap.settings import Settings
from tileserver.hot import HotTileMiddleware, HotTiles
from tileserver.service import CORS_PATHS, TileService


def create_app(settings: Settings | None = None, ctx: ServiceContext | None = None) -> Starlette:
    """An app serving only the tile service; connects at startup unless `ctx` is given."""
    hot = HotTiles()

    def factory(live: ServiceContext) -> TileService:
        return TileService(live, hot=hot)

    app = compose_app([factory], settings, ctx, cors=CORS_PATHS)
    # Added last, so outermost of the app's middleware: a hot hit costs one dict lookup.
    app.add_middleware(HotTileMiddleware, hot=hot)
    return app
