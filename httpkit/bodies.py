"""Reading request bodies within a byte limit, and writing JSON replies."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from seatmap.errors import BadRequest, PayloadTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body over {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body over {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, limit: int, required: bool = True) -> dict[str, Any]:
    """The request's JSON object (at most `limit` bytes); {} for an optional empty body."""
    raw = await read_body(request, limit)
    if not raw.strip() and not required:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("body must be a JSON object")
    return value


def json_response(payload: Any, status: int = 200) -> Response:
    """An orjson-encoded JSON response."""
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")
