"""One place that turns every exception into a JSON error response."""

from __future__ import annotations

import logging

import orjson
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from seatmap.errors import RateLimited, SeatmapError, ServiceUnavailable

log = logging.getLogger(__name__)

try:  # asyncpg's connection errors mean "PostgreSQL unavailable", not a bug.
    from asyncpg.exceptions import (
        ConnectionDoesNotExistError,
        InsufficientResourcesError,
        InterfaceError,
        OperatorInterventionError,
        PostgresConnectionError,
    )

    # OperatorInterventionError: "the database system is starting up / shutting down".
    PG_DOWN: tuple[type[BaseException], ...] = (
        PostgresConnectionError,
        ConnectionDoesNotExistError,
        InterfaceError,
        OperatorInterventionError,
        InsufficientResourcesError,
    )
except ImportError:  # pragma: no cover
    PG_DOWN = ()


def json_error(status: int, code: str, detail: str, **extra: object) -> Response:
    """A JSON error response `{"error": code, "detail": detail, ...}`."""
    body = orjson.dumps({"error": code, "detail": detail, **extra})
    headers = {"Cache-Control": "no-store"}
    retry = extra.get("retry_after_s")
    if isinstance(retry, int):
        headers["Retry-After"] = str(retry)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def seatmap_error(request: Request, exc: Exception) -> Response:
    """Render a SeatmapError with its own status and body."""
    assert isinstance(exc, SeatmapError)
    response = json_error(exc.status_code, exc.code, exc.detail, **exc.extra)
    if isinstance(exc, RateLimited | ServiceUnavailable):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    """Render Starlette's own HTTP errors (404 route, 405 method) as JSON."""
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    return json_error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


async def backend_down(request: Request, exc: Exception) -> Response:
    """Redis or PostgreSQL unreachable: 503 with a retry hint, never a 500."""
    log.warning("backend unavailable on %s: %r", request.url.path, exc)
    return json_error(
        503, "service_unavailable", "a backing service is unavailable; retry", retry_after_s=2
    )


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Log the bug with its traceback; the client sees no internals."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return json_error(500, "internal", "internal error")


def exception_handlers() -> dict[type[BaseException] | int, object]:
    """The handler table every Starlette app of the project installs."""
    handlers: dict[type[BaseException] | int, object] = {
        SeatmapError: seatmap_error,
        HTTPException: http_error,
        RedisError: backend_down,
        ConnectionError: backend_down,
        Exception: unexpected_error,
    }
    for exc_type in PG_DOWN:
        handlers[exc_type] = backend_down
    return handlers
