"""Seat status codes: one byte per seat, shared by every part of the system."""

from __future__ import annotations

from enum import IntEnum


class SeatStatus(IntEnum):
    """The live state of one seat for one event.

    CONFIRMING is a hold whose sale is being written to PostgreSQL; it is drawn
    as held and cannot expire.
    """

    AVAILABLE = 0
    HELD = 1
    SOLD = 2
    BLOCKED = 3
    CONFIRMING = 4


STATUS_NAMES: dict[int, str] = {s.value: s.name.lower() for s in SeatStatus}

# The statuses a buyer sees; CONFIRMING looks like HELD from outside.
PUBLIC_STATUS: dict[int, int] = {
    SeatStatus.AVAILABLE: SeatStatus.AVAILABLE,
    SeatStatus.HELD: SeatStatus.HELD,
    SeatStatus.SOLD: SeatStatus.SOLD,
    SeatStatus.BLOCKED: SeatStatus.BLOCKED,
    SeatStatus.CONFIRMING: SeatStatus.HELD,
}
