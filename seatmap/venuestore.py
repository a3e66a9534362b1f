"""Save venues to PostgreSQL (one transaction, seats by COPY) and load them back."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import asyncpg
import numpy as np
import orjson

from seatmap.errors import BadRequest, NotFound
from seatmap.model import Area, Category, Row, SeatTable, Section, Venue

SEAT_COLUMNS = (
    "venue_id",
    "seat_index",
    "external_id",
    "label",
    "section_index",
    "row_index",
    "category_index",
    "x",
    "y",
    "radius",
    "accessible",
    "seat_type",
    "left_neighbour",
    "right_neighbour",
    "source_id",
)


async def save_venue(conn: asyncpg.Connection, venue: Venue, source_format: str) -> int:
    """Insert a whole venue in one transaction and return its new id.

    Either every row lands or none does: a failure rolls the transaction back.
    """
    async with conn.transaction():
        venue_id: int = await conn.fetchval(
            """INSERT INTO venues (name, content_hash, source_format, width, height,
                                   focal_x, focal_y, areas, seat_count)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) RETURNING id""",
            venue.name,
            venue.content_hash,
            source_format,
            venue.width,
            venue.height,
            venue.focal_point[0],
            venue.focal_point[1],
            orjson.dumps([asdict(a) for a in venue.areas]).decode(),
            venue.seat_count,
        )
        await conn.copy_records_to_table(
            "categories",
            records=[
                (venue_id, c.index, c.external_id, c.name, c.color, c.price_cents)
                for c in venue.categories
            ],
        )
        await conn.copy_records_to_table(
            "sections",
            records=[
                (
                    venue_id,
                    s.index,
                    s.external_id,
                    s.name,
                    s.color,
                    orjson.dumps(s.outline).decode(),
                )
                for s in venue.sections
            ],
        )
        await conn.copy_records_to_table(
            "seat_rows",
            records=[(venue_id, r.index, r.section_index, r.label) for r in venue.rows],
        )
        await conn.copy_records_to_table(
            "seats", records=_seat_records(venue_id, venue), columns=SEAT_COLUMNS
        )
    return venue_id


def _seat_records(venue_id: int, venue: Venue) -> list[tuple[Any, ...]]:
    s = venue.seats
    return list(
        zip(
            [venue_id] * len(s),
            range(len(s)),
            s.external_ids,
            s.labels,
            s.section.tolist(),
            s.row.tolist(),
            s.category.tolist(),
            s.x.tolist(),
            s.y.tolist(),
            s.radius.tolist(),
            s.accessible.tolist(),
            s.seat_type.tolist(),
            s.left.tolist(),
            s.right.tolist(),
            _differing_source_ids(s),
            strict=True,
        )
    )


def _differing_source_ids(seats: SeatTable) -> list[str | None]:
    """Each seat's source id where it differs from its external id, else None."""
    if not seats.source_ids:
        return [None] * len(seats)
    return [
        None if source == external else source
        for source, external in zip(seats.source_ids, seats.external_ids, strict=True)
    ]


async def load_venue(conn: asyncpg.Connection, venue_id: int) -> Venue:
    """Load a venue by id; raises NotFound if there is none."""
    head = await conn.fetchrow("SELECT * FROM venues WHERE id = $1", venue_id)
    if head is None:
        raise NotFound(f"venue {venue_id} does not exist", venue_id=venue_id)
    categories = tuple(
        Category(r["category_index"], r["external_id"], r["name"], r["color"], r["price_cents"])
        for r in await conn.fetch(
            "SELECT * FROM categories WHERE venue_id = $1 ORDER BY category_index", venue_id
        )
    )
    sections = tuple(
        Section(
            r["section_index"],
            r["external_id"],
            r["name"],
            r["color"],
            tuple((float(p[0]), float(p[1])) for p in orjson.loads(r["outline"])),
        )
        for r in await conn.fetch(
            "SELECT * FROM sections WHERE venue_id = $1 ORDER BY section_index", venue_id
        )
    )
    row_heads = await conn.fetch(
        "SELECT row_index, section_index, label FROM seat_rows WHERE venue_id = $1 "
        "ORDER BY row_index",
        venue_id,
    )
    records = await conn.fetch(
        "SELECT external_id, label, section_index, row_index, category_index, x, y, radius, "
        "accessible, seat_type, left_neighbour, right_neighbour, source_id FROM seats "
        "WHERE venue_id = $1 ORDER BY seat_index",
        venue_id,
    )
    table = _seat_table(records)
    order = np.argsort(table.row, kind="stable")
    boundaries = np.searchsorted(table.row[order], np.arange(len(row_heads) + 1))
    rows = tuple(
        Row(
            r["row_index"],
            r["section_index"],
            r["label"],
            tuple(order[boundaries[i] : boundaries[i + 1]].tolist()),
        )
        for i, r in enumerate(row_heads)
    )
    areas = tuple(_area(a) for a in orjson.loads(head["areas"]))
    return Venue(
        name=head["name"],
        width=head["width"],
        height=head["height"],
        categories=categories,
        sections=sections,
        rows=rows,
        areas=areas,
        seats=table,
        focal_point=(head["focal_x"], head["focal_y"]),
        id=venue_id,
        _hash=head["content_hash"],
    )


def _seat_table(records: list[asyncpg.Record]) -> SeatTable:
    columns = list(zip(*records, strict=True)) if records else [()] * 13
    sources = columns[12]
    return SeatTable(
        external_ids=tuple(columns[0]),
        labels=tuple(columns[1]),
        section=np.array(columns[2], dtype=np.int32),
        row=np.array(columns[3], dtype=np.int32),
        category=np.array(columns[4], dtype=np.int16),
        x=np.array(columns[5], dtype=np.float32),
        y=np.array(columns[6], dtype=np.float32),
        radius=np.array(columns[7], dtype=np.float32),
        accessible=np.array(columns[8], dtype=np.bool_),
        seat_type=np.array(columns[9], dtype=np.uint8),
        left=np.array(columns[10], dtype=np.int32),
        right=np.array(columns[11], dtype=np.int32),
        source_ids=(
            tuple(s if s is not None else e for s, e in zip(sources, columns[0], strict=True))
            if any(s is not None for s in sources)
            else ()
        ),
    )


def _area(raw: dict[str, Any]) -> Area:
    raw = dict(raw)
    raw["points"] = tuple((float(p[0]), float(p[1])) for p in raw["points"])
    return Area(**raw)


async def list_venues(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every venue's id, name, seat count, content hash and creation time."""
    return list(
        await conn.fetch(
            "SELECT id, name, seat_count, content_hash, source_format, created_at "
            "FROM venues ORDER BY id"
        )
    )


async def load_venue_ref(conn: asyncpg.Connection, ref: str) -> Venue:
    """Load the venue named by "venue:ID", "event:ID" (that event's venue) or a bare venue id."""
    kind, _, number = ref.rpartition(":")
    if kind not in ("", "venue", "event") or not number.isascii() or not number.isdigit():
        raise BadRequest(f"{ref!r} is not a venue or event: expected venue:ID, event:ID or ID")
    if kind != "event":
        return await load_venue(conn, int(number))
    venue_id = await conn.fetchval("SELECT venue_id FROM events WHERE id = $1", int(number))
    if venue_id is None:
        raise NotFound(f"event {number} does not exist", event_id=int(number))
    return await load_venue(conn, int(venue_id))
