from __future__ import annotations

import asyncio
from pathlib import Path

import redis

from seatmap.db import migrate
from seatmap.embedded import backends
from tests.conftest import pg_connection


def _roundtrip(data_dir: Path, write: bool) -> tuple[int, bytes | None]:
    with backends(data_dir, None, None) as urls:

        async def work() -> int:
            async with pg_connection(urls.database_url) as conn:
                await migrate(conn)
                if write:
                    await conn.execute(
                        "INSERT INTO venues (name, content_hash, source_format, width, height,"
                        " focal_x, focal_y, seat_count) VALUES ('kept', 'h', 't', 1, 1, 0, 0, 0)"
                    )
                return int(await conn.fetchval("SELECT count(*) FROM venues WHERE name='kept'"))

        count = asyncio.run(work())
        client = redis.Redis.from_url(urls.redis_url)
        if write:
            client.set("kept", b"yes")
        value = client.get("kept")
        client.close()
        return count, value


def test_embedded_servers_start_keep_data_and_stop(tmp_path: Path) -> None:
    assert _roundtrip(tmp_path, write=True) == (1, b"yes")
    assert not (tmp_path / "postgres" / "postmaster.pid").exists(), "PostgreSQL still running"
    # Stopped on exit; a second start in the same data dir reuses what was stored.
    assert _roundtrip(tmp_path, write=False) == (1, b"yes")
    assert (tmp_path / "postgres").is_dir() and (tmp_path / "redis").is_dir()
