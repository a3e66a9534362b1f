"""The lock service as an ASGI app of its own (the write path scales apart from tiles).

uvicorn --factory lockservice.app:create_app
"""

from __future__ import annotations

import functools

from starlette.applications import Starlette

from httpkit.compose import compose_app
from lockservice.service import CORS_PATHS, DEFAULT_HEARTBEAT_S, LockService
from seatmap.context import ServiceContext
from seatmap.logs import configure_logging
from seatmap.settings import Settings, load_settings


def create_app(
    settings: Settings | None = None,
    ctx: ServiceContext | None = None,
    sse_heartbeat_s: float = DEFAULT_HEARTBEAT_S,
) -> Starlette:
    """An app serving only the lock service (plus /healthz, /readyz, /metrics)."""
    if ctx is None:
        settings = settings or load_settings()
        configure_logging(settings.log_json, settings.access_log)
    factory = functools.partial(LockService, sse_heartbeat_s=sse_heartbeat_s)
    return compose_app([factory], settings, ctx, cors=CORS_PATHS)
