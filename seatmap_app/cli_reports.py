"""`seatmap report EVENT`: an event's status, sales or sold-seat report as CSV or JSON.

The same reports as `GET /events/{id}/reports/...`, read straight from
PostgreSQL and Redis. The sold-seat listing is written as it is read, one
batch at a time. With `--out`, the file appears whole or not at all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from lockservice.reports_build import read_statuses, sales_report, status_report
from lockservice.reports_groups import GROUP_BY
from lockservice.reports_write import report_csv, report_json, sold_seat_chunks
from seatmap.context import EventView, ServiceContext
from seatmap.settings import Settings
from seatmap_app.clirun import with_context

KINDS = ("status", "sales", "sold-seats")


def add_commands(sub: Any) -> None:
    """Add the `report` command to the `seatmap` subcommands."""
    p = sub.add_parser("report", help="write an event's status, sales or sold-seat report")
    p.add_argument("event", type=int, help="the event id")
    p.add_argument("--kind", choices=KINDS, default="status")
    p.add_argument("--by", choices=GROUP_BY, default="section",
                   help="how status and sales reports group seats (default: section)")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--out", default=None, help="file to write (default: standard output)")
    p.set_defaults(run=cmd_report)


async def _chunks(ctx: ServiceContext, view: EventView, args: argparse.Namespace
                  ) -> AsyncIterator[bytes]:
    """The report's bytes, in one piece or (the sold-seat listing) batch by batch."""
    if args.kind == "sold-seats":
        async for chunk in sold_seat_chunks(ctx, view, args.format):
            yield chunk
        return
    if args.kind == "status":
        report = status_report(view, args.by, await read_statuses(ctx, view))
    else:
        report = await sales_report(ctx, view, args.by)
    yield report_csv(report) if args.format == "csv" else report_json(report) + b"\n"


@contextlib.contextmanager
def _output(out: str | None) -> Iterator[BinaryIO]:
    """Standard output, or a file that is renamed into place only once complete."""
    if out is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(out)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("wb") as stream:
            yield stream
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Write the report; an unknown event is one line on stderr and exit 1."""

    async def work(ctx: ServiceContext) -> None:
        view = await ctx.catalog.get(args.event)
        with _output(args.out) as stream:
            async for chunk in _chunks(ctx, view, args):
                stream.write(chunk)

    with_context(settings, work)
    if args.out:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
