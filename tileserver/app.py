"""The tile server as an ASGI app of its own, so the stateless tile tier scales apart.

`uvicorn --factory tileserver.app:create_app` serves tiles, TileJSON, static
maps, print output and seat lookups (plus /healthz, /readyz, /metrics).
"""

from __future__ import annotations

from starlette.applications import Starlette

from seatmap.app import compose_app
from seatmap.context import ServiceContext
from seatmap.settings import Settings
from tileserver.service import TileService


def create_app(settings: Settings | None = None, ctx: ServiceContext | None = None) -> Starlette:
    """An app serving only the tile service; connects at startup unless `ctx` is given."""
    return compose_app([TileService], settings, ctx)
