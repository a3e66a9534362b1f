"""Reading request bodies within a byte limit, and writing JSON replies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from httpkit.contract import decode_body
from seatmap.errors import PayloadTooLarge

T = TypeVar("T")
_encoder = msgspec.json.Encoder()


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body over {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body over {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_model(request: Request, model: type[T], limit: int, required: bool = True) -> T:
    """The JSON body (at most `limit` bytes) decoded as `model`; an optional empty body is `{}`."""
    raw = await read_body(request, limit)
    if not raw.strip() and not required:
        raw = b"{}"
    return decode_body(model, raw)


async def json_body(request: Request, limit: int, required: bool = True) -> dict[str, Any]:
    """The request's JSON object (at most `limit` bytes); {} for an optional empty body."""
    return await read_model(request, dict[str, Any], limit, required)


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response of dicts, lists or msgspec Structs."""
    return Response(
        _encoder.encode(payload), status_code=status, media_type="application/json",
        headers=dict(headers) if headers else None,
    )
