"""Fixtures of the fault and fuzz tests: backends this run owns, and the app as a process.

The servers themselves are in `tests/ops/servers.py`, the HTTP client of the
lock service in `tests/ops/api.py`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from seatmap.settings import Settings
from tests.ops.api import API_KEY
from tests.ops.servers import REDIS_PREFIX, AppFactory, AppProcess, PrivatePostgres, PrivateRedis

SESSION_SECRET = "ops-session-secret"


def app_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment of an app process using `settings`, plus SEATMAP_* overrides."""
    assert settings.database_url and settings.redis_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATMAP_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(settings.connection_environ())
    env.update(
        SEATMAP_RECONCILE_INTERVAL_S="1",
        # Every test client comes from 127.0.0.1: per-IP limits would meter the test itself.
        SEATMAP_RATE_LIMIT_SESSIONS_PER_MIN="100000",
        SEATMAP_RATE_LIMIT_HOLDS_PER_MIN="100000",
        SEATMAP_MAX_SEATS_PER_ADDRESS="0",
        SEATMAP_LOG_JSON="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def ops_root() -> Iterator[Path]:
    """A folder of this run outside pytest's numbered temp dirs, which a concurrent pytest
    run may prune; PostgreSQL's own user must be able to reach into it. Set
    SEATMAP_OPS_KEEP=1 to keep it (app logs are in `logs/`)."""
    root = Path(tempfile.mkdtemp(prefix="seatmap-ops-"))
    root.chmod(0o755)
    yield root
    if os.environ.get("SEATMAP_OPS_KEEP"):
        print(f"\nfault-test servers' data and logs kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def private_redis(ops_root: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this run; tests that stop it start it again."""
    server = PrivateRedis(ops_root / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def private_postgres(ops_root: Path) -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this run; tests that stop it start it again."""
    pytest.importorskip("pgserver")
    server = PrivatePostgres(ops_root / "pg")
    server.init()
    yield server
    with contextlib.suppress(Exception):
        server.stop()


@pytest.fixture(scope="session")
def ops_settings(
    private_redis: PrivateRedis, private_postgres: PrivatePostgres, ops_root: Path
) -> Settings:
    """Settings on the private backends, with a data dir shared by every app process."""
    return Settings(
        database_url=private_postgres.dsn,
        redis_url=private_redis.url,
        data_dir=ops_root / "data",
        api_key=API_KEY,
        session_secret=SESSION_SECRET,
        redis_prefix=REDIS_PREFIX,
        reconcile_interval_s=1.0,
        log_json=False,
    )


@pytest.fixture
def start_app(
    ops_settings: Settings, ops_root: Path, request: pytest.FixtureRequest
) -> Iterator[AppFactory]:
    """Start app processes on the private backends; all are stopped after the test.

    Their logs stay in the run's folder while the session lasts (named after the test).
    """
    started: list[AppProcess] = []
    logs = ops_root / "logs"
    logs.mkdir(exist_ok=True)

    def start(workers: int = 1, **env: str) -> AppProcess:
        log = logs / f"{request.node.name}-{len(started)}.log"
        app = AppProcess(app_env(ops_settings, **env), log, workers=workers)
        started.append(app)
        return app.start()

    yield start
    for app in started:
        app.stop()


@pytest.fixture
def backends_restored(
    private_redis: PrivateRedis, private_postgres: PrivatePostgres
) -> Iterator[None]:
    """Whatever a test stopped is running again afterwards, even if the test failed."""
    yield
    if not private_redis.running:
        private_redis.start()
    if not private_postgres.running:
        private_postgres.start()
