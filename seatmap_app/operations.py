"""Operator actions shared by the CLI and the admin API: import venues, create events."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from pathlib import Path
from typing import Literal

from lockservice.reconcile import ensure_event_state
from seatmap.context import ServiceContext
from seatmap.errors import VenueFormatError
from seatmap.events import Event, EventRules, create_event
from seatmap.formats import detect_format, parse_venue
from seatmap.formats._source import decode_json
from seatmap.model import Venue
from seatmap.venuestore import save_venue
from tileserver.render.prerender import ensure_pyramid

FileFormat = Literal["auto", "seatmap", "pretix"]


async def import_venue(ctx: ServiceContext, venue: Venue, source_format: str) -> int:
    """Store a parsed venue in one transaction and return its id."""
    async with ctx.pool.acquire() as conn:
        return await save_venue(conn, venue, source_format)


async def import_venue_file(
    ctx: ServiceContext, path: Path, file_format: FileFormat = "auto", name: str | None = None
) -> tuple[int, Venue]:
    """Parse a venue file fully, then store it; a rejected file writes nothing."""
    return await import_venue_bytes(ctx, path.read_bytes(), file_format, name, file=str(path))


async def import_venue_bytes(
    ctx: ServiceContext,
    raw: bytes,
    file_format: FileFormat = "auto",
    name: str | None = None,
    file: str = "",
) -> tuple[int, Venue]:
    """Parse venue file contents fully (off the event loop), then store them."""
    loop = asyncio.get_running_loop()
    venue, source = await loop.run_in_executor(
        None, functools.partial(_parse, raw, file_format, name, file)
    )
    return await import_venue(ctx, venue, source), venue


def _parse(raw: bytes, file_format: FileFormat, name: str | None, file: str) -> tuple[Venue, str]:

    try:
        doc = decode_json(raw, file)
        source = detect_format(doc) if file_format == "auto" else file_format
        return parse_venue(doc, source, name), source
    except VenueFormatError as exc:
        exc.file = exc.file or file
        raise


async def open_event(
    ctx: ServiceContext,
    venue_id: int,
    title: str,
    starts_at: datetime | None = None,
    rules: EventRules | None = None,
    render: bool = True,
    progress: bool = False,
) -> Event:
    """Create an event, initialise its live state in Redis and make sure tiles exist.

    Rules not given are the settings' defaults (SEATMAP_HOLD_TTL_S, SEATMAP_MAX_HOLD_S).
    """

    async with ctx.pool.acquire() as conn:
        rules = rules or EventRules.defaults(ctx.settings)
        event = await create_event(conn, venue_id, title, starts_at, rules)
    await ensure_event_state(ctx, event.id)
    if render:
        await render_event_tiles(ctx, event.id, progress=progress)
    return event


async def render_event_tiles(ctx: ServiceContext, event_id: int, progress: bool = False) -> Path:
    """Pre-render the event's venue pyramid unless it is already on disk."""

    view = await ctx.catalog.get(event_id)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        None,
        functools.partial(
            ensure_pyramid, view.venue, ctx.settings.tiles_dir, workers=2, progress=progress
        ),
    )
