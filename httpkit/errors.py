"""One place that turns every exception into a JSON error response."""

from __future__ import annotations

import logging

import asyncpg
import orjson
from redis.exceptions import (
    AskError,
    ClusterDownError,
    ClusterError,
    InvalidResponse,
    MasterDownError,
    MovedError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError as RedisOutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from seatmap.errors import RateLimited, SeatmapError, ServiceUnavailable

log = logging.getLogger(__name__)

# PostgreSQL unreachable, shutting down, out of resources, or the connection in a broken
# state (InternalClientError "cannot switch to state ...: another operation is in
# progress" after a connection died mid-query); TransactionRollbackError: serialization
# failures and deadlocks, which a retry resolves. None of them is a bug in the caller.
PG_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.exceptions.PostgresSystemError,
)
# Redis replies that mean "not served here or not now", not "your script is wrong": the
# cluster's redirections and outages, loading, read-only replicas, out of memory.
REDIS_NOT_NOW: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterError,
    ClusterDownError,
    TryAgainError,
    MovedError,
    AskError,
    MasterDownError,
    ReadOnlyError,
    RedisOutOfMemoryError,
    RedisClusterException,
)


# Error replies that describe the server's state, not the command: anything else (a Lua
# error of our own scripts, WRONGTYPE, a bad argument) is a bug and stays a 500.
TRANSIENT_REPLIES = (
    "OOM",
    "BUSY",
    "LOADING",
    "MASTERDOWN",
    "READONLY",
    "TRYAGAIN",
    "CLUSTERDOWN",
    "MOVED",
    "ASK",
    "NOREPLICAS",
    "NOSCRIPT",
)


def is_backend_fault(exc: BaseException) -> bool:
    """Whether `exc` means a backend is unavailable (answer 503, retry) rather than a bug."""
    if isinstance(exc, (*PG_DOWN, *REDIS_NOT_NOW, InvalidResponse, TimeoutError, OSError)):
        return True
    return isinstance(exc, ResponseError) and str(exc).startswith(TRANSIENT_REPLIES)


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
    code = codes.get(exc.status_code, "http_error")
    response = json_error(exc.status_code, code, str(exc.detail))
    if exc.status_code == 405:
        response.headers["Allow"] = allowed_methods(request)
    return response


def allowed_methods(request: Request) -> str:
    """Every method some route of the app serves on the request's path (RFC 9110 Allow)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        route_methods = getattr(route, "methods", None)
        if match is not Match.NONE and route_methods:
            methods.update(route_methods)
    return ", ".join(sorted(methods))


def _unavailable(request: Request, exc: BaseException) -> Response:
    log.warning("backend unavailable on %s: %r", request.url.path, exc)
    return json_error(
        503, "service_unavailable", "a backing service is unavailable; retry", retry_after_s=2
    )


def _bug(request: Request) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return json_error(500, "internal", "internal error")


async def backend_down(request: Request, exc: Exception) -> Response:
    """Redis or PostgreSQL unavailable: 503 with a retry hint; an error of our own: 500."""
    return _unavailable(request, exc) if is_backend_fault(exc) else _bug(request)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Log the bug with its traceback; the client sees no internals (backend faults: 503)."""
    return _unavailable(request, exc) if is_backend_fault(exc) else _bug(request)


def exception_handlers() -> dict[type[BaseException] | int, object]:
    """The handler table every Starlette app of the project installs."""
    handlers: dict[type[BaseException] | int, object] = {
        SeatmapError: seatmap_error,
        HTTPException: http_error,
        RedisError: backend_down,
        RedisClusterException: backend_down,
        OSError: backend_down,
        TimeoutError: backend_down,
        Exception: unexpected_error,
    }
    for exc_type in PG_DOWN:
        handlers[exc_type] = backend_down
    return handlers
