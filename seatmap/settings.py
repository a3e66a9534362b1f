"""One settings object, read from `SEATMAP_*` environment variables once."""

from __future__ import annotations

import ipaddress
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
    redis_cluster: bool = False  # redis_url names any node of a Redis Cluster
    # Redis connections per process and server (or cluster node); a request that finds them
    # all busy waits this long for one, then gets 503 + Retry-After.
    redis_max_connections: int = 512
    redis_pool_timeout_s: float = 1.0
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
    # Apply pending migrations when the app starts; when off, refuse to start on an old schema.
    migrate_on_start: bool = True
    # Pre-rendered pyramids; None means `data_dir/tiles`. Several app nodes may share one.
    shared_tiles_dir: Path | None = None
    # Origins whose pages may use the buyer API (holds, sessions) from a browser; none by default.
    cors_origins: tuple[str, ...] = ()
    # Peers whose X-Forwarded-* headers are believed (CIDRs); none by default.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Seats one client address may hold at once in one event, across all its buyer identities.
    max_seats_per_address: int = 40
    # Shared with a partner's checkout to sign buyer accounts given to POST /sessions; "" = off.
    partner_secret: str = ""
    # GRIP proxies (Pushpin) that hold SSE connections: their publish URLs; empty = none.
    grip_publish_urls: tuple[str, ...] = ()
    # The proxies' signing key (Pushpin's sig_key): requests carrying a valid Grip-Sig
    # are handed over to the proxy; all others are streamed by the app itself.
    grip_key: str = ""
    # Signed webhooks: this process feeds the outbox and delivers it (any node may).
    webhook_enabled: bool = True
    webhook_timeout_s: float = 5.0  # one delivery attempt, connect to last byte
    webhook_max_attempts: int = 12  # then the delivery is marked failed
    webhook_backoff_s: float = 5.0  # first retry delay; doubles per attempt, with jitter
    webhook_backoff_cap_s: float = 3600.0  # longest retry delay
    webhook_poll_s: float = 1.0  # how often the outbox and the change logs are looked at
    # A connection must finish its request headers this long after connecting (or after the
    # request's first byte); slower ones get 408 and are closed, so they hold no descriptor.
    header_timeout_s: float = 10.0
    # Idle seconds a keep-alive connection stays open between requests.
    keep_alive_s: int = 5
    # Open connections per server process (live streams included); more get 503 + Retry-After.
    # Below the process's open-file limit, leaving room for backends and files.
    max_connections: int = 16000

    @property
    def tiles_dir(self) -> Path:
        """Where pre-rendered pyramids live, one folder per venue content hash."""
        if self.shared_tiles_dir is not None:
            return self.shared_tiles_dir
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
        if self.redis_cluster:
            env["SEATMAP_REDIS_CLUSTER"] = "1"
        if self.shared_tiles_dir is not None:
            env["SEATMAP_TILES_DIR"] = str(self.shared_tiles_dir)
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


def _networks(
    env: dict[str, str], name: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in (env.get(name) or "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise SettingsError(f"{name}: {item.strip()!r} is not a CIDR") from None
    return tuple(networks)


def _origins(env: dict[str, str], name: str) -> tuple[str, ...]:
    origins = []
    for item in (env.get(name) or "").split(","):
        origin = item.strip().rstrip("/")
        if not origin:
            continue
        scheme, sep, host = origin.partition("://")
        if scheme not in ("http", "https") or not sep or not host or "/" in host:
            raise SettingsError(f"{name}: {origin!r} is not an origin like https://shop.example")
        origins.append(origin)
    return tuple(origins)


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
    settings = Settings(
        database_url=env.get("SEATMAP_DATABASE_URL") or None,
        redis_url=env.get("SEATMAP_REDIS_URL") or None,
        redis_cluster=(env.get("SEATMAP_REDIS_CLUSTER", "0") not in ("0", "false", "no", "")),
        redis_max_connections=_int(env, "SEATMAP_REDIS_MAX_CONNECTIONS", 512),
        redis_pool_timeout_s=_float(env, "SEATMAP_REDIS_POOL_TIMEOUT_S", 1.0),
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
        migrate_on_start=(env.get("SEATMAP_MIGRATE", "1") not in ("0", "false", "no")),
        shared_tiles_dir=Path(env["SEATMAP_TILES_DIR"]).resolve()
        if env.get("SEATMAP_TILES_DIR")
        else None,
        cors_origins=_origins(env, "SEATMAP_CORS_ORIGINS"),
        trusted_proxies=_networks(env, "SEATMAP_TRUSTED_PROXIES"),
        max_seats_per_address=_int(env, "SEATMAP_MAX_SEATS_PER_ADDRESS", 40),
        partner_secret=env.get("SEATMAP_PARTNER_SECRET") or "",
        grip_publish_urls=tuple(
            url.strip()
            for url in env.get("SEATMAP_GRIP_PUBLISH_URLS", "").split(",")
            if url.strip()
        ),
        grip_key=env.get("SEATMAP_GRIP_KEY") or "",
        webhook_enabled=(env.get("SEATMAP_WEBHOOK_ENABLED", "1") not in ("0", "false", "no")),
        webhook_timeout_s=_float(env, "SEATMAP_WEBHOOK_TIMEOUT_S", 5.0),
        webhook_max_attempts=_int(env, "SEATMAP_WEBHOOK_MAX_ATTEMPTS", 12),
        webhook_backoff_s=_float(env, "SEATMAP_WEBHOOK_BACKOFF_S", 5.0),
        webhook_backoff_cap_s=_float(env, "SEATMAP_WEBHOOK_BACKOFF_CAP_S", 3600.0),
        webhook_poll_s=_float(env, "SEATMAP_WEBHOOK_POLL_S", 1.0),
        header_timeout_s=_float(env, "SEATMAP_HEADER_TIMEOUT_S", 10.0),
        keep_alive_s=_int(env, "SEATMAP_KEEP_ALIVE_S", 5),
        max_connections=_int(env, "SEATMAP_MAX_CONNECTIONS", 16000),
    )
    if not 10 <= settings.hold_ttl_s <= settings.max_hold_s <= 24 * 3600:
        raise SettingsError(
            "need 10 <= SEATMAP_HOLD_TTL_S <= SEATMAP_MAX_HOLD_S <= 86400, got "
            f"{settings.hold_ttl_s} and {settings.max_hold_s}"
        )
    if not (
        settings.webhook_timeout_s > 0
        and settings.webhook_max_attempts >= 1
        and 0 < settings.webhook_backoff_s <= settings.webhook_backoff_cap_s
        and settings.webhook_poll_s > 0
    ):
        raise SettingsError(
            "need SEATMAP_WEBHOOK_TIMEOUT_S > 0, SEATMAP_WEBHOOK_MAX_ATTEMPTS >= 1, "
            "0 < SEATMAP_WEBHOOK_BACKOFF_S <= SEATMAP_WEBHOOK_BACKOFF_CAP_S and "
            "SEATMAP_WEBHOOK_POLL_S > 0"
        )
    return settings
