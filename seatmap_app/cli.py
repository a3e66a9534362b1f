"""The `seatmap` command line.

Every command reads settings from SEATMAP_* variables; with no database or
Redis URL it starts embedded servers in the data directory. Errors print one
line naming the problem (and the file and place, for venue files) and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from seatmap.context import ServiceContext
from seatmap.db import prepare_schema
from seatmap.embedded import backends
from seatmap.errors import SeatmapError, VenueFormatError
from seatmap.events import list_events
from seatmap.formats import EXPORT_FORMATS, dumps_venue, load_venue_file
from seatmap.formats.native import write_native
from seatmap.generator import generate_venue
from seatmap.settings import Settings, load_settings
from seatmap.venuestore import list_venues, load_venue, load_venue_ref
from seatmap_app import cli_backup, cli_reports
from seatmap_app.clirun import with_context as _with_context
from seatmap_app.eventoptions import add_rule_options, event_rules
from seatmap_app.operations import import_venue_file, open_event
from seatmap_app.serve import run_demo, serve
from tileserver.render.prerender import ensure_pyramid

Command = Callable[[argparse.Namespace, Settings], int]


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Apply pending migrations; fails when the package has none to apply."""

    with backends(settings.data_dir, settings.database_url, settings.redis_url) as urls:
        applied = asyncio.run(prepare_schema(urls.database_url, apply=True))
    for name in applied:
        print(f"applied {name}")
    print("database schema is up to date")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import a venue file and print the new venue id."""

    path = Path(args.file)
    if not path.is_file():
        raise SeatmapError(f"{path}: no such file")

    async def work(ctx: ServiceContext) -> tuple[int, Any]:
        return await import_venue_file(ctx, path, args.format, args.name)

    venue_id, venue = _with_context(settings, work)
    print(venue_id)
    print(f"imported {venue.name!r}: {venue.seat_count} seats", file=sys.stderr)
    return 0


def _parse_time(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise SeatmapError(f"--starts-at: not an ISO 8601 time: {raw!r}") from None


def cmd_create_event(args: argparse.Namespace, settings: Settings) -> int:
    """Create an event on a venue, pre-render its tiles, print the event id."""

    starts_at = _parse_time(args.starts_at)
    rules = event_rules(args, settings)

    async def work(ctx: ServiceContext) -> int:
        event = await open_event(
            ctx, args.venue, args.title, starts_at, rules, render=not args.no_render, progress=True
        )
        return event.id

    print(_with_context(settings, work))
    return 0


def cmd_venues(args: argparse.Namespace, settings: Settings) -> int:
    """List venues."""

    async def work(ctx: ServiceContext) -> list[Any]:
        async with ctx.pool.acquire() as conn:
            return await list_venues(conn)

    rows = _with_context(settings, work)
    print(f"{'id':>5}  {'seats':>7}  {'format':<8}  name")
    for r in rows:
        print(f"{r['id']:>5}  {r['seat_count']:>7}  {r['source_format']:<8}  {r['name']}")
    return 0


def cmd_events(args: argparse.Namespace, settings: Settings) -> int:
    """List events."""

    async def work(ctx: ServiceContext) -> list[Any]:
        async with ctx.pool.acquire() as conn:
            return await list_events(conn)

    events = _with_context(settings, work)
    print(f"{'id':>5}  {'venue':>5}  {'starts at':<25}  title")
    for e in events:
        starts = e.starts_at.isoformat() if e.starts_at else "-"
        print(f"{e.id:>5}  {e.venue_id:>5}  {starts:<25}  {e.title}")
    return 0


def cmd_render(args: argparse.Namespace, settings: Settings) -> int:
    """Pre-render a venue's tile pyramid."""

    async def work(ctx: ServiceContext) -> Any:
        async with ctx.pool.acquire() as conn:
            return await load_venue(conn, args.venue)

    venue = _with_context(settings, work)
    path = ensure_pyramid(venue, settings.tiles_dir, workers=args.jobs, progress=True)
    print(path)
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write a stored venue (or a venue file, converted) as native or pretix JSON."""

    if Path(args.target).is_file():
        venue = load_venue_file(Path(args.target))
    else:

        async def work(ctx: ServiceContext) -> Any:
            async with ctx.pool.acquire() as conn:
                return await load_venue_ref(conn, args.target)

        venue = _with_context(settings, work)
    data = dumps_venue(venue, args.format)
    if args.out:
        Path(args.out).write_bytes(data)
    else:
        sys.stdout.buffer.write(data + b"\n")
    print(f"exported {venue.name!r}: {venue.seat_count} seats", file=sys.stderr)
    return 0


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    """Write a synthetic venue file."""

    if args.seats < 1 or args.seats > 1_000_000:
        raise SeatmapError("--seats must be between 1 and 1000000")
    venue = generate_venue(args.kind, args.seats, args.seed)
    write_native(venue, Path(args.out))
    print(f"wrote {args.out}: {venue.seat_count} seats", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the whole app with uvicorn (embedded servers started once, here)."""

    return serve(
        settings, host=args.host, port=args.port, workers=args.workers, migrate=not args.no_migrate
    )


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Generate, import, open an event, render, then serve and print the viewer URL."""

    return run_demo(settings, kind=args.kind, seats=args.seats, host=args.host, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="seatmap", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)

    p = sub.add_parser("import", help="import a venue file; prints the venue id")
    p.add_argument("file")
    p.add_argument("--format", choices=["auto", "seatmap", "pretix"], default="auto")
    p.add_argument("--name", default=None)
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("create-event", help="create an event; prints the event id")
    p.add_argument("--venue", type=int, required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--starts-at", default=None, help="ISO 8601 time")
    p.add_argument("--no-render", action="store_true", help="skip tile pre-rendering")
    add_rule_options(p)
    p.set_defaults(run=cmd_create_event)

    sub.add_parser("venues", help="list venues").set_defaults(run=cmd_venues)
    sub.add_parser("events", help="list events").set_defaults(run=cmd_events)

    p = sub.add_parser("render", help="pre-render a venue's tile pyramid")
    p.add_argument("venue", type=int)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    p.set_defaults(run=cmd_render)

    p = sub.add_parser("export", help="write a venue as native or pretix JSON")
    p.add_argument("target", help="venue:ID, event:ID, a venue id, or a venue file")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="seatmap")
    p.add_argument("--out", default=None, help="file to write (default: standard output)")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("generate-venue", help="write a synthetic venue file")
    p.add_argument("--kind", choices=["theater", "arena", "stadium"], default="arena")
    p.add_argument("--seats", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_generate)

    for name, run in (("serve", cmd_serve), ("demo", cmd_demo)):
        p = sub.add_parser(name, help="serve the app" if name == "serve" else "run the demo")
        p.add_argument("--host", default=None)
        p.add_argument("--port", type=int, default=None)
        if name == "serve":
            p.add_argument("--workers", type=int, default=None)
            p.add_argument(
                "--no-migrate",
                action="store_true",
                help="do not apply pending migrations at start-up (refuse to start instead)",
            )
        else:
            p.add_argument("--kind", choices=["theater", "arena", "stadium"], default="arena")
            p.add_argument("--seats", type=int, default=20_000)
        p.set_defaults(run=run)
    cli_reports.add_commands(sub)
    cli_backup.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `seatmap` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
        code: int = args.run(args, settings)
        return code
    except VenueFormatError as exc:
        print(f"seatmap: {exc}", file=sys.stderr)
        return 1
    except SeatmapError as exc:
        print(f"seatmap: {exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a one-line message, never a traceback
        if args.verbose:
            raise
        print(f"seatmap: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
