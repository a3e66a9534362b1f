"""The `seatmap` command line, run as a user runs it, against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from seatmap.settings import Settings
from tests.conftest import pg_connection

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run_cli(
    settings: Settings, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `seatmap ARGS` in a child process connected like `settings`."""
    env = {**os.environ, **settings.connection_environ(), **(extra_env or {})}
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


def _on_database(settings: Settings, dsn: str) -> Settings:
    return settings.with_overrides(database_url=dsn)


def test_commands_on_an_unmigrated_database_say_run_seatmap_migrate(
    settings: Settings, empty_database: str
) -> None:
    fresh = _on_database(settings, empty_database)
    for args in (["venues"], ["events"], ["create-event", "--venue", "1", "--title", "x"]):
        result = run_cli(fresh, *args)
        assert result.returncode == 1, args
        message = result.stderr.strip()
        assert message.startswith("seatmap: ") and message.endswith("run seatmap migrate"), message
        assert len(message.splitlines()) == 1 and "Traceback" not in result.stderr
    migrated = run_cli(fresh, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "applied 0001_venues.sql" in migrated.stdout
    assert run_cli(fresh, "venues").returncode == 0
    again = run_cli(fresh, "migrate")
    assert again.returncode == 0 and "applied" not in again.stdout


def test_serve_with_no_migrate_refuses_an_unmigrated_database(
    settings: Settings, empty_database: str
) -> None:
    result = run_cli(_on_database(settings, empty_database), "serve", "--no-migrate", "--port", "9")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("run seatmap migrate"), result.stderr


async def _event_rules(dsn: str, event_id: int) -> dict[str, object]:
    async with pg_connection(dsn) as conn:
        raw = await conn.fetchval("SELECT settings FROM events WHERE id = $1", event_id)
    return dict(orjson.loads(raw))


async def test_create_event_takes_rules_as_options_over_the_environment_defaults(
    settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "hall.json"
    assert (
        run_cli(
            settings, "generate-venue", "--kind", "theater", "--seats", "60", "--out", str(out)
        ).returncode
        == 0
    )
    venue_id = run_cli(settings, "import", str(out)).stdout.strip()
    hold_env = {"SEATMAP_HOLD_TTL_S": "12", "SEATMAP_MAX_HOLD_S": "40"}
    plain = run_cli(
        settings,
        "create-event",
        "--venue",
        venue_id,
        "--title",
        "a",
        "--no-render",
        extra_env=hold_env,
    )
    assert plain.returncode == 0, plain.stderr
    rules = await _event_rules(settings.database_url or "", int(plain.stdout))
    assert (rules["hold_ttl_s"], rules["max_hold_s"]) == (12, 40)
    assert rules["max_seats_per_buyer"] == 8 and rules["no_orphans"] is True
    chosen = run_cli(
        settings,
        "create-event",
        "--venue",
        venue_id,
        "--title",
        "b",
        "--no-render",
        "--hold-ttl-s",
        "30",
        "--max-seats-per-buyer",
        "3",
        "--no-orphan-rule",
        "--contiguous",
        "--no-restrict-accessible",
        extra_env=hold_env,
    )
    assert chosen.returncode == 0, chosen.stderr
    rules = await _event_rules(settings.database_url or "", int(chosen.stdout))
    chosen_rules = {
        "hold_ttl_s": 30,
        "max_hold_s": 40,
        "max_seats_per_buyer": 3,
        "no_orphans": False,
        "contiguous_in_row": True,
        "restrict_accessible": False,
    }
    assert {name: rules[name] for name in chosen_rules} == chosen_rules
    bad = run_cli(
        settings,
        "create-event",
        "--venue",
        venue_id,
        "--title",
        "c",
        "--no-render",
        "--hold-ttl-s",
        "50",
        extra_env=hold_env,
    )
    assert bad.returncode == 1
    assert (
        bad.stderr.strip() == "seatmap: --hold-ttl-s: need 10 <= hold_ttl_s <= max_hold_s <= 86400"
    )
