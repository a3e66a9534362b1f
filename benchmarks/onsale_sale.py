"""The on-sale benchmark's sale: the venue, the event, and the plan buyers pick seats from."""

from __future__ import annotations

import argparse
import json
import math
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scratch

from seatmap.events import EventRules
from seatmap.grid import grid_for
from seatmap.model import NO_NEIGHBOUR, SeatType, Venue
from seatmap.settings import Settings


@dataclass
class Run:
    """What one on-sale run works with: its options, where its state lives, the sale."""

    args: argparse.Namespace
    out: Path
    database_url: str
    redis_url: str
    prefix: str
    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    event_id: int = 0
    venue: Venue | None = None


def build_venue(kind: str, seats: int, seed: int) -> Venue:
    """The synthetic venue of the run (a grid hall if the generator is unavailable)."""
    try:
        from seatmap.generator import generate_venue
    except ImportError:
        sys.path.insert(0, str(scratch.ROOT))
        from tests.venues import grid_venue

        per_section = 400
        return grid_venue(sections=max(1, seats // per_section), rows=20, seats_per_row=20)
    return generate_venue(kind, seats, seed)  # type: ignore[arg-type]


def settings_for(run: Run) -> Settings:
    """Settings of the provisioning step and of the server."""
    return Settings(
        database_url=run.database_url,
        redis_url=run.redis_url,
        data_dir=run.out / "data",
        api_key=run.api_key,
        session_secret=secrets.token_urlsafe(24),
        redis_prefix=run.prefix,
        log_json=True,
    )


async def open_sale(run: Run, settings: Settings) -> int:
    """Migrate, import the venue and open the event (live state in Redis, tiles pre-rendered)."""
    from seatmap.runtime import open_context
    from seatmap_app.operations import import_venue, open_event

    assert run.venue is not None
    rules = EventRules(
        max_seats_per_buyer=8, hold_ttl_s=run.args.hold_ttl, max_hold_s=run.args.hold_ttl * 4
    )
    async with open_context(settings) as ctx:
        venue_id = await import_venue(ctx, run.venue, "seatmap")
        event = await open_event(ctx, venue_id, "On-sale benchmark", rules=rules, progress=True)
        return event.id


def write_plan(run: Run, path: Path) -> None:
    """The buyers' view of the venue: pyramid size and blocks of adjacent seats to pick from."""
    venue = run.venue
    assert venue is not None
    grid = grid_for(venue)
    seats = venue.seats
    fx, fy = venue.focal_point
    reach = max(venue.width, venue.height) / 4
    blocks: list[dict[str, Any]] = []
    for row in venue.rows:
        run_of: list[int] = []
        for index in (*row.seat_indices, -1):
            usable = index >= 0 and seats.seat_type[index] == SeatType.STANDARD
            if usable:
                run_of.append(index)
            if run_of and (not usable or seats.right[index] == NO_NEIGHBOUR):
                if len(run_of) >= 2:
                    cx = float(seats.x[run_of].mean())
                    cy = float(seats.y[run_of].mean())
                    distance = math.hypot(cx - fx, cy - fy)
                    blocks.append(
                        {
                            "ids": [seats.external_ids[i] for i in run_of],
                            "section": venue.sections[row.section_index].name,
                            "cx0": cx * grid.scale0,
                            "cy0": cy * grid.scale0,
                            "weight": round(math.exp(-distance / reach), 6),
                            "distance": distance,
                        }
                    )
                run_of = []
    by_distance = sorted(blocks, key=lambda b: b["distance"])
    popular = list(dict.fromkeys(b["section"] for b in by_distance))[:6]
    plan = {
        "event_id": run.event_id,
        "world_px0": [venue.width * grid.scale0, venue.height * grid.scale0],
        "max_zoom": grid.max_zoom,
        "detail_zoom": grid.detail_lod_zoom,
        "popular_sections": popular,
        "blocks": blocks,
    }
    path.write_text(json.dumps(plan))
