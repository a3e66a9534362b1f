"""One settings object, read from `SEATMAP_*` environment variables once."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from seatmap.errors import SeatmapError


class SettingsError(SeatmapError):
    """An environment variable has a value that cannot be used."""

    code = "settings"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable. `database_url`/`redis_url` of None mean embedded servers."""

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path("data"))
    api_key: str = ""
    session_secret: str = ""
    redis_prefix: str = "seatmap:"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    hold_ttl_s: int = 600
    max_hold_s: int = 1800
    session_ttl_s: int = 4 * 3600
    max_body_bytes: int = 64 * 1024
    tile_cache_mb: int = 128
    reconcile_interval_s: float = 30.0
    sweep_interval_s: float = 0.25
    rate_limit_sessions_per_min: int = 30
    rate_limit_holds_per_min: int = 120
    log_json: bool = True
    access_log: bool = False

    @property
    def tiles_dir(self) -> Path:
        """Where pre-rendered pyramids live, one folder per venue content hash."""
        return self.data_dir / "tiles"

    def connection_environ(self) -> dict[str, str]:
        """SEATMAP_* variables that make a child process connect like this one."""
        env = {
            "SEATMAP_DATA_DIR": str(self.data_dir),
            "SEATMAP_API_KEY": self.api_key,
            "SEATMAP_SESSION_SECRET": self.session_secret,
            "SEATMAP_REDIS_PREFIX": self.redis_prefix,
        }
        if self.database_url:
            env["SEATMAP_DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["SEATMAP_REDIS_URL"] = self.redis_url
        return env

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (tests, CLI flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def _secret(data_dir: Path, env_value: str | None, filename: str) -> str:
    """Use the env value, else a random secret kept in the data dir across restarts."""
    if env_value:
        return env_value
    path = data_dir / filename
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Parse SEATMAP_* variables; secrets not given are generated once per data dir."""
    env = dict(os.environ if environ is None else environ)
    data_dir = Path(env.get("SEATMAP_DATA_DIR") or "data").resolve()
    return Settings(
        database_url=env.get("SEATMAP_DATABASE_URL") or None,
        redis_url=env.get("SEATMAP_REDIS_URL") or None,
        data_dir=data_dir,
        api_key=_secret(data_dir, env.get("SEATMAP_API_KEY"), "api_key"),
        session_secret=_secret(data_dir, env.get("SEATMAP_SESSION_SECRET"), "session_secret"),
        redis_prefix=env.get("SEATMAP_REDIS_PREFIX") or "seatmap:",
        host=env.get("SEATMAP_HOST") or "127.0.0.1",
        port=_int(env, "SEATMAP_PORT", 8000),
        workers=_int(env, "SEATMAP_WORKERS", 1),
        hold_ttl_s=_int(env, "SEATMAP_HOLD_TTL_S", 600),
        max_hold_s=_int(env, "SEATMAP_MAX_HOLD_S", 1800),
        session_ttl_s=_int(env, "SEATMAP_SESSION_TTL_S", 4 * 3600),
        max_body_bytes=_int(env, "SEATMAP_MAX_BODY_BYTES", 64 * 1024),
        tile_cache_mb=_int(env, "SEATMAP_TILE_CACHE_MB", 128),
        reconcile_interval_s=_float(env, "SEATMAP_RECONCILE_INTERVAL_S", 30.0),
        sweep_interval_s=_float(env, "SEATMAP_SWEEP_INTERVAL_S", 0.25),
        rate_limit_sessions_per_min=_int(env, "SEATMAP_RATE_LIMIT_SESSIONS_PER_MIN", 30),
        rate_limit_holds_per_min=_int(env, "SEATMAP_RATE_LIMIT_HOLDS_PER_MIN", 120),
        log_json=(env.get("SEATMAP_LOG_JSON", "1") not in ("0", "false", "no")),
        access_log=(env.get("SEATMAP_ACCESS_LOG", "0") not in ("0", "false", "no")),
    )
