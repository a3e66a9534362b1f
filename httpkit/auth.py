"""Operator authentication: the X-API-Key header checked in constant time."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from seatmap.context import ServiceContext
from seatmap.errors import Unauthorized


def require_operator(request: Request, ctx: ServiceContext) -> None:
    """Raise Unauthorized unless the request carries the operator API key."""
    given = request.headers.get("x-api-key", "")
    if not given or not hmac.compare_digest(given.encode(), ctx.settings.api_key.encode()):
        raise Unauthorized("operator API key required in the X-API-Key header")
