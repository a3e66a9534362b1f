"""Settings read from the environment, and the event rules they default."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from pathlib import Path

import pytest

from seatmap.context import ServiceContext
from seatmap.errors import BadRequest
from seatmap.events import EventRules
from seatmap.settings import SettingsError, load_settings
from tileserver.engine import TileEngine

README = Path(__file__).resolve().parents[2] / "README.md"
# For every variable the README documents: a value other than the default, the setting
# it must reach and what that setting must then be ("{tmp}" is the test's temp dir).
DOCUMENTED: dict[str, tuple[str, str, object]] = {
    "SEATMAP_DATABASE_URL": (
        "postgresql://db.example/s",
        "database_url",
        "postgresql://db.example/s",
    ),
    "SEATMAP_REDIS_URL": (
        "redis://cache.example:6380/2",
        "redis_url",
        "redis://cache.example:6380/2",
    ),
    "SEATMAP_DATA_DIR": ("{tmp}/elsewhere", "data_dir", "{tmp}/elsewhere"),
    "SEATMAP_API_KEY": ("operator-key-1", "api_key", "operator-key-1"),
    "SEATMAP_SESSION_SECRET": ("session-secret-1", "session_secret", "session-secret-1"),
    "SEATMAP_REDIS_PREFIX": ("box-office:", "redis_prefix", "box-office:"),
    "SEATMAP_HOST": ("0.0.0.0", "host", "0.0.0.0"),
    "SEATMAP_PORT": ("9123", "port", 9123),
    "SEATMAP_WORKERS": ("3", "workers", 3),
    "SEATMAP_HOLD_TTL_S": ("12", "hold_ttl_s", 12),
    "SEATMAP_MAX_HOLD_S": ("3600", "max_hold_s", 3600),
    "SEATMAP_TILE_CACHE_MB": ("7", "tile_cache_mb", 7),
    "SEATMAP_MAX_BODY_BYTES": ("2048", "max_body_bytes", 2048),
    "SEATMAP_LOG_JSON": ("0", "log_json", False),
    "SEATMAP_ACCESS_LOG": ("1", "access_log", True),
    "SEATMAP_MIGRATE": ("0", "migrate_on_start", False),
    "SEATMAP_REDIS_CLUSTER": ("1", "redis_cluster", True),
    "SEATMAP_REDIS_MAX_CONNECTIONS": ("64", "redis_max_connections", 64),
    "SEATMAP_REDIS_POOL_TIMEOUT_S": ("0.5", "redis_pool_timeout_s", 0.5),
    "SEATMAP_TILES_DIR": ("{tmp}/pyramids", "tiles_dir", "{tmp}/pyramids"),
    "SEATMAP_MAX_SEATS_PER_ADDRESS": ("12", "max_seats_per_address", 12),
    "SEATMAP_PARTNER_SECRET": ("partner-secret-1", "partner_secret", "partner-secret-1"),
    "SEATMAP_GRIP_PUBLISH_URLS": (
        "http://pp1:5561,http://pp2:5561",
        "grip_publish_urls",
        ("http://pp1:5561", "http://pp2:5561"),
    ),
    "SEATMAP_GRIP_KEY": ("grip-key-1", "grip_key", "grip-key-1"),
    "SEATMAP_HEADER_TIMEOUT_S": ("2.5", "header_timeout_s", 2.5),
    "SEATMAP_KEEP_ALIVE_S": ("7", "keep_alive_s", 7),
    "SEATMAP_MAX_CONNECTIONS": ("900", "max_connections", 900),
    "SEATMAP_TRUSTED_PROXIES": (
        "10.0.0.0/8", "trusted_proxies", (ipaddress.ip_network("10.0.0.0/8"),)
    ),
    "SEATMAP_CORS_ORIGINS": (
        "https://shop.example", "cors_origins", ("https://shop.example",)
    ),
    "SEATMAP_WEBHOOK_ENABLED": ("0", "webhook_enabled", False),
    "SEATMAP_WEBHOOK_TIMEOUT_S": ("1.5", "webhook_timeout_s", 1.5),
    "SEATMAP_WEBHOOK_MAX_ATTEMPTS": ("3", "webhook_max_attempts", 3),
    "SEATMAP_WEBHOOK_BACKOFF_S": ("0.5", "webhook_backoff_s", 0.5),
    "SEATMAP_WEBHOOK_BACKOFF_CAP_S": ("60", "webhook_backoff_cap_s", 60.0),
    "SEATMAP_WEBHOOK_POLL_S": ("0.2", "webhook_poll_s", 0.2),
}


def readme_settings() -> list[str]:
    """The variables of the README's Settings table."""
    text = README.read_text(encoding="utf-8")
    table = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return sorted(set(re.findall(r"`(SEATMAP_[A-Z0-9_]+)`", table)))


def test_every_variable_in_the_readme_has_a_case_here() -> None:
    documented = readme_settings()
    assert "SEATMAP_HOLD_TTL_S" in documented
    assert set(documented) <= set(DOCUMENTED), set(documented) - set(DOCUMENTED)


@pytest.mark.parametrize("variable", sorted(DOCUMENTED))
def test_each_documented_variable_reaches_its_setting(variable: str, tmp_path: Path) -> None:
    raw, attribute, expected = DOCUMENTED[variable]
    if isinstance(expected, str):
        raw, expected = raw.format(tmp=tmp_path), expected.format(tmp=tmp_path)
    base = {"SEATMAP_DATA_DIR": str(tmp_path)}
    default = getattr(load_settings(base), attribute)
    value = getattr(load_settings({**base, variable: raw}), attribute)
    assert value != default
    assert (str(value) if isinstance(value, Path) else value) == expected


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


def test_an_event_checkout_url_must_be_an_http_url() -> None:
    url = "https://tickets.example.com/checkout?from=map"
    assert EventRules.from_json({"checkout_url": url}).checkout_url == url
    for bad in ("javascript:alert(1)", "ftp://example.com/", "https://a b"):
        with pytest.raises(BadRequest, match="checkout_url"):
            EventRules.from_json({"checkout_url": bad})
    with pytest.raises(BadRequest, match="string"):
        EventRules.from_json({"checkout_url": 5})


def test_hold_time_settings_must_fit_the_event_rules(tmp_path: Path) -> None:
    env = {"SEATMAP_DATA_DIR": str(tmp_path)}
    with pytest.raises(SettingsError, match="SEATMAP_HOLD_TTL_S"):
        load_settings({**env, "SEATMAP_HOLD_TTL_S": "5"})
    with pytest.raises(SettingsError, match="SEATMAP_MAX_HOLD_S"):
        load_settings({**env, "SEATMAP_HOLD_TTL_S": "120", "SEATMAP_MAX_HOLD_S": "60"})


def test_events_take_hold_times_from_the_settings_unless_they_set_their_own(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        {"SEATMAP_DATA_DIR": str(tmp_path), "SEATMAP_HOLD_TTL_S": "12", "SEATMAP_MAX_HOLD_S": "40"}
    )
    defaults = EventRules.defaults(settings)
    assert (defaults.hold_ttl_s, defaults.max_hold_s) == (12, 40)
    assert EventRules.from_json({}, defaults) == defaults
    own = EventRules.from_json({"hold_ttl_s": 30, "no_orphans": False}, defaults)
    assert (own.hold_ttl_s, own.max_hold_s, own.no_orphans) == (30, 40, False)
    with pytest.raises(BadRequest, match="max_hold_s"):
        EventRules.from_json({"hold_ttl_s": 60}, defaults)


def test_tile_cache_size_comes_from_the_setting(ctx: ServiceContext, tmp_path: Path) -> None:
    settings = load_settings({"SEATMAP_DATA_DIR": str(tmp_path), "SEATMAP_TILE_CACHE_MB": "3"})
    engine = TileEngine(dataclasses.replace(ctx, settings=settings))
    assert engine.tiles.cache.max_bytes == 3 * 1024 * 1024
