"""PostgreSQL connections and schema migrations."""

from __future__ import annotations

import asyncio
import hashlib
from importlib import resources
from pathlib import Path

import asyncpg

MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
# Any fixed number: serialises concurrent `seatmap migrate` runs.
MIGRATION_LOCK_ID = 7_246_601


def migrations_dir() -> Path:
    """The folder of ordered `NNNN_name.sql` files."""
    here = Path(__file__).resolve().parent.parent / "migrations"
    if here.is_dir():
        return here
    return Path(str(resources.files("seatmap"))).parent / "migrations"


async def create_pool(dsn: str, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """A connection pool to the database at `dsn`."""
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, command_timeout=30)
    assert pool is not None
    return pool


async def close_pool(pool: asyncpg.Pool, timeout_s: float = 10.0) -> None:
    """Close a pool gracefully, terminating connections still held after `timeout_s`."""
    try:
        await asyncio.wait_for(pool.close(), timeout_s)
    except TimeoutError:
        pool.terminate()


async def migrate(conn: asyncpg.Connection, folder: Path | None = None) -> list[str]:
    """Apply every migration not yet recorded, in name order; return the names applied.

    Safe to run twice or concurrently: an advisory lock serialises runs and each
    file is applied in its own transaction together with its record.
    """
    folder = folder or migrations_dir()
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        await conn.execute(MIGRATIONS_TABLE)
        done = {
            r["name"]: r["checksum"]
            for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")
        }
        for path in sorted(folder.glob("*.sql")):
            sql = path.read_text()
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if path.name in done:
                if done[path.name] != checksum:
                    raise RuntimeError(f"{path}: applied migration was edited afterwards")
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                    path.name,
                    checksum,
                )
            applied.append(path.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
    return applied
