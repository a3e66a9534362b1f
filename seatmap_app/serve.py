"""Run the app under uvicorn, and the one-command demo."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from types import FrameType
from typing import NoReturn

import uvicorn

from seatmap.context import ServiceContext
from seatmap.db import prepare_schema
from seatmap.embedded import backends
from seatmap.generator import VenueKind, generate_venue
from seatmap.runtime import open_context
from seatmap.settings import Settings
from seatmap_app.connguard import guarded_protocol
from seatmap_app.operations import import_venue, open_event, render_event_tiles

DEMO_TITLE = "Demo night"
GRACEFUL_SHUTDOWN_S = 10


def _export_urls(settings: Settings, database_url: str, redis_url: str) -> Settings:
    """Pass backend URLs to worker processes, which read settings from the environment."""
    os.environ["SEATMAP_DATABASE_URL"] = database_url
    os.environ["SEATMAP_REDIS_URL"] = redis_url
    os.environ["SEATMAP_DATA_DIR"] = str(settings.data_dir)
    os.environ.setdefault("SEATMAP_API_KEY", settings.api_key)
    os.environ.setdefault("SEATMAP_SESSION_SECRET", settings.session_secret)
    return settings.with_overrides(database_url=database_url, redis_url=redis_url)


def _stop(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM end the process with status 0, after everything has been closed.

    uvicorn shuts down gracefully on SIGTERM and then raises the signal again;
    under the default disposition the process would die by it (status -15)
    before embedded servers are stopped. Raising SystemExit instead unwinds
    every `with` block, and before uvicorn starts it stops the start-up cleanly.
    """
    signal.signal(signal.SIGTERM, _stop)


def _share_metrics_between_workers(settings: Settings) -> None:
    """Point prometheus-client's multiprocess mode at a fresh folder for this server."""
    folder = settings.data_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    migrate: bool = True,
) -> int:
    """Serve until interrupted; embedded servers (if any) start once and are shared.

    Pending migrations are applied first, once, unless `migrate` is False: then
    an old schema stops the start with "run seatmap migrate", and the workers
    only check it (SEATMAP_MIGRATE=0).
    """
    exit_cleanly_on_sigterm()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    if workers > 1:
        _share_metrics_between_workers(settings)
    with backends(settings.data_dir, settings.database_url, settings.redis_url) as urls:
        _export_urls(settings, urls.database_url, urls.redis_url)
        for name in asyncio.run(prepare_schema(urls.database_url, apply=migrate)):
            print(f"applied migration {name}", file=sys.stderr)
        if not migrate:
            os.environ["SEATMAP_MIGRATE"] = "0"
        uvicorn.run(
            "seatmap_app.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            http=guarded_protocol(settings),
            timeout_keep_alive=settings.keep_alive_s,
            # Forwarded headers are believed only from SEATMAP_TRUSTED_PROXIES (httpkit.proxies).
            proxy_headers=False,
        )
    return 0


async def prepare_demo(ctx: ServiceContext, kind: VenueKind, seats: int) -> int:
    """Generate (deterministically), import and open the demo event once; reuse it after."""

    venue = generate_venue(kind, seats, 1)
    async with ctx.pool.acquire() as conn:
        venue_id = await conn.fetchval(
            "SELECT id FROM venues WHERE content_hash = $1 ORDER BY id LIMIT 1",
            venue.content_hash,
        )
        event_id = None
        if venue_id is not None:
            event_id = await conn.fetchval(
                "SELECT id FROM events WHERE venue_id = $1 AND title = $2 ORDER BY id LIMIT 1",
                venue_id,
                DEMO_TITLE,
            )
    if venue_id is None:
        print(f"importing a generated {kind} of {venue.seat_count} seats", file=sys.stderr)
        venue_id = await import_venue(ctx, venue, "seatmap")
    if event_id is None:
        event = await open_event(ctx, venue_id, DEMO_TITLE, render=False)
        event_id = event.id
    print("pre-rendering tiles (once per venue)", file=sys.stderr)
    await render_event_tiles(ctx, event_id, progress=True)
    return int(event_id)


def run_demo(
    settings: Settings,
    kind: VenueKind,
    seats: int,
    host: str | None = None,
    port: int | None = None,
) -> int:
    """Set up the demo event, print its URLs, and serve."""
    exit_cleanly_on_sigterm()
    host = host or settings.host
    port = port or settings.port
    with backends(settings.data_dir, settings.database_url, settings.redis_url) as urls:
        live = _export_urls(settings, urls.database_url, urls.redis_url)

        async def prepare() -> int:
            async with open_context(live) as ctx:
                return await prepare_demo(ctx, kind, seats)

        event_id = asyncio.run(prepare())
        base = f"http://{host}:{port}"
        print(f"\nseatmap demo is running:\n  viewer   {base}/viewer/?event={event_id}")
        print(f"  embed    {base}/embed/{event_id}")
        print(f"  map      {base}/events/{event_id}/map.png?width=1200&height=800")
        print(f"  print    {base}/events/{event_id}/map.pdf")
        print(f"  operator key in {settings.data_dir / 'api_key'}\n", flush=True)
        uvicorn.run(
            "seatmap_app.app:create_app",
            factory=True,
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            http=guarded_protocol(settings),
            timeout_keep_alive=settings.keep_alive_s,
            proxy_headers=False,
        )
    return 0
