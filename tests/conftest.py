"""Shared fixtures: a fresh PostgreSQL database and Redis key prefix per test run.

Tests talk to the real servers on 127.0.0.1 (override with SEATMAP_TEST_PG_ADMIN_URL
and SEATMAP_TEST_REDIS_URL). The database is dropped and the keys deleted after
the run. Tests whose module or conftest calls `parametrize_redis` run twice: on
that Redis and on a 3-master Redis Cluster started once per run
(`tests/ops/cluster.py`, marked `cluster`).
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
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis as syncredis
import uvicorn
from starlette.types import ASGIApp

from seatmap.context import ServiceContext, build_context
from seatmap.db import close_pool, create_pool, migrate
from seatmap.embedded import start_postgres, start_redis
from seatmap.runtime import redis_client
from seatmap.settings import Settings
from tests.ops.cluster import LocalRedisCluster

RUN_ID = uuid.uuid4().hex[:10]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


EMBEDDED_DIR = Path(tempfile.gettempdir()) / "seatmap-test-embedded"
# Embedded servers stop when their handle is collected: held here for the whole run.
_EMBEDDED: list[object] = []


def _backend_url(
    override_env: str,
    local_port: int,
    local_url: str,
    start_embedded: Callable[[Path], tuple[str, object]],
) -> str:
    """The URL in `override_env` if set, else the server on 127.0.0.1:`local_port`, else an
    embedded one (kept running for the rest of the run)."""
    url = os.environ.get(override_env)
    if url is not None:
        return url
    if _reachable("127.0.0.1", local_port):
        return local_url
    url, handle = start_embedded(EMBEDDED_DIR)
    _EMBEDDED.append(handle)
    return url


PG_ADMIN_URL = _backend_url(
    "SEATMAP_TEST_PG_ADMIN_URL", 5432, "postgresql://postgres@127.0.0.1:5432/test", start_postgres
)
OPERATOR_API_KEY = "test-operator-key"
API_KEY_HEADER = {"X-API-Key": OPERATOR_API_KEY}
REDIS_URL = _backend_url("SEATMAP_TEST_REDIS_URL", 6379, "redis://127.0.0.1:6379/0", start_redis)


def _dsn_for(database: str) -> str:
    """The admin URL with its database name replaced (query string kept)."""
    head, _, tail = PG_ADMIN_URL.partition("?")
    base, _, _ = head.rpartition("/")
    return f"{base}/{database}" + (f"?{tail}" if tail else "")


@contextlib.asynccontextmanager
async def pg_connection(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """One connection to `dsn`, closed when the block is left, however it is left."""
    conn = await asyncpg.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A migrated database that exists for this test run only."""
    name = f"seatmap_test_{RUN_ID}"

    async def create() -> None:
        async with pg_connection(PG_ADMIN_URL) as conn:
            await conn.execute(f'CREATE DATABASE "{name}"')
        async with pg_connection(_dsn_for(name)) as conn:
            await migrate(conn)

    async def drop() -> None:
        async with pg_connection(PG_ADMIN_URL) as conn:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    asyncio.run(create())
    yield _dsn_for(name)
    asyncio.run(drop())


@contextlib.contextmanager
def new_database() -> Iterator[str]:
    """The URL of a new database with no schema at all (a first install), dropped after."""
    name = f"seatmap_empty_{RUN_ID}_{uuid.uuid4().hex[:8]}"

    async def run(sql: str) -> None:
        async with pg_connection(PG_ADMIN_URL) as conn:
            await conn.execute(sql)

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield _dsn_for(name)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new database with no schema, for one test."""
    with new_database() as dsn:
        yield dsn


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


# The Redis a test runs against: "single" unless its module asks for both (parametrize_redis).
REDIS_VARIANTS = ["single", pytest.param("cluster", marks=pytest.mark.cluster)]


def parametrize_redis(metafunc: pytest.Metafunc) -> None:
    """Run a test against single Redis and against a Redis Cluster (mark `cluster`); call it
    from a module's or conftest's `pytest_generate_tests`."""
    if "redis_variant" in metafunc.fixturenames:
        metafunc.parametrize("redis_variant", REDIS_VARIANTS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def redis_variant(request: pytest.FixtureRequest) -> str:
    """Which Redis the run's settings point at: "single" or "cluster"."""
    return str(getattr(request, "param", "single"))


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedisCluster]:
    """A 3-master, 3-replica Redis Cluster of this run, started once."""
    cluster = LocalRedisCluster(Path(tempfile.mkdtemp(prefix="seatmap-cluster-")))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def settings(
    pg_dsn: str,
    redis_prefix: str,
    redis_variant: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Settings:
    """Settings pointing at the run's database, Redis (or Redis Cluster), key prefix and a
    temp data dir."""
    cluster = redis_variant == "cluster"
    redis_url = request.getfixturevalue("redis_cluster").url if cluster else REDIS_URL
    return Settings(
        database_url=pg_dsn,
        redis_url=redis_url,
        redis_cluster=cluster,
        data_dir=Path(tmp_path_factory.mktemp("data")),
        api_key=OPERATOR_API_KEY,
        session_secret="test-session-secret",
        redis_prefix=redis_prefix,
        log_json=False,
        # Webhook delivery is opt-in per test: a session-long app (live_server, lock_server)
        # would otherwise run a delivery worker with production timings on this database and
        # claim other tests' deliveries (one 500 there means a retry many seconds later).
        webhook_enabled=False,
    )


@pytest.fixture(scope="session")
async def ctx(settings: Settings) -> AsyncIterator[ServiceContext]:
    """A live service context on the session's event loop."""
    assert settings.database_url and settings.redis_url
    pool = await create_pool(settings.database_url)
    redis = redis_client(settings.redis_url, cluster=settings.redis_cluster)
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
    from seatmap_app.app import create_app

    server = LiveServer(create_app(settings)).start()
    yield server
    server.stop()
