"""Shared fixtures: a fresh PostgreSQL database and Redis key prefix per test run.

Tests talk to the real servers on 127.0.0.1 (override with SEATMAP_TEST_PG_ADMIN_URL
and SEATMAP_TEST_REDIS_URL). The database is dropped and the keys deleted after
the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis as syncredis
import uvicorn
from starlette.types import ASGIApp

from seatmap.context import ServiceContext, build_context
from seatmap.db import close_pool, create_pool, migrate
from seatmap.runtime import redis_client
from seatmap.settings import Settings

RUN_ID = uuid.uuid4().hex[:10]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _backend_urls() -> tuple[str, str]:
    """The servers tests use: env overrides, else local ones, else embedded ones."""
    pg = os.environ.get("SEATMAP_TEST_PG_ADMIN_URL")
    rd = os.environ.get("SEATMAP_TEST_REDIS_URL")
    if pg is None:
        if _reachable("127.0.0.1", 5432):
            pg = "postgresql://postgres@127.0.0.1:5432/test"
        else:
            from seatmap.embedded import start_postgres

            pg, handle = start_postgres(Path(tempfile.gettempdir()) / "seatmap-test-embedded")
            _EMBEDDED.append(handle)
    if rd is None:
        if _reachable("127.0.0.1", 6379):
            rd = "redis://127.0.0.1:6379/0"
        else:
            from seatmap.embedded import start_redis

            rd, handle = start_redis(Path(tempfile.gettempdir()) / "seatmap-test-embedded")
            _EMBEDDED.append(handle)
    return pg, rd


_EMBEDDED: list[object] = []
PG_ADMIN_URL, REDIS_URL = _backend_urls()


def _dsn_for(database: str) -> str:
    """The admin URL with its database name replaced (query string kept)."""
    head, _, tail = PG_ADMIN_URL.partition("?")
    base, _, _ = head.rpartition("/")
    return f"{base}/{database}" + (f"?{tail}" if tail else "")


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A migrated database that exists for this test run only."""
    name = f"seatmap_test_{RUN_ID}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        conn = await asyncpg.connect(_dsn_for(name))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    yield _dsn_for(name)
    asyncio.run(drop())


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    """A key prefix owned by this run; every key under it is deleted afterwards."""
    prefix = f"seatmap-test-{RUN_ID}:"
    yield prefix
    client = syncredis.Redis.from_url(REDIS_URL)
    batch = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for i in range(0, len(batch), 500):
        client.delete(*batch[i : i + 500])
    client.close()


@pytest.fixture(scope="session")
def settings(pg_dsn: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the run's database, Redis prefix and a temp data dir."""
    return Settings(
        database_url=pg_dsn,
        redis_url=REDIS_URL,
        data_dir=Path(tmp_path_factory.mktemp("data")),
        api_key="test-operator-key",
        session_secret="test-session-secret",
        redis_prefix=redis_prefix,
        log_json=False,
    )


@pytest.fixture(scope="session")
async def ctx(settings: Settings) -> AsyncIterator[ServiceContext]:
    """A live service context on the session's event loop."""
    assert settings.database_url and settings.redis_url
    pool = await create_pool(settings.database_url)
    redis = redis_client(settings.redis_url)
    context = build_context(settings, pool, redis)
    yield context
    # Teardown is bounded: a stuck connection must not hang the whole run.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(context.feed.close(), 15)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(redis.aclose(), 5)
    await close_pool(pool)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """An ASGI app served by uvicorn on a free port, in a background thread."""

    def __init__(self, app: ASGIApp) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        """Start serving and wait until the app has started up."""
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("live server failed to start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for it."""
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """One app instance over real HTTP for the whole run."""
    from seatmap.app import create_app

    server = LiveServer(create_app(settings)).start()
    yield server
    server.stop()
