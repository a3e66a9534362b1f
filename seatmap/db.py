"""PostgreSQL connections and schema migrations.

Migrations are ordered `NNNN_name.sql` files shipped inside this package
(`seatmap/migrations/`), found through importlib.resources, so an installed
wheel migrates exactly like a checkout. Each applied file is recorded with its
checksum in `schema_migrations`.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import asyncpg

from seatmap.errors import SeatmapError
from seatmap.resources import package_path

MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
# Any fixed number: serialises concurrent `seatmap migrate` runs.
MIGRATION_LOCK_ID = 7_246_601


class SchemaError(SeatmapError):
    """The database schema cannot be used as it is."""

    code = "schema"
    status_code = 503


class MigrationsMissing(SchemaError):
    """No migration files were found: the installed package is incomplete."""

    code = "migrations_missing"


class SchemaNotMigrated(SchemaError):
    """The database lacks migrations this version needs."""

    code = "schema_not_migrated"


def migrations_dir() -> Path:
    """The folder of ordered `NNNN_name.sql` files (package data of `seatmap`)."""
    return package_path("seatmap", "migrations")


def migration_files(folder: Path | None = None) -> list[Path]:
    """The migration files in name order; MigrationsMissing when there are none."""
    folder = folder or migrations_dir()
    files = sorted(folder.glob("*.sql")) if folder.is_dir() else []
    if not files:
        raise MigrationsMissing(
            f"no migrations found in {folder}: the seatmap package is incomplete"
        )
    return files


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
    files = migration_files(folder)
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        await conn.execute(MIGRATIONS_TABLE)
        done = {
            r["name"]: r["checksum"]
            for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")
        }
        for path in files:
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


async def pending_migrations(conn: asyncpg.Connection, folder: Path | None = None) -> list[str]:
    """Names of the migrations not yet applied to this database (all of them on a new one)."""
    names = [path.name for path in migration_files(folder)]
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return names
    done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
    return [name for name in names if name not in done]


async def check_schema(conn: asyncpg.Connection, folder: Path | None = None) -> None:
    """Return when every migration is applied; SchemaNotMigrated naming the fix otherwise."""
    pending = await pending_migrations(conn, folder)
    if pending:
        raise SchemaNotMigrated(
            f"the database schema is missing {len(pending)} migration(s) "
            f"(first: {pending[0]}): run seatmap migrate"
        )


async def prepare_schema(dsn: str, apply: bool) -> list[str]:
    """Apply pending migrations (`apply`) or check that none is pending; the names applied."""
    conn = await asyncpg.connect(dsn)
    try:
        if apply:
            return await migrate(conn)
        await check_schema(conn)
        return []
    finally:
        await conn.close()
