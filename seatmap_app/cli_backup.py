"""`seatmap backup` and `seatmap restore`: one event to one file and back (docs/backup.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lockservice.backup_capture import capture_event
from lockservice.backup_format import Payload, encode_backup
from lockservice.backup_restore import RestoreResult, read_backup, restore_event
from seatmap.context import ServiceContext
from seatmap.errors import SeatmapError
from seatmap.settings import Settings
from seatmap_app.clirun import with_context
from seatmap_app.operations import render_event_tiles


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Write one event's backup file; a summary goes to standard error."""
    out = Path(args.out)
    if not out.parent.is_dir():
        raise SeatmapError(f"{out.parent}: no such directory")

    async def work(ctx: ServiceContext) -> Payload:
        return await capture_event(ctx, args.event, with_venue=not args.no_venue)

    payload: Payload = with_context(settings, work)
    data = encode_backup(payload)
    # Written beside the target and renamed, so a crash never leaves half a backup there.
    scratch = out.with_name(f".{out.name}.partial")
    scratch.write_bytes(data)
    os.replace(scratch, out)
    print(
        f"backed up event {payload.event.id} to {out}: {len(payload.orders)} orders, "
        f"{len(payload.holds)} open holds, {len(payload.blocked)} blocked seats, "
        f"{payload.venue.seat_count} seats ({len(data)} bytes)",
        file=sys.stderr,
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Recreate an event from a backup file, print its id; nothing is written on refusal."""
    payload = read_backup(Path(args.file))

    async def work(ctx: ServiceContext) -> RestoreResult:
        result = await restore_event(ctx, payload, args.event_id, replace=args.replace)
        if not args.no_render:
            await render_event_tiles(ctx, result.event_id)
        return result

    result: RestoreResult = with_context(settings, work)
    print(result.event_id)
    venue = "imported" if result.venue_imported else "found"
    ids = "kept" if result.order_ids_kept else "renumbered"
    print(
        f"restored event {result.event_id} on venue {result.venue_id} ({venue}): "
        f"{result.orders} orders (ids {ids}), {result.holds} open holds, "
        f"{result.blocked} blocked seats",
        file=sys.stderr,
    )
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `backup` and `restore` on the `seatmap` command line."""
    p = sub.add_parser("backup", help="write one event (sales, holds, blocks, venue) to a file")
    p.add_argument("event", type=int)
    p.add_argument("--out", required=True, help="the backup file to write (gzip JSON)")
    p.add_argument(
        "--no-venue", action="store_true", help="leave the venue out (keep its content hash)"
    )
    p.set_defaults(run=cmd_backup)

    p = sub.add_parser("restore", help="recreate an event from a backup file; prints its id")
    p.add_argument("file")
    p.add_argument("--event-id", type=int, default=None, help="restore as this event id")
    p.add_argument(
        "--replace", action="store_true", help="overwrite an event that exists with that id"
    )
    p.add_argument("--no-render", action="store_true", help="skip tile pre-rendering")
    p.set_defaults(run=cmd_restore)
