"""Schema migrations: shipped inside the package, recorded, checked, and loud when missing."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

import seatmap
from seatmap.db import (
    MigrationsMissing,
    SchemaNotMigrated,
    check_schema,
    migrate,
    migrations_dir,
    pending_migrations,
)
from tests.conftest import pg_connection


async def test_migrations_are_recorded_and_safe_to_run_twice(pg_dsn: str) -> None:
    async with pg_connection(pg_dsn) as conn:
        assert await migrate(conn) == []  # the fixture already applied everything
        names = [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")]
        assert names == sorted(p.name for p in migrations_dir().glob("*.sql"))
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
        assert {"venues", "categories", "sections", "seats", "events", "orders", "sales"} <= tables


def test_migrations_ship_inside_the_seatmap_package() -> None:
    folder = migrations_dir()
    assert folder.parent == Path(seatmap.__file__).parent
    assert min(p.name for p in folder.glob("*.sql")) == "0001_venues.sql"


async def test_migrate_without_migration_files_fails_naming_the_folder(
    empty_database: str, tmp_path: Path
) -> None:
    async with pg_connection(empty_database) as conn:
        with pytest.raises(MigrationsMissing, match=f"no migrations found in {tmp_path}"):
            await migrate(conn, tmp_path)
        with pytest.raises(MigrationsMissing):
            await migrate(conn, tmp_path / "absent")
        assert await conn.fetchval("SELECT to_regclass('venues')") is None


async def test_a_new_database_is_pending_every_migration_until_migrated(
    empty_database: str,
) -> None:
    names = sorted(p.name for p in migrations_dir().glob("*.sql"))
    async with pg_connection(empty_database) as conn:
        assert await pending_migrations(conn) == names
        with pytest.raises(SchemaNotMigrated, match="run seatmap migrate"):
            await check_schema(conn)
        assert await migrate(conn) == names
        assert await pending_migrations(conn) == []
        await check_schema(conn)


async def test_a_database_behind_by_one_migration_is_not_ready(
    empty_database: str, tmp_path: Path
) -> None:
    files = sorted(migrations_dir().glob("*.sql"))
    older = tmp_path / "older"
    older.mkdir()
    for path in files[:-1]:
        (older / path.name).write_text(path.read_text())
    async with pg_connection(empty_database) as conn:
        await migrate(conn, older)
        assert await pending_migrations(conn) == [files[-1].name]
        with pytest.raises(SchemaNotMigrated, match=f"first: {files[-1].name}"):
            await check_schema(conn)


async def test_sales_reject_a_second_sale_of_one_seat(pg_dsn: str) -> None:
    async with pg_connection(pg_dsn) as conn:
        try:
            async with conn.transaction():
                venue_id = await conn.fetchval(
                    "INSERT INTO venues (name, content_hash, source_format, width, height, focal_x,"
                    " focal_y, seat_count) VALUES ('v', 'h', 't', 1, 1, 0, 0, 1) RETURNING id"
                )
                event_id = await conn.fetchval(
                    "INSERT INTO events (venue_id, title) VALUES ($1, 'e') RETURNING id", venue_id
                )
                order_ids = [
                    await conn.fetchval(
                        "INSERT INTO orders (event_id, idempotency_key, request_hash, buyer_id,"
                        " fencing, total_cents) VALUES ($1, $2, 'h', 'b', 1, 0) RETURNING id",
                        event_id,
                        key,
                    )
                    for key in ("k1", "k2")
                ]
                await conn.execute(
                    "INSERT INTO sales (event_id, seat_index, order_id, fencing)"
                    " VALUES ($1, 0, $2, 1)",
                    event_id,
                    order_ids[0],
                )
                try:
                    async with conn.transaction():
                        await conn.execute(
                            "INSERT INTO sales (event_id, seat_index, order_id, fencing)"
                            " VALUES ($1, 0, $2, 2)",
                            event_id,
                            order_ids[1],
                        )
                    raise AssertionError("second sale of one seat was accepted")
                except asyncpg.UniqueViolationError:
                    pass
                sold = await conn.fetchval("SELECT count(*) FROM sales WHERE event_id=$1", event_id)
                assert sold == 1
                raise _Rollback
        except _Rollback:
            pass


class _Rollback(Exception):
    pass
