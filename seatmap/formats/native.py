"""The project's own venue JSON format: reader and writer.

The format is described in docs/venue-format.md and by `seatmap/venue.schema.json`.
Reading validates the whole file (schema, then meaning: unique ids, known
categories, finite coordinates inside the venue, every seat inside its section's
outline) before anything is returned.
"""

from __future__ import annotations

import os
from typing import IO, Any

import numpy as np
import orjson

from seatmap.errors import VenueFormatError
from seatmap.formats._geometry import points_in_polygon
from seatmap.formats._native_areas import area_document, point, read_area
from seatmap.formats._schema import validate_native_schema
from seatmap.formats._source import DEFAULT_MAX_BYTES, decode_json, read_bytes
from seatmap.formats.jsonpath import check_number, child, join
from seatmap.model import NO_NEIGHBOUR, SeatType, Venue
from seatmap.venuebuild import SeatRecord, VenueBuilder

FORMAT_NAME = "seatmap-venue"
FORMAT_VERSION = 1
DEFAULT_SEAT_RADIUS = 5.0

_SEAT_TYPE_BY_NAME = {
    "standard": SeatType.STANDARD,
    "wheelchair": SeatType.WHEELCHAIR,
    "companion": SeatType.COMPANION,
    "restricted_view": SeatType.RESTRICTED_VIEW,
}
_SEAT_TYPE_NAME = {int(v): k for k, v in _SEAT_TYPE_BY_NAME.items()}


def read_native(
    path: str | os.PathLike[str], *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Venue:
    """Read and fully validate a native venue file; errors name the file and JSON path."""
    file = os.fspath(path)
    try:
        return parse_native(decode_json(read_bytes(path, max_bytes), file, max_bytes), name=name)
    except VenueFormatError as exc:
        exc.file = exc.file or file
        raise


def parse_native(doc: object, name: str | None = None) -> Venue:
    """Validate a decoded native document and build its venue; `name` overrides its name."""
    validate_native_schema(doc)
    assert isinstance(doc, dict)  # the schema guarantees it
    width = check_number(doc["width"], "$.width")
    height = check_number(doc["height"], "$.height")
    builder = VenueBuilder(name or doc["name"], width, height)
    if "focal_point" in doc:
        builder.focal_point = point(doc["focal_point"], "$.focal_point")
    category_index = _add_categories(builder, doc["categories"])
    default_radius = check_number(doc.get("seat_radius", DEFAULT_SEAT_RADIUS), "$.seat_radius")
    section_ids: set[str] = set()
    for si, section in enumerate(doc["sections"]):
        path = join(("sections", si))
        if section["id"] in section_ids:
            message = f"duplicate section id {section['id']!r}"
            raise VenueFormatError(message, path=child(path, "id"))
        section_ids.add(section["id"])
        _add_section(builder, section, path, category_index, default_radius)
    for ai, area in enumerate(doc.get("areas", [])):
        builder.add_area(read_area(area, join(("areas", ai))))
    if not doc["sections"]:
        raise VenueFormatError("venue has no seats", path="$.sections")
    return builder.build()


def _add_categories(builder: VenueBuilder, categories: list[dict[str, Any]]) -> dict[str, int]:
    index: dict[str, int] = {}
    for ci, category in enumerate(categories):
        cid = category["id"]
        if cid in index:
            raise VenueFormatError(f"duplicate category id {cid!r}", path=f"$.categories[{ci}].id")
        index[cid] = builder.add_category(
            cid, category["name"], category["color"], int(category["price_cents"])
        )
    return index


def _add_section(
    builder: VenueBuilder,
    section: dict[str, Any],
    path: str,
    category_index: dict[str, int],
    default_radius: float,
) -> None:
    outline = tuple(point(p, f"{path}.outline[{k}]") for k, p in enumerate(section["outline"]))
    rows: list[tuple[str, list[SeatRecord]]] = []
    row_labels: set[str] = set()
    if not section["rows"]:
        raise VenueFormatError("section has no rows", path=child(path, "rows"))
    for ri, row in enumerate(section["rows"]):
        row_path = f"{path}.rows[{ri}]"
        if row["label"] in row_labels:
            raise VenueFormatError(f"duplicate row label {row['label']!r}", row_path + ".label")
        row_labels.add(row["label"])
        rows.append((row["label"], _row_seats(row, row_path, category_index, default_radius)))
    records = [record for _, seats in rows for record in seats]
    _check_seat_geometry(records, np.array(outline, dtype=np.float64), builder)
    section_index = builder.add_section(section["id"], section["name"], section["color"], outline)
    for label, seats in rows:
        builder.add_row(section_index, label, seats)


def _row_seats(
    row: dict[str, Any], path: str, category_index: dict[str, int], default_radius: float
) -> list[SeatRecord]:
    if not row["seats"]:
        raise VenueFormatError("row has no seats", path=path + ".seats")
    records: list[SeatRecord] = []
    labels: set[str] = set()
    for k, seat in enumerate(row["seats"]):
        where = f"{path}.seats[{k}]"
        category = category_index.get(seat["category"])
        if category is None:
            raise VenueFormatError(f"unknown category {seat['category']!r}", where + ".category")
        if seat["label"] in labels:
            message = f"duplicate seat label {seat['label']!r} in row"
            raise VenueFormatError(message, path=where + ".label")
        labels.add(seat["label"])
        kind = _SEAT_TYPE_BY_NAME[seat.get("type", "standard")]
        records.append(
            SeatRecord(
                external_id=seat["id"],
                label=seat["label"],
                x=float(seat["x"]),
                y=float(seat["y"]),
                category_index=category,
                radius=float(seat.get("radius", default_radius)),
                accessible=seat.get("accessible", False),
                seat_type=kind,
                gap_before=seat.get("gap_before", False),
                where=where,
                source_id=seat.get("source_id"),
            )
        )
    return records


def _check_seat_geometry(
    records: list[SeatRecord], outline: np.ndarray[Any, Any], builder: VenueBuilder
) -> None:
    """Finite coordinates, a positive radius, inside the venue and inside the outline."""
    x = np.fromiter((r.x for r in records), dtype=np.float64, count=len(records))
    y = np.fromiter((r.y for r in records), dtype=np.float64, count=len(records))
    radius = np.fromiter((r.radius for r in records), dtype=np.float64, count=len(records))
    checks = (
        (~np.isfinite(x), "x", "is not a finite number"),
        (~np.isfinite(y), "y", "is not a finite number"),
        (~(np.isfinite(radius) & (radius > 0)), "radius", "must be a finite number > 0"),
        ((x < 0) | (x > builder.width), "x", f"is outside the venue (0..{builder.width:g})"),
        ((y < 0) | (y > builder.height), "y", f"is outside the venue (0..{builder.height:g})"),
        (~points_in_polygon(x, y, outline), "", "seat centre is outside its section's outline"),
    )
    for bad, key, message in checks:
        if bad.any():
            record = records[int(np.argmax(bad))]
            where = f"{record.where}.{key}" if key else record.where
            raise VenueFormatError(message, path=where)


def native_document(venue: Venue) -> dict[str, Any]:
    """The venue as a native-format JSON document (plain dicts and lists)."""
    seats = venue.seats
    radius_values, radius_counts = np.unique(seats.radius, return_counts=True)
    seat_radius = short_floats(radius_values[int(np.argmax(radius_counts))].reshape(1))[0]
    xs, ys, radii = (short_floats(c) for c in (seats.x, seats.y, seats.radius))
    category_ids = [c.external_id for c in venue.categories]
    category, accessible = seats.category.tolist(), seats.accessible.tolist()
    seat_type, left = seats.seat_type.tolist(), seats.left.tolist()
    rows_by_section: list[list[dict[str, Any]]] = [[] for _ in venue.sections]
    for row in venue.rows:
        out: list[dict[str, Any]] = []
        for offset, i in enumerate(row.seat_indices):
            seat: dict[str, Any] = {
                "id": seats.external_ids[i],
                "label": seats.labels[i],
                "x": xs[i],
                "y": ys[i],
                "category": category_ids[category[i]],
            }
            if radii[i] != seat_radius:
                seat["radius"] = radii[i]
            if accessible[i]:
                seat["accessible"] = True
            if seat_type[i]:
                seat["type"] = _SEAT_TYPE_NAME[seat_type[i]]
            if offset and left[i] == NO_NEIGHBOUR:
                seat["gap_before"] = True
            if seats.source_ids and seats.source_ids[i] != seats.external_ids[i]:
                seat["source_id"] = seats.source_ids[i]
            out.append(seat)
        rows_by_section[row.section_index].append({"label": row.label, "seats": out})
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": venue.name,
        "width": venue.width,
        "height": venue.height,
        "focal_point": list(venue.focal_point),
        "seat_radius": seat_radius,
        "categories": [
            {"id": c.external_id, "name": c.name, "color": c.color, "price_cents": c.price_cents}
            for c in venue.categories
        ],
        "sections": [
            {
                "id": s.external_id,
                "name": s.name,
                "color": s.color,
                "outline": [list(p) for p in s.outline],
                "rows": rows_by_section[s.index],
            }
            for s in venue.sections
        ],
        "areas": [area_document(a) for a in venue.areas],
    }


def short_floats(column: np.ndarray[Any, Any]) -> list[float]:
    """float32 values as the shortest decimals that read back to the same float32."""
    return [float(v) for v in np.asarray(column, dtype=np.float32).astype(str).tolist()]


def dumps_native(venue: Venue) -> bytes:
    """The venue as native-format JSON bytes."""
    return orjson.dumps(native_document(venue))


def write_native(venue: Venue, path_or_file: str | os.PathLike[str] | IO[bytes]) -> None:
    """Write the venue in the native format to a path or a binary file object."""
    data = dumps_native(venue)
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "wb") as handle:
            handle.write(data)
    else:
        path_or_file.write(data)
