from __future__ import annotations

from pathlib import Path

import pytest

from seatmap.errors import BadRequest
from seatmap.events import EventRules
from seatmap.settings import SettingsError, load_settings


def test_settings_generate_secrets_once_per_data_dir(tmp_path: Path) -> None:
    env = {"SEATMAP_DATA_DIR": str(tmp_path)}
    first = load_settings(env)
    second = load_settings(env)
    assert first.database_url is None and first.redis_url is None
    assert len(first.api_key) >= 32 and first.api_key == second.api_key
    assert first.session_secret != first.api_key
    assert (tmp_path / "api_key").stat().st_mode & 0o077 == 0


def test_settings_take_values_and_reject_bad_numbers(tmp_path: Path) -> None:
    env = {
        "SEATMAP_DATA_DIR": str(tmp_path),
        "SEATMAP_DATABASE_URL": "postgresql://db/x",
        "SEATMAP_API_KEY": "k",
        "SEATMAP_PORT": "9001",
    }
    settings = load_settings(env)
    assert settings.database_url == "postgresql://db/x"
    assert settings.api_key == "k" and settings.port == 9001
    with pytest.raises(SettingsError, match="SEATMAP_PORT"):
        load_settings({**env, "SEATMAP_PORT": "eighty"})


def test_event_rules_round_trip_and_reject_nonsense() -> None:
    rules = EventRules.from_json({"max_seats_per_buyer": 4, "no_orphans": False})
    assert rules.max_seats_per_buyer == 4 and not rules.no_orphans
    assert EventRules.from_json(rules.to_json()) == rules
    with pytest.raises(BadRequest, match="unknown"):
        EventRules.from_json({"max_seats": 4})
    with pytest.raises(BadRequest, match="integer"):
        EventRules.from_json({"max_seats_per_buyer": "4"})
    with pytest.raises(BadRequest, match="true or false"):
        EventRules.from_json({"no_orphans": 1})
    with pytest.raises(BadRequest):
        EventRules.from_json({"hold_ttl_s": 5000, "max_hold_s": 100})
