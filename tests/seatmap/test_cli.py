from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from seatmap.settings import Settings
from tests.conftest import pg_connection

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.connection_environ()}
    return subprocess.run(
        [sys.executable, "-m", "seatmap_app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _counts(dsn: str) -> tuple[int, int]:
    async with pg_connection(dsn) as conn:
        return (
            int(await conn.fetchval("SELECT count(*) FROM venues")),
            int(await conn.fetchval("SELECT count(*) FROM seats")),
        )


async def test_generate_then_import_prints_the_venue_id(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "arena.json"
    generated = run_cli(
        settings, "generate-venue", "--kind", "arena", "--seats", "1500", "--out", str(out)
    )
    assert generated.returncode == 0, generated.stderr
    before = await _counts(settings.database_url or "")
    imported = run_cli(settings, "import", str(out), "--name", "CLI arena")
    assert imported.returncode == 0, imported.stderr
    venue_id = int(imported.stdout.strip())
    after = await _counts(settings.database_url or "")
    assert after == (before[0] + 1, before[1] + 1500)
    listing = run_cli(settings, "venues")
    assert any(
        line.split()[:2] == [str(venue_id), "1500"] and "CLI arena" in line
        for line in listing.stdout.splitlines()
    ), listing.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "not JSON"),
        (b'{"format": "seatmap-venue", "version": 1}', "$"),
        (b"\xff\xfe\x00garbage", "bad.json"),
    ],
)
async def test_bad_file_gives_one_line_naming_the_place_and_writes_nothing(
    settings: Settings, tmp_path: Path, content: bytes, expected: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    before = await _counts(settings.database_url or "")
    result = run_cli(settings, "import", str(bad))
    assert result.returncode == 1
    message = result.stderr.strip()
    assert message.startswith("seatmap: ") and str(bad) in message and expected in message
    assert "Traceback" not in result.stderr and len(message.splitlines()) == 1
    assert await _counts(settings.database_url or "") == before


def test_missing_file_and_bad_arguments_fail_cleanly(settings: Settings, tmp_path: Path) -> None:
    result = run_cli(settings, "import", str(tmp_path / "absent.json"))
    assert result.returncode == 1 and "no such file" in result.stderr
    result = run_cli(settings, "create-event", "--venue", "99999999", "--title", "x", "--no-render")
    assert result.returncode == 1 and "venue 99999999 does not exist" in result.stderr
    assert "Traceback" not in result.stderr
