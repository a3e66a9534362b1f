"""Every PostgreSQL and Redis driver fault is answered 503 + Retry-After; our own bugs are 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

import asyncpg
import httpx
import pytest
from redis.exceptions import (
    AskError,
    ClusterDownError,
    DataError,
    MaxConnectionsError,
    MovedError,
    RedisClusterException,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from httpkit.errors import exception_handlers, is_backend_fault

DRIVER_FAULTS: list[Callable[[], BaseException]] = [
    lambda: asyncpg.InternalClientError(
        "cannot switch to state 15; another operation (2) is in progress"
    ),
    lambda: asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    lambda: asyncpg.InterfaceError("pool is closing"),
    lambda: asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
    lambda: asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    lambda: asyncpg.exceptions.TooManyConnectionsError("too many clients"),
    lambda: asyncpg.exceptions.SerializationError("could not serialize access"),
    lambda: ConnectionRefusedError(111, "Connection refused"),
    lambda: TimeoutError(),
    lambda: RedisConnectionError("Error 111 connecting"),
    lambda: RedisTimeoutError("Timeout reading from socket"),
    lambda: MaxConnectionsError("Too many connections"),
    lambda: ClusterDownError("CLUSTERDOWN The cluster is down"),
    lambda: TryAgainError("TRYAGAIN"),
    lambda: MovedError("3999 127.0.0.1:6381"),
    lambda: AskError("3999 127.0.0.1:6381"),
    lambda: RedisClusterException("Redis Cluster cannot be connected"),
    lambda: ResponseError("OOM command not allowed when used memory > 'maxmemory'"),
]


def failing_app(exc: BaseException) -> Starlette:
    """An app whose one route raises `exc`, with the project's handler table."""

    async def fail(request: Request) -> Response:
        raise exc

    return Starlette(routes=[Route("/", fail)], exception_handlers=exception_handlers())  # type: ignore[arg-type]


async def answer(exc: BaseException) -> httpx.Response:
    """What a client gets from a route that raised `exc`."""
    transport = httpx.ASGITransport(app=failing_app(exc), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/")


@pytest.mark.parametrize("make", DRIVER_FAULTS, ids=lambda m: type(m()).__name__)
async def test_driver_fault_is_503_with_retry_after(
    make: Callable[[], BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    exc = make()
    assert is_backend_fault(exc)
    with caplog.at_level(logging.WARNING, logger="httpkit.errors"):
        reply = await answer(exc)
    assert reply.status_code == 503
    assert int(reply.headers["retry-after"]) >= 1
    assert reply.json()["error"] == "service_unavailable"
    assert not [r for r in caplog.records if "unhandled error" in r.getMessage()]


async def test_an_error_raised_by_our_own_lua_script_is_a_500_bug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exc = ResponseError("Error running script (call to f_1): @user_script:12: attempt to compare")
    assert not is_backend_fault(exc)
    with caplog.at_level(logging.ERROR, logger="httpkit.errors"):
        reply = await answer(exc)
    assert reply.status_code == 500 and reply.json() == {
        "error": "internal",
        "detail": "internal error",
    }
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


async def test_a_plain_bug_stays_a_500() -> None:
    assert not is_backend_fault(KeyError("x"))
    assert (await answer(KeyError("x"))).status_code == 500


async def test_a_wrongtype_reply_or_a_bad_argument_is_a_bug_not_an_outage() -> None:
    for exc in (ResponseError("WRONGTYPE Operation against a key"), DataError("Invalid input")):
        assert not is_backend_fault(exc)
        assert (await answer(exc)).status_code == 500
