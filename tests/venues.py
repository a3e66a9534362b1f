"""Small venues built in code for tests, plus a helper to store one with an event."""

from __future__ import annotations

from seatmap.context import ServiceContext
from seatmap.events import EventRules, create_event
from seatmap.model import Area, SeatType, Venue
from seatmap.venuebuild import SeatRecord, VenueBuilder
from seatmap.venuestore import save_venue

SEAT_PITCH = 20.0
SEAT_RADIUS = 8.0


def grid_venue(
    sections: int = 2,
    rows: int = 6,
    seats_per_row: int = 12,
    aisle_after: int | None = 6,
    name: str = "Test Hall",
) -> Venue:
    """Sections side by side, each with straight rows facing a stage at the top.

    Section s is named "10{s+1}", rows "A".., seats numbered 1.. left to right; an
    aisle gap follows seat `aisle_after` in every row; seat 1 of row A is a
    wheelchair place and seat 2 its companion. Categories: front rows cost more.
    """
    section_width = seats_per_row * SEAT_PITCH + (SEAT_PITCH if aisle_after else 0) + 40
    width = sections * section_width + 40
    top = 120.0
    height = top + rows * SEAT_PITCH + 60
    builder = VenueBuilder(name, width, height)
    builder.focal_point = (width / 2, 40.0)
    premium = builder.add_category("premium", "Premium", "#1f6feb", 8000)
    standard = builder.add_category("standard", "Standard", "#2da44e", 5000)
    builder.add_area(Area("rect", ((40.0, 20.0), (width - 40.0, 70.0)), fill="#444444"))
    builder.add_area(Area("text", ((width / 2, 45.0),), text="STAGE", text_color="#ffffff"))
    for s in range(sections):
        x0 = 20 + s * section_width
        outline = (
            (x0, top - 15),
            (x0 + section_width - 20, top - 15),
            (x0 + section_width - 20, top + rows * SEAT_PITCH + 5),
            (x0, top + rows * SEAT_PITCH + 5),
        )
        sec = builder.add_section(f"sec{s + 1}", f"10{s + 1}", "#eeeeee", outline)
        for r in range(rows):
            label = chr(ord("A") + r)
            records = []
            for n in range(seats_per_row):
                gap = SEAT_PITCH if aisle_after and n >= aisle_after else 0.0
                seat_type = SeatType.STANDARD
                if r == 0 and n == 0:
                    seat_type = SeatType.WHEELCHAIR
                elif r == 0 and n == 1:
                    seat_type = SeatType.COMPANION
                records.append(
                    SeatRecord(
                        external_id=f"s{s + 1}-{label}-{n + 1}",
                        label=str(n + 1),
                        x=x0 + 20 + n * SEAT_PITCH + gap,
                        y=top + r * SEAT_PITCH,
                        category_index=premium if r < 2 else standard,
                        radius=SEAT_RADIUS,
                        accessible=seat_type is SeatType.WHEELCHAIR,
                        seat_type=seat_type,
                        gap_before=bool(aisle_after) and n == aisle_after,
                    )
                )
            builder.add_row(sec, label, records)
    return builder.build()


async def store_event(
    ctx: ServiceContext, venue: Venue, rules: EventRules | None = None, title: str = "Test Night"
) -> int:
    """Save the venue and create an event on it; return the event id."""
    async with ctx.pool.acquire() as conn:
        venue_id = await save_venue(conn, venue, "test")
        event = await create_event(conn, venue_id, title, rules=rules)
    return event.id
