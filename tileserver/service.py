"""The tile service over HTTP: every raster and vector output of an event.

`TileService(ctx)` implements `httpkit.compose.Service`.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from seatmap.context import ServiceContext
from tileserver.engine import TileEngine
from tileserver.hot import HotTiles
from tileserver.routes import tile_routes


class TileService(TileEngine):
    """Every tile-server route plus the state they share (stores, caches, threads)."""

    def __init__(self, ctx: ServiceContext, hot: HotTiles | None = None) -> None:
        super().__init__(ctx, hot)
        self.routes: list[BaseRoute] = tile_routes(self)
