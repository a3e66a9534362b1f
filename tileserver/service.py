"""The tile service over HTTP: every raster and vector output of an event.

`TileService(ctx)` implements `httpkit.compose.Service`.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from httpkit.cors import CorsPaths
from seatmap.context import ServiceContext
from tileserver.engine import TileEngine
from tileserver.hot import HotTiles
from tileserver.routes import tile_routes

# Everything the tile service serves is a public read: partners' pages may fetch it.
CORS_PATHS = CorsPaths(public=(
    "/events/{event_id}/tiles/{z}/{x}/{name}",
    "/events/{event_id}/tiles.json",
    "/events/{event_id}/map.{fmt}",
    "/events/{event_id}/seats.bin",
    "/events/{event_id}/seats/at",
    "/events/{event_id}/seats/{seat_index}",
    "/events/{event_id}/sections.json",
    "/events/{event_id}/sections/{section}.json",
    "/events/{event_id}/places.json",
))


class TileService(TileEngine):
    """Every tile-server route plus the state they share (stores, caches, threads)."""

    def __init__(self, ctx: ServiceContext, hot: HotTiles | None = None) -> None:
        super().__init__(ctx, hot)
        self.routes: list[BaseRoute] = tile_routes(self)
