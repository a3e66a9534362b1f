"""Fixtures of the lock-service tests: events, buyers, a fake clock, in-process and live apps.

Every test makes its own event (a small `grid_venue`), so tests never share seats.
Fake clocks start days ahead of the wall clock: the sweepers of other app
instances in this run (which use real time) never find those holds due.
Every test here runs twice: against single Redis and against a Redis Cluster
(`-m cluster` selects the second; `-m "not cluster"` the first).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from lockservice.adminscripts import register_scripts
from lockservice.app import create_app
from lockservice.holds import Holds
from lockservice.reconcile import ensure_event_state
from lockservice.sessions import issue_token
from seatmap.context import EventView, ServiceContext
from seatmap.events import EventRules
from seatmap.settings import Settings
from tests.conftest import API_KEY_HEADER, LiveServer, parametrize_redis
from tests.venues import grid_venue, store_event

DAY_MS = 86_400_000


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every lock-service test against single Redis and against a Redis Cluster."""
    parametrize_redis(metafunc)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start_ms: int) -> None:
        self.ms = start_ms

    def now_ms(self) -> int:
        """The current fake time in ms."""
        return self.ms

    def pinned_ms(self) -> int:
        """Redis scripts run at the fake time too."""
        return self.ms

    def advance(self, ms: int) -> None:
        """Move time forward."""
        self.ms += ms


def fake_clock(days_ahead: int = 30) -> FakeClock:
    """A fake clock some days ahead of real time."""
    return FakeClock(time.time_ns() // 1_000_000 + days_ahead * DAY_MS)


def clocked(ctx: ServiceContext) -> tuple[FakeClock, ServiceContext]:
    """A fresh fake clock, and the same connections running on it."""
    clock = fake_clock()
    return clock, dataclasses.replace(ctx, clock=clock)


async def new_event(
    ctx: ServiceContext, rules: EventRules | None = None, **venue_args: Any
) -> EventView:
    """Store a fresh grid venue with an event, create its live state, return its view."""
    event_id = await store_event(ctx, grid_venue(**venue_args), rules)
    await ensure_event_state(ctx, event_id)
    return await ctx.catalog.get(event_id)


def buyer_token(settings: Settings, now_ms: int | None = None) -> tuple[str, str]:
    """A signed buyer token and its buyer id."""
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    token, session = issue_token(settings.session_secret, now, settings.session_ttl_s)
    return token, session.buyer_id


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a buyer token."""
    return {"Authorization": f"Bearer {token}"}


def confirm_headers(idempotency_key: str) -> dict[str, str]:
    """The headers of a confirm: the operator key and this Idempotency-Key."""
    return {**API_KEY_HEADER, "Idempotency-Key": idempotency_key}


async def request_hold(
    api: httpx.AsyncClient, view: EventView, token: str, labels: list[str]
) -> httpx.Response:
    """The reply to the buyer of `token` asking to hold these seats."""
    return await api.post(
        f"/events/{view.event.id}/holds", json={"seats": labels}, headers=bearer(token)
    )


async def hold_over_http(
    api: httpx.AsyncClient, view: EventView, token: str, labels: list[str]
) -> dict[str, Any]:
    """Hold these seats for the buyer of `token`; the reply's body. Fails the test unless 201."""
    reply = await request_hold(api, view, token, labels)
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def operator_action(
    api: httpx.AsyncClient, view: EventView, action: str, labels: list[str]
) -> httpx.Response:
    """The reply to the operator's `action` ("block" or "unblock") on these seats."""
    return await api.post(
        f"/events/{view.event.id}/{action}", json={"seats": labels}, headers=API_KEY_HEADER
    )


@pytest.fixture
def holds(ctx: ServiceContext) -> Holds:
    """The hold lifecycle against the run's Redis, with the real clock."""
    return Holds(ctx, register_scripts(ctx.redis))


@contextlib.asynccontextmanager
async def in_process_client(
    ctx: ServiceContext, client_ip: str = "10.9.0.1", **app_args: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The lock-service app, started in this event loop, behind an httpx client."""
    app = create_app(ctx=ctx, **app_args)
    transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://lock") as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def api(ctx: ServiceContext) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process lock-service client (real Redis and PostgreSQL, real clock)."""
    async with in_process_client(ctx) as client:
        yield client


LockServer = LiveServer


@pytest.fixture(scope="session")
def lock_server(settings: Settings) -> Iterator[LockServer]:
    """The lock service over real HTTP with a 0.3 s SSE heartbeat."""
    server = LiveServer(create_app(settings, sse_heartbeat_s=0.3)).start()
    yield server
    server.stop()
