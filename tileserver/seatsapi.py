"""Seat lookups for the interactive viewer: seats in a box (binary), nearest seat, one seat.

`seats.bin` layout (little-endian), documented in docs/tiles.md:
  header:  4s magic "SEAT", u32 format version (1), u32 count
  records: count x {u32 seat_index, f32 x, f32 y, f32 radius,
                    u8 status, u8 category, u8 flags, u8 pad}   (20 bytes)
  flags: bit 0 accessible, bit 1 wheelchair place, bit 2 companion seat.
Statuses are public ones (a sale in progress reads as held). The response's
`X-Status-Version` header is the change-log id the statuses are current to.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt

from seatmap.model import SeatType, Venue
from seatmap.status import PUBLIC_STATUS, STATUS_NAMES
from tileserver.errors import TileNotFound
from tileserver.render.geometry import Box

SEATS_MAGIC = b"SEAT"
SEATS_FORMAT_VERSION = 1
SEAT_RECORD = np.dtype(
    [("index", "<u4"), ("x", "<f4"), ("y", "<f4"), ("radius", "<f4"),
     ("status", "u1"), ("category", "u1"), ("flags", "u1"), ("pad", "u1")]
)
FLAG_ACCESSIBLE, FLAG_WHEELCHAIR, FLAG_COMPANION = 1, 2, 4

_PUBLIC = np.arange(256, dtype=np.uint8)
for _raw, _public in PUBLIC_STATUS.items():
    _PUBLIC[_raw] = _public


def public_statuses(statuses: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Statuses as buyers see them (confirming -> held)."""
    return _PUBLIC.take(statuses)


def seat_flags(venue: Venue) -> npt.NDArray[np.uint8]:
    """The flags byte of every seat."""
    seats = venue.seats
    flags = seats.accessible.astype(np.uint8) * FLAG_ACCESSIBLE
    flags |= (seats.seat_type == SeatType.WHEELCHAIR).astype(np.uint8) * FLAG_WHEELCHAIR
    flags |= (seats.seat_type == SeatType.COMPANION).astype(np.uint8) * FLAG_COMPANION
    return flags


def seats_in(venue: Venue, box: Box | None) -> npt.NDArray[np.int64]:
    """Indices of seats whose centre lies in the box (every seat when None)."""
    if box is None:
        return np.arange(venue.seat_count, dtype=np.int64)
    s = venue.seats
    keep = (s.x >= box[0]) & (s.x <= box[2]) & (s.y >= box[1]) & (s.y <= box[3])
    return np.flatnonzero(keep).astype(np.int64)


def seats_bin(venue: Venue, statuses: npt.NDArray[np.uint8], box: Box | None) -> bytes:
    """The binary seat list of a box with current statuses."""
    ids = seats_in(venue, box)
    s = venue.seats
    out = np.zeros(ids.size, dtype=SEAT_RECORD)
    out["index"] = ids
    out["x"] = s.x[ids]
    out["y"] = s.y[ids]
    out["radius"] = s.radius[ids]
    out["status"] = public_statuses(statuses[ids])
    out["category"] = s.category[ids].astype(np.uint8)
    out["flags"] = seat_flags(venue)[ids]
    header = struct.pack("<4sII", SEATS_MAGIC, SEATS_FORMAT_VERSION, ids.size)
    return header + out.tobytes()


def nearest_seat(venue: Venue, x: float, y: float, r: float) -> int | None:
    """The seat whose centre is nearest (x, y) within r venue units, if any."""
    s = venue.seats
    near = np.flatnonzero((np.abs(s.x - x) <= r) & (np.abs(s.y - y) <= r))
    if near.size == 0:
        return None
    d2 = (s.x[near] - x) ** 2 + (s.y[near] - y) ** 2
    best = int(np.argmin(d2))
    return int(near[best]) if float(d2[best]) <= r * r else None


def seat_json(venue: Venue, statuses: npt.NDArray[np.uint8], index: int) -> dict[str, Any]:
    """Everything about one seat a buyer needs, with its current status."""
    if not 0 <= index < venue.seat_count:
        raise TileNotFound(f"seat {index} does not exist", seat_index=index)
    s = venue.seats
    section = venue.sections[int(s.section[index])]
    row = venue.rows[int(s.row[index])]
    category = venue.categories[int(s.category[index])]
    status = int(PUBLIC_STATUS.get(int(statuses[index]), int(statuses[index])))
    return {
        "index": index,
        "id": s.external_ids[index],
        "label": venue.full_label(index),
        "section": section.name,
        "row": row.label,
        "seat": s.labels[index],
        "category": category.name,
        "category_index": category.index,
        "color": category.color,
        "price_cents": category.price_cents,
        "status": STATUS_NAMES.get(status, "unknown"),
        "accessible": bool(s.accessible[index]),
        "seat_type": SeatType(int(s.seat_type[index])).name.lower(),
        "x": float(s.x[index]),
        "y": float(s.y[index]),
        "radius": float(s.radius[index]),
    }
